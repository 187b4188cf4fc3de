#include "server/anthropic/message_shape.h"

#include <random>

namespace agentserve::server::anthropic {

using nlohmann::ordered_json;

std::string new_message_id() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "msg_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

std::string_view stop_reason(const GenerationResult& result, bool max_tokens_clamped) {
  switch (result.stop) {
    case StopKind::kStopString: return "stop_sequence";
    case StopKind::kMaxTokens: return max_tokens_clamped ? "model_context_window_exceeded" : "max_tokens";
    case StopKind::kContextFull: return "model_context_window_exceeded";
    default: return "end_turn";
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
