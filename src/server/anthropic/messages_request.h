// A POST /v1/messages (or /v1/messages/count_tokens) body, read into what the server acts on:
// the conversation to render, the output budget asked for, sampling and stop sequences.
// Fields that only a hosted service can honour (metadata, service_tier, context_management,
// output_config, cache_control anywhere) are accepted and ignored; the API is an open list.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampling_params.h"
#include "server/tool_parsing.h"
#include "text/chat/conversation.h"

namespace agentserve::server::anthropic {

struct MessagesRequest {
  std::string model;                  // as sent: echoed in responses
  chat::Conversation conversation;
  std::optional<int64_t> max_tokens;  // always set for /v1/messages (required there)
  SamplingParams sampling;
  std::vector<std::string> stop_sequences;
  bool stream = false;
  ToolChoice tool_choice;
  bool one_tool_call = false;     // tool_choice.disable_parallel_tool_use: at most one call
  // What the server left out or does not enforce, for one log line per request.
  std::vector<std::string> notes;
};

enum class BodyKind { kMessages, kCountTokens };

// Throws RequestError (400 invalid_request_error) on malformed input. `prompt_hygiene`:
// ServerOptions::prompt_hygiene (prompt_hygiene.h).
MessagesRequest parse_messages_request(const nlohmann::ordered_json& body, BodyKind kind,
                                       bool prompt_hygiene);

}  // namespace agentserve::server::anthropic
