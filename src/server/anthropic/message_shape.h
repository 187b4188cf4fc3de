// Pieces of the Messages response that the streamed and the complete answer share, so that
// both report the same stop reasons and usage.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "server/generation.h"

namespace agentserve::server::anthropic {

// "msg_" + 24 random alphanumerics.
std::string new_message_id();
std::string new_tool_use_id();  // "toolu_" + 24 base62

// tool_use (the turn ended after complete tool calls), end_turn, stop_sequence, max_tokens, or
// model_context_window_exceeded: the latter also when
// max_tokens was clamped to the room the context left and that room ran out, because the
// client asked for more than it got (Claude Code sends 64000 against small local contexts).
std::string_view stop_reason(const GenerationResult& result, bool max_tokens_clamped);

// The stop_sequence field: the matched string, or null.
nlohmann::ordered_json stop_sequence(const GenerationResult& result);

// Anthropic usage: input_tokens excludes cached tokens (input + cache_creation + cache_read is
// the whole prompt).
nlohmann::ordered_json usage(int32_t prompt_tokens, int32_t cached_tokens, int32_t output_tokens);

// One SSE frame: "event: NAME\ndata: JSON\n\n". The SDK dispatches on the event line and drops
// frames without one.
std::string sse_frame(std::string_view event, const nlohmann::ordered_json& data);

// The error of a generation that failed in the engine: overloaded_error (529) when the server
// ran out of room for it, api_error (500) otherwise.
struct EngineFailure {
  int status;
  std::string message;
};
EngineFailure engine_failure(const GenerationResult& result);

}  // namespace agentserve::server::anthropic
