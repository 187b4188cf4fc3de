#include "server/anthropic/message_response.h"

#include "base/log.h"
#include "server/anthropic/message_shape.h"
#include "server/api_errors.h"

namespace agentserve::server::anthropic {

using nlohmann::ordered_json;

ordered_json message_body(const std::string& model, ordered_json content, const GenerationResult& result,
                          bool max_tokens_clamped) {
  return {{"id", new_message_id()},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model},
          {"content", std::move(content)},
          {"stop_reason", stop_reason(result, max_tokens_clamped)},
          {"stop_sequence", stop_sequence(result)},
          {"usage", usage(result.prompt_tokens, result.cached_prompt_tokens, result.completion_tokens)}};
}

void MessageResponse::append(Block::Kind kind, std::string_view text) {
  if (text.empty()) return;
  if (blocks_.empty() || blocks_.back().kind != kind) blocks_.push_back({kind, "", ""});
  blocks_.back().text += text;
}

void MessageResponse::on_tool_call_begin(int, std::string_view name) {
  blocks_.push_back({Block::Kind::kToolUse, "", std::string(name)});
  open_call_ = static_cast<int>(blocks_.size()) - 1;
}

void MessageResponse::on_tool_call_args(int, std::string_view fragment) {
  if (open_call_ >= 0) blocks_[open_call_].text += fragment;
}

// A call that did not complete is not a call: its generated text takes the block's place as
// text (never dropped).
void MessageResponse::on_tool_call_end(int, bool complete, std::string_view raw) {
  if (open_call_ < 0) return;
  if (!complete) {
    blocks_.erase(blocks_.begin() + open_call_);
    append(Block::Kind::kText, raw);
  }
  open_call_ = -1;
}

void MessageResponse::on_finish(const GenerationResult& result) {
  if (result.stop == StopKind::kCancelled) return;  // nobody is listening
  if (result.stop == StopKind::kError) {
    const EngineFailure f = engine_failure(result);
    respond_error(*exchange_, ApiFamily::kAnthropic, {f.status, f.message, "", ""});
    return;
  }
  ordered_json content = ordered_json::array();
  for (Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::kThinking:
        content.push_back({{"type", "thinking"}, {"thinking", std::move(b.text)}, {"signature", ""}});
        break;
      case Block::Kind::kText: content.push_back({{"type", "text"}, {"text", std::move(b.text)}}); break;
      case Block::Kind::kToolUse: {
        ordered_json input = ordered_json::parse(b.text, nullptr, false);
        if (input.is_discarded() || !input.is_object()) {
          // The parser only completes calls whose arguments are a JSON object; keep the text
          // rather than lose it if that ever fails.
          AS_LOG_ERROR("{}: tool call {} has arguments that are not a JSON object; returned as text",
                       exchange_->request().request_id, b.name);
          content.push_back({{"type", "text"}, {"text", std::move(b.text)}});
          break;
        }
        content.push_back({{"type", "tool_use"}, {"id", new_tool_use_id()}, {"name", std::move(b.name)},
                           {"input", std::move(input)}});
        break;
      }
    }
  }
  exchange_->respond(200, "application/json",
                     message_body(model_, std::move(content), result, clamped_)
                         .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

}  // namespace agentserve::server::anthropic
