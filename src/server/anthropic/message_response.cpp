#include "server/anthropic/message_response.h"

#include "server/anthropic/message_shape.h"
#include "server/api_errors.h"

namespace agentserve::server::anthropic {

using nlohmann::ordered_json;

ordered_json message_body(const std::string& model, const std::string& reasoning,
                          const std::string& text, const GenerationResult& result,
                          bool max_tokens_clamped) {
  ordered_json content = ordered_json::array();
  if (!reasoning.empty())
    content.push_back({{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
  if (!text.empty()) content.push_back({{"type", "text"}, {"text", text}});
  return {{"id", new_message_id()},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model},
          {"content", std::move(content)},
          {"stop_reason", stop_reason(result, max_tokens_clamped)},
          {"stop_sequence", stop_sequence(result)},
          {"usage", usage(result.prompt_tokens, result.cached_prompt_tokens, result.completion_tokens)}};
}

void MessageResponse::on_finish(const GenerationResult& result) {
  if (result.stop == StopKind::kCancelled) return;  // nobody is listening
  if (result.stop == StopKind::kError) {
    const EngineFailure f = engine_failure(result);
    respond_error(*exchange_, ApiFamily::kAnthropic, {f.status, f.message, "", ""});
    return;
  }
  exchange_->respond(200, "application/json",
                     message_body(model_, reasoning_, text_, result, clamped_)
                         .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

}  // namespace agentserve::server::anthropic
