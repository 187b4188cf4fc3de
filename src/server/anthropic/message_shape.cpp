#include "server/anthropic/message_shape.h"

#include "server/random_id.h"

namespace agentserve::server::anthropic {

using nlohmann::ordered_json;

std::string new_message_id() { return random_id("msg_", 24, IdAlphabet::kBase62); }

std::string new_tool_use_id() { return random_id("toolu_", 24, IdAlphabet::kBase62); }

std::string_view stop_reason(const GenerationResult& result, bool max_tokens_clamped) {
  switch (result.stop) {
    case StopKind::kStopString: return result.tool_calls > 0 ? "tool_use" : "stop_sequence";
    case StopKind::kMaxTokens: return max_tokens_clamped ? "model_context_window_exceeded" : "max_tokens";
    case StopKind::kContextFull: return "model_context_window_exceeded";
    default: return result.tool_calls > 0 ? "tool_use" : "end_turn";
  }
}

ordered_json stop_sequence(const GenerationResult& result) {
  if (result.stop == StopKind::kStopString) return result.stop_string;
  return nullptr;
}

ordered_json usage(int32_t prompt_tokens, int32_t cached_tokens, int32_t output_tokens) {
  return {{"input_tokens", prompt_tokens - cached_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", cached_tokens},
          {"output_tokens", output_tokens}};
}

std::string sse_frame(std::string_view event, const ordered_json& data) {
  std::string frame = "event: ";
  frame += event;
  frame += "\ndata: ";
  frame += data.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  frame += "\n\n";
  return frame;
}

EngineFailure engine_failure(const GenerationResult& result) {
  const bool no_room = result.error.find("memory") != std::string::npos ||
                       result.error.find("overloaded") != std::string::npos;
  return {no_room ? 529 : 500, "generation failed: " + (result.error.empty() ? "unknown error" : result.error)};
}

}  // namespace agentserve::server::anthropic
