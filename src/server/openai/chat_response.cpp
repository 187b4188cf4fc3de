#include "server/json_text.h"
#include "server/openai/chat_response.h"

#include <vector>

#include "base/log.h"
#include "server/openai/logprobs.h"
#include "server/random_id.h"

namespace agentserve::server::openai {
namespace {

std::string new_call_id() { return random_id("call_", 24, IdAlphabet::kBase62); }

class ChatCollector : public ChoiceEncoder {
 public:
  ChatCollector(std::shared_ptr<HttpExchange> ex, const ServedModel& model, ChatEnvelope env)
      : ex_(std::move(ex)), model_(model), env_(std::move(env)), choices_(env_.n) {}

  void on_reasoning(int i, std::string_view text) override { choices_[i].reasoning += text; }
  void on_text(int i, std::string_view text) override { choices_[i].content += text; }
  void on_token(int i, const SampleResult& s, std::string_view b) override {
    if (env_.logprobs) choices_[i].logprobs.push_back(chat_logprob_entry(s, b, *model_.tokenizer));
  }
  void on_tool_call_begin(int i, int call, std::string_view name) override {
    Choice& c = choices_[i];
    if (c.calls.size() <= static_cast<size_t>(call)) c.calls.resize(call + 1);
    c.calls[call].name = name;
  }
  void on_tool_call_args(int i, int call, std::string_view fragment) override {
    choices_[i].calls[call].arguments += fragment;
  }
  // A call that did not complete is not a call: its text goes back into the content where it
  // was generated (never dropped).
  void on_tool_call_end(int i, int call, bool complete, std::string_view raw) override {
    Choice& c = choices_[i];
    c.calls[call].complete = complete;
    if (!complete) c.content += raw;
  }
  void on_choice_finish(int i, const GenerationResult& r) override {
    choices_[i].result = r;
    usage_.add(r, i == 0);
  }

  void on_all_finished() override {
    for (const Choice& c : choices_) {
      if (c.result.stop == StopKind::kError) {
        respond_error(*ex_, ApiFamily::kOpenAI,
                      {500, "generation failed: " + c.result.error, "engine_error", ""});
        return;
      }
    }
    ordered_json choices = ordered_json::array();
    for (int i = 0; i < env_.n; ++i) {
      Choice& c = choices_[i];
      ordered_json calls = ordered_json::array();
      for (Call& call : c.calls) {
        if (!call.complete) continue;
        calls.push_back({{"id", new_call_id()},
                         {"type", "function"},
                         {"function", {{"name", std::move(call.name)}, {"arguments", std::move(call.arguments)}}}});
      }
      // OpenAI's shape: content null when the turn is only calls.
      ordered_json content = c.content.empty() && !calls.empty() ? ordered_json(nullptr)
                                                                 : ordered_json(std::move(c.content));
      ordered_json message = {{"role", "assistant"}, {"content", std::move(content)}};
      if (env_.thinks && !c.reasoning.empty()) message["reasoning_content"] = std::move(c.reasoning);
      if (!calls.empty()) message["tool_calls"] = std::move(calls);
      ordered_json lp = nullptr;
      if (env_.logprobs) lp = {{"content", std::move(c.logprobs)}, {"refusal", nullptr}};
      choices.push_back({{"index", i},
                         {"message", std::move(message)},
                         {"logprobs", std::move(lp)},
                         {"finish_reason", chat_finish_reason(c.result)}});
    }
    ordered_json body = {{"id", env_.id},
                         {"object", "chat.completion"},
                         {"created", env_.created},
                         {"model", env_.model},
                         {"choices", std::move(choices)},
                         {"usage", usage_json(usage_, env_.thinks)}};
    ex_->respond(200, "application/json", dump(body));
  }

 private:
  struct Call {
    std::string name, arguments;
    bool complete = false;
  };
  struct Choice {
    std::string content, reasoning;
    std::vector<Call> calls;
    ordered_json logprobs = ordered_json::array();
    GenerationResult result;
  };
  std::shared_ptr<HttpExchange> ex_;
  const ServedModel& model_;
  ChatEnvelope env_;
  std::vector<Choice> choices_;
  UsageTotals usage_;
};

class ChatStreamer : public ChoiceEncoder {
 public:
  ChatStreamer(std::shared_ptr<HttpExchange> ex, ServerContext& ctx, const ServedModel& model,
               ChatEnvelope env)
      : ex_(std::move(ex)), model_(model), env_(std::move(env)), pending_(env_.n) {
    ex_->start_stream(200, "text/event-stream");
    ex_->set_keepalive(ctx.options().ping_interval, kSseKeepAlive);
    std::string frames;
    for (int i = 0; i < env_.n; ++i)
      frames += sse(chunk(i, {{"role", "assistant"}, {"content", ""}}, nullptr));
    ex_->write(std::move(frames));
  }

  void on_reasoning(int i, std::string_view text) override { text_delta(i, "reasoning_content", text); }
  void on_text(int i, std::string_view text) override { text_delta(i, "content", text); }
  void on_token(int i, const SampleResult& s, std::string_view b) override {
    if (env_.logprobs) pending_[i].push_back(chat_logprob_entry(s, b, *model_.tokenizer));
  }

