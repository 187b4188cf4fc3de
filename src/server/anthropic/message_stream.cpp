#include "server/anthropic/message_stream.h"

#include "server/anthropic/message_shape.h"
#include "server/json_text.h"

namespace agentserve::server::anthropic {

using nlohmann::ordered_json;

MessageStream::MessageStream(std::shared_ptr<HttpExchange> exchange, std::string model,
                             bool max_tokens_clamped)
    : exchange_(std::move(exchange)), id_(new_message_id()), model_(std::move(model)),
      clamped_(max_tokens_clamped) {}

void MessageStream::send(std::string_view event, const ordered_json& data) {
  exchange_->write(sse_frame(event, data));
}

void MessageStream::begin(int32_t prompt_tokens, std::chrono::milliseconds wait,
                          std::chrono::milliseconds ping_interval) {
  prompt_tokens_ = prompt_tokens;
  ping_interval_ = ping_interval;
  exchange_->start_stream(200, "text/event-stream");
  if (wait <= std::chrono::milliseconds::zero()) {
    send_start(0);
    return;
  }
  exchange_->post_after(wait, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->send_start(0);
  });
}

void MessageStream::on_started(int32_t prompt_tokens, int32_t cached_prompt_tokens) {
  prompt_tokens_ = prompt_tokens;
  send_start(cached_prompt_tokens);
}

void MessageStream::send_start(int32_t cached) {
  if (started_) return;
  started_ = true;
  send("message_start",
       {{"type", "message_start"},
        {"message",
         {{"id", id_},
          {"type", "message"},
          {"role", "assistant"},
          {"model", model_},
          {"content", ordered_json::array()},
          {"stop_reason", nullptr},
          {"stop_sequence", nullptr},
          {"usage", usage(prompt_tokens_, cached, 0)}}}});
  send("ping", {{"type", "ping"}});
  if (ping_interval_ > std::chrono::milliseconds::zero())
    exchange_->set_keepalive(ping_interval_, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
}

void MessageStream::open(Block block) {
  send_start(0);
  if (open_ == block) return;
  close();
  ordered_json start = block == Block::kThinking
                           ? ordered_json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                           : ordered_json{{"type", "text"}, {"text", ""}};
  send("content_block_start",
       {{"type", "content_block_start"}, {"index", next_index_}, {"content_block", std::move(start)}});
  open_ = block;
}

void MessageStream::close() {
  if (open_ == Block::kNone) return;
  // Claude Code renders a thinking block only once it has a signature; a local model has
  // none to give, and an empty one is accepted.
  if (open_ == Block::kThinking) {
    send("content_block_delta", {{"type", "content_block_delta"},
                                 {"index", next_index_},
                                 {"delta", {{"type", "signature_delta"}, {"signature", ""}}}});
  }
  send("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_}});
  open_ = Block::kNone;
  ++next_index_;
}

// The per-token frames are written as text, byte-identical to sse_frame() of the same object
// (no JSON tree built and freed per token).
void MessageStream::send_delta(const char* type, const char* field, std::string_view text) {
  std::string f = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";
  f += std::to_string(next_index_);
  f += ",\"delta\":{\"type\":\"";
  f += type;
  f += "\",\"";
  f += field;
  f += "\":";
  append_json_string(&f, text);
  f += "}}\n\n";
  exchange_->write(std::move(f));
}

void MessageStream::on_reasoning(std::string_view text) {
  open(Block::kThinking);
  send_delta("thinking_delta", "thinking", text);
}

void MessageStream::on_text(std::string_view text) {
  open(Block::kText);
  send_delta("text_delta", "text", text);
}

void MessageStream::on_tool_call_begin(int, std::string_view name) {
  send_start(0);
  close();
  send("content_block_start",
       {{"type", "content_block_start"},
        {"index", next_index_},
        {"content_block",
         {{"type", "tool_use"}, {"id", new_tool_use_id()}, {"name", std::string(name)},
          {"input", ordered_json::object()}}}});
  open_ = Block::kToolUse;
}

void MessageStream::on_tool_call_args(int, std::string_view fragment) {
  if (open_ != Block::kToolUse || fragment.empty()) return;
  send_delta("input_json_delta", "partial_json", fragment);
}

// A streamed call cannot be taken back: one cut off or broken stays as sent (the parser has
// logged why); the block closes either way.
void MessageStream::on_tool_call_end(int, bool, std::string_view) {
  if (open_ == Block::kToolUse) close();
}

void MessageStream::on_finish(const GenerationResult& result) {
  if (result.stop == StopKind::kCancelled) {  // nobody is listening
    exchange_->end();
    return;
  }
  send_start(0);  // failed (or ended) before admission: message_start goes now
  if (result.stop == StopKind::kError) {
    const EngineFailure f = engine_failure(result);
    send("error", {{"type", "error"},
                   {"error", {{"type", f.status == 529 ? "overloaded_error" : "api_error"},
                              {"message", f.message}}}});
    exchange_->end();
    return;
  }
  close();
  ordered_json u = usage(result.prompt_tokens, result.cached_prompt_tokens, result.completion_tokens);
  send("message_delta", {{"type", "message_delta"},
                         {"delta", {{"stop_reason", stop_reason(result, clamped_)},
                                    {"stop_sequence", stop_sequence(result)}}},
                         {"usage", std::move(u)}});
  send("message_stop", {{"type", "message_stop"}});
  exchange_->end();
}

}  // namespace agentserve::server::anthropic