  // OpenAI's tool-call deltas: the first carries index, id, type and the whole name (with empty
  // arguments); later ones carry only argument fragments (never a null or empty name).
  void on_tool_call_begin(int i, int call, std::string_view name) override {
    delta(i, {{"tool_calls", ordered_json::array({{{"index", call},
                                                   {"id", new_call_id()},
                                                   {"type", "function"},
                                                   {"function", {{"name", std::string(name)}, {"arguments", ""}}}}})}});
  }
  void on_tool_call_args(int i, int call, std::string_view fragment) override {
    if (fragment.empty()) return;
    delta(i, {{"tool_calls", ordered_json::array({{{"index", call},
                                                   {"function", {{"arguments", std::string(fragment)}}}}})}});
  }
  // A streamed call cannot be taken back; one that broke or was cut off stays as sent (its
  // arguments may not parse) and the parser has logged why.
  void on_tool_call_end(int, int, bool, std::string_view) override {}

  void on_choice_finish(int i, const GenerationResult& r) override {
    usage_.add(r, i == 0);
    if (failed_) return;
    if (r.stop == StopKind::kError) {
      // Headers are gone: the error can only travel as an event, and the stream ends with it.
      AS_LOG_WARN("{}: generation failed mid-stream: {}", ex_->request().request_id, r.error);
      ex_->write(sse_engine_error(r));
      ex_->end();
      failed_ = true;
      return;
    }
    if (r.stop == StopKind::kCancelled) return;  // nobody is listening
    ex_->write(sse(chunk(i, ordered_json::object(), chat_finish_reason(r))));
  }

  void on_all_finished() override {
    if (failed_) return;
    std::string tail;
    if (env_.include_usage) {
      tail += sse({{"id", env_.id},
                   {"object", "chat.completion.chunk"},
                   {"created", env_.created},
                   {"model", env_.model},
                   {"choices", ordered_json::array()},
                   {"usage", usage_json(usage_, env_.thinks)}});
    }
    tail += kSseDone;
    ex_->write(std::move(tail));
    ex_->end();
  }

 private:
  void delta(int i, ordered_json d) {
    if (failed_) return;
    ex_->write(sse(chunk(i, std::move(d), nullptr)));
  }

  // The per-token frame, written as text: the same bytes as sse(chunk(i, {{key, text}}, null))
  // (same keys in the same order, same escaping) without a JSON tree built and freed per token.
  void text_delta(int i, const char* key, std::string_view text) {
    if (failed_) return;
    if (env_.logprobs && !pending_[i].empty()) {
      delta(i, {{key, std::string(text)}});
      return;
    }
    if (frame_head_.empty()) {
      const ordered_json head = {{"id", env_.id}, {"object", "chat.completion.chunk"},
                                 {"created", env_.created}, {"model", env_.model}};
      frame_head_ = "data: " + dump(head);
      frame_head_.pop_back();  // the closing brace: choices follow
      frame_head_ += ",\"choices\":[{\"index\":";
      frame_tail_ = "},\"logprobs\":null,\"finish_reason\":null}]";
      if (env_.include_usage) frame_tail_ += ",\"usage\":null";
      frame_tail_ += "}\n\n";
    }
    std::string f;
    f.reserve(frame_head_.size() + frame_tail_.size() + text.size() + 48);
    f += frame_head_;
    f += std::to_string(i);
    f += ",\"delta\":{\"";
    f += key;
    f += "\":";
    append_json_string(&f, text);
    f += frame_tail_;
    ex_->write(std::move(f));
  }

  // A chunk for choice i, carrying the logprobs of the tokens sampled since the last chunk
  // (text is held back by the stop matcher, so tokens and text do not line up one to one).
  ordered_json chunk(int i, ordered_json delta, ordered_json finish) {
    ordered_json lp = nullptr;
    if (env_.logprobs && !pending_[i].empty()) {
      lp = {{"content", std::move(pending_[i])}, {"refusal", nullptr}};
      pending_[i] = ordered_json::array();
    }
    ordered_json c = {{"id", env_.id},
                      {"object", "chat.completion.chunk"},
                      {"created", env_.created},
                      {"model", env_.model},
                      {"choices",
                       ordered_json::array({{{"index", i},
                                             {"delta", std::move(delta)},
                                             {"logprobs", std::move(lp)},
                                             {"finish_reason", std::move(finish)}}})}};
    if (env_.include_usage) c["usage"] = nullptr;
    return c;
  }

  std::shared_ptr<HttpExchange> ex_;
  const ServedModel& model_;
  ChatEnvelope env_;
  std::vector<ordered_json> pending_;  // per choice: logprob entries not yet sent
  std::string frame_head_, frame_tail_;  // the constant parts of a delta frame
  UsageTotals usage_;
  bool failed_ = false;
};

}  // namespace

std::shared_ptr<ChoiceEncoder> make_chat_collector(std::shared_ptr<HttpExchange> exchange,
                                                   const ServedModel& model, ChatEnvelope env) {
  return std::make_shared<ChatCollector>(std::move(exchange), model, std::move(env));
}

std::shared_ptr<ChoiceEncoder> make_chat_streamer(std::shared_ptr<HttpExchange> exchange,
                                                  ServerContext& ctx, const ServedModel& model,
                                                  ChatEnvelope env) {
  return std::make_shared<ChatStreamer>(std::move(exchange), ctx, model, std::move(env));
}

}  // namespace agentserve::server::openai
