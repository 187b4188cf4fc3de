#include "server/generation.h"

#include <atomic>
#include <chrono>

#include "base/log.h"
#include "server/metrics.h"
#include "server/reasoning_splitter.h"
#include "server/request_log.h"
#include "server/stop_matcher.h"

namespace agentserve::server {
namespace {

using Clock = std::chrono::steady_clock;

std::string stop_kind_text(const GenerationResult& r) {
  switch (r.stop) {
    case StopKind::kEndOfTurn: return r.tool_calls > 0 ? "end of turn (tool calls)" : "end of turn";
    case StopKind::kStopString: return "stop string";
    case StopKind::kMaxTokens: return "max_tokens reached";
    case StopKind::kContextFull: return "context full";
    case StopKind::kCancelled: return "cancelled (client gone)";
    case StopKind::kError: return "error: " + r.error;
  }
  return "?";
}

// One request's generation: owns the text pipeline; lives until the finish event is handled.
class GenerationStream : public std::enable_shared_from_this<GenerationStream> {
 public:
  GenerationStream(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                   const ServedModel& model, GenerationSpec spec,
                   std::shared_ptr<GenerationSink> sink)
      : ctx_(ctx),
        exchange_(std::move(exchange)),
        model_(model),
        spec_(std::move(spec)),
        sink_(std::move(sink)),
        detok_(*model.tokenizer),
        stops_(spec_.stop_strings),
        splitter_(spec_.split_reasoning, spec_.starts_in_reasoning) {
    const tools::ParserOptions& tp = spec_.tool_parsing;
    if (tp.format != tools::ToolFormat::kNone &&
        (tp.parse_calls || tp.format == tools::ToolFormat::kHarmony))
      parser_ = tools::make_parser(tp);
  }

  // The engine request of this stream, with the stream wired to its events; the caller submits
  // it (start_generations submits several at once). The output prefix (tool_choice prefill)
  // goes through the text pipeline with the engine's first event (begin_output), so its events
  // reach the sink after on_started and before any token's.
  GenerationRequest prepare() {
    GenerationRequest req;
    static std::atomic<uint64_t> next_id{1};
    req.id = next_id.fetch_add(1);
    req.prompt = spec_.prompt;
    req.sampling = spec_.sampling;
    req.stop.max_new_tokens = spec_.max_tokens;
    req.stop.stop_token_ids = model_.stop_token_ids;
    req.stop.ignore_stop_tokens = spec_.ignore_eos;
    req.announce_start = true;
    if (model_.test_script) model_.test_script->apply(&req);
    events_ = req.events;
    cancelled_ = req.cancelled;
    prompt_tokens_ = static_cast<int32_t>(req.prompt.size());
    // The engine thread only schedules a drain on the I/O thread; one pending drain at a time.
    std::weak_ptr<GenerationStream> weak = weak_from_this();
    std::shared_ptr<HttpExchange> exchange = exchange_;
    events_->set_notify([weak, exchange] {
      auto self = weak.lock();
      if (!self || self->drain_scheduled_.exchange(true)) return;
      exchange->post([self] {
        self->drain_scheduled_.store(false);
        self->drain();
      });
    });
    auto cancelled = cancelled_;
    exchange_->on_client_gone([cancelled] { cancelled->store(true); });
    if (log_level() <= LogLevel::kDebug)
      history_entry_ = ctx_.prompt_history().match_and_add(spec_.prompt, &common_prefix_);
    submitted_ = Clock::now();
    return req;
  }

 private:
  void emit(const std::string& text) {
    if (text.empty()) return;
    std::string reasoning, answer;
    splitter_.push(text, &reasoning, &answer);
    if (!reasoning.empty()) {
      note_origin();
      sink_->on_reasoning(reasoning);
    }
    answer_text(answer);
  }

  // The answer side of the reasoning split, through the tool-call parser when there is one.
  void answer_text(const std::string& text) {
    if (text.empty()) return;
    if (!parser_) {
      note_origin();
      sink_->on_text(text);
      return;
    }
    parser_->push(text, &tool_events_);
    dispatch_tool_events();
  }

  void dispatch_tool_events() {
    if (!tool_events_.empty()) note_origin();
    for (const tools::ToolEvent& e : tool_events_) {
      switch (e.kind) {
        case tools::ToolEvent::Kind::kText: sink_->on_text(e.text); break;
        case tools::ToolEvent::Kind::kReasoning: sink_->on_reasoning(e.text); break;
        case tools::ToolEvent::Kind::kCallBegin: sink_->on_tool_call_begin(e.index, e.text); break;
        case tools::ToolEvent::Kind::kCallArgs: sink_->on_tool_call_args(e.index, e.text); break;
        case tools::ToolEvent::Kind::kCallEnd:
          if (e.complete) ++tool_calls_;
          sink_->on_tool_call_end(e.index, e.complete, e.raw);
          break;
      }
      if (stopped_after_calls_) break;
      if (e.kind == tools::ToolEvent::Kind::kCallEnd && e.complete && spec_.max_tool_calls > 0 &&
          tool_calls_ >= spec_.max_tool_calls) {
        // The client allowed this many calls per turn: the turn ends here. What the model
        // writes after (more calls) is not generated further.
        AS_LOG_INFO("{}: {} tool call(s) allowed per turn (parallel tool use off): generation stopped after call {}",
                    exchange_->request().request_id, spec_.max_tool_calls, e.index);
        stopped_after_calls_ = true;
        cancelled_->store(true);  // the engine stops at its next step
      }
    }
    tool_events_.clear();
  }

  void on_token(const EngineEvent& event) {
    const SampleResult& sample = event.sample;
    const auto now = Clock::now();
    if (generated_ == 0) {
      first_token_ms_ = std::chrono::duration<double, std::milli>(now - submitted_).count();
      ctx_.metrics().time_to_first_token().observe(first_token_ms_ / 1000.0);
    } else {
      ctx_.metrics().inter_token_latency().observe(std::chrono::duration<double>(now - last_token_).count());
    }
    last_token_ = now;
    ++generated_;
    if (history_entry_) generated_ids_.push_back(sample.token);
    if (stopped_by_string_ || stopped_after_calls_) return;  // past the end we set: dropped
    if (splitter_.in_reasoning()) ++reasoning_tokens_;
    sink_->on_token(sample, model_.tokenizer->token_bytes(sample.token));
    std::string release, matched;
    if (stops_.push(detok_.push(sample.token), &release, &matched)) {
      stopped_by_string_ = true;
      stop_string_ = matched;
      cancelled_->store(true);  // the engine stops at its next step
    }
    // The latency to the socket counts from the token that made text sendable: text held for a
    // possible stop string, reasoning tag or tool-call tag waits by design, not in the server.
    if (!release.empty()) release_origin_ = event.produced_at;
    emit(release);
    release_origin_ = {};
  }

  // Before output reaches the sink during on_token: tells the exchange which token it comes from.
  void note_origin() {
    if (release_origin_ == Clock::time_point{}) return;
    exchange_->note_output_origin(release_origin_);
    release_origin_ = {};
  }

  void on_finish(const EngineEvent& e) {
    finished_ = true;
    if (stopped_after_calls_) {
      finish_turn(e);
      return;
    }
    if (!stopped_by_string_) {
      std::string release, matched;
      stops_.push(detok_.flush(), &release, &matched);
      emit(release);
      emit(stops_.flush());
    }
    std::string reasoning, answer;
    splitter_.flush(&reasoning, &answer);
    if (!reasoning.empty()) sink_->on_reasoning(reasoning);
    answer_text(answer);
    if (parser_) {
      parser_->finish(&tool_events_);
      dispatch_tool_events();
    }
    finish_turn(e);
  }

  void finish_turn(const EngineEvent& e) {
    GenerationResult r;
    r.prompt_tokens = e.usage.prompt_tokens > 0 ? e.usage.prompt_tokens : prompt_tokens_;
    r.cached_prompt_tokens = e.usage.cached_prompt_tokens;
    r.completion_tokens = e.usage.completion_tokens;
    r.reasoning_tokens = reasoning_tokens_;
    r.tool_calls = tool_calls_;
    if (stopped_by_string_) {
      r.stop = StopKind::kStopString;
      r.stop_string = stop_string_;
      r.completion_tokens = generated_;
    } else if (stopped_after_calls_ && e.reason != FinishReason::kError) {
      r.stop = StopKind::kEndOfTurn;
      r.completion_tokens = generated_;
    } else {
      switch (e.reason) {
        case FinishReason::kStop: r.stop = StopKind::kEndOfTurn; break;
        case FinishReason::kLength:
          r.stop = e.usage.completion_tokens >= spec_.max_tokens ? StopKind::kMaxTokens
                                                                  : StopKind::kContextFull;
          break;
        case FinishReason::kCancelled: r.stop = StopKind::kCancelled; break;
        case FinishReason::kError:
          r.stop = StopKind::kError;
          r.error = e.error;
          break;
      }
    }
    ctx_.metrics().add_tokens(r.prompt_tokens, r.cached_prompt_tokens, r.completion_tokens);
    RequestLogFields log;
    log.request_id = exchange_->request().request_id;
    log.path = exchange_->request().path;
    log.prompt_tokens = r.prompt_tokens;
    log.cached_prompt_tokens = r.cached_prompt_tokens;
    log.completion_tokens = r.completion_tokens;
    log.first_token_ms = first_token_ms_;
    const auto received = exchange_->request().received_at;
    if (received != Clock::time_point{})
      log.prepared_ms = std::chrono::duration<double, std::milli>(submitted_ - received).count();
    log.timings = e.timings;
    const std::string outcome = stop_kind_text(r);
    log.outcome = outcome;
    AS_LOG_INFO("{}", format_request_log(log));
    ctx_.metrics().queue_time().observe(e.timings.queued_ms / 1000.0);
    if (e.timings.prefill_ms > 0) ctx_.metrics().prefill_time().observe(e.timings.prefill_ms / 1000.0);
    if (history_entry_) {
      ctx_.prompt_history().append_generated(history_entry_, generated_ids_);
      AS_LOG_DEBUG("{} {}", exchange_->request().request_id,
                   describe_divergence(spec_.prompt, r.cached_prompt_tokens, model_.kv_page_size,
                                       common_prefix_, *model_.tokenizer, spec_.prompt_map.get()));
    }
    sink_->on_finish(r);
  }

  // Once, with the engine's first event for this request: the output prefix.
  void begin_output() {
    if (output_begun_) return;
    output_begun_ = true;
    answer_text(spec_.output_prefix);
  }

  void drain() {
    while (!finished_) {
      auto e = events_->try_pop();
      if (!e) return;
      switch (e->kind) {
        case EngineEvent::Kind::kStarted:
          sink_->on_started(e->usage.prompt_tokens, e->usage.cached_prompt_tokens);
          begin_output();
          break;
        case EngineEvent::Kind::kToken:
          begin_output();
          on_token(*e);
          break;
        case EngineEvent::Kind::kFinish:  // also one that ended before admission
          begin_output();
          on_finish(*e);
          break;
      }
    }
  }

  ServerContext& ctx_;
  std::shared_ptr<HttpExchange> exchange_;
  const ServedModel& model_;
  GenerationSpec spec_;
  std::shared_ptr<GenerationSink> sink_;
  std::shared_ptr<EventChannel> events_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::atomic<bool> drain_scheduled_{false};
  StreamingDetokenizer detok_;
  StopMatcher stops_;
  ReasoningSplitter splitter_;
  std::unique_ptr<tools::ToolParser> parser_;  // null: no tool parsing for this request
  std::vector<tools::ToolEvent> tool_events_;  // reused buffer
  int32_t tool_calls_ = 0;
  bool stopped_after_calls_ = false;  // max_tool_calls reached
  Clock::time_point submitted_, last_token_;
  Clock::time_point release_origin_{};  // during on_token: the token whose text is being emitted
  int32_t prompt_tokens_ = 0;
  int32_t generated_ = 0;
  double first_token_ms_ = -1;  // submission to the first token, for the request log
  int32_t reasoning_tokens_ = 0;
  bool stopped_by_string_ = false;
  std::string stop_string_;
  bool finished_ = false;
  bool output_begun_ = false;  // begin_output() ran
  // Debug-level divergence log: this request's record in the prompt history, the longest
  // prefix it shared with earlier ones, and the tokens it generated.
  std::shared_ptr<PromptHistory::Entry> history_entry_;
  int32_t common_prefix_ = 0;
  std::vector<int32_t> generated_ids_;
};

}  // namespace

bool prompt_opens_reasoning(std::string_view prompt) {
  size_t end = prompt.size();
  while (end > 0 && (prompt[end - 1] == '\n' || prompt[end - 1] == ' ')) --end;
  constexpr std::string_view kOpen = "<think>";
  return end >= kOpen.size() && prompt.substr(end - kOpen.size(), kOpen.size()) == kOpen;
}

void render_prompt(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                   const ServedModel& model, chat::Conversation conversation,
                   std::function<void(Result<chat::RenderedPrompt>)> done) {
  const chat::ChatTemplate* chat = model.chat;
  ctx.run_on_worker([chat, exchange, conv = std::move(conversation), done = std::move(done)]() mutable {
    auto rendered = std::make_shared<Result<chat::RenderedPrompt>>(chat->render(conv));
    exchange->post([done = std::move(done), rendered] { done(std::move(*rendered)); });
  });
}

namespace {

// The sink wrapper that owns the stream until on_finish, so a request whose client stays keeps
// its pipeline alive without anyone else holding it.
class OwningSink : public GenerationSink {
 public:
  explicit OwningSink(std::shared_ptr<GenerationSink> inner) : inner_(std::move(inner)) {}
  void hold(std::shared_ptr<GenerationStream> stream) { stream_ = std::move(stream); }
  void on_started(int32_t prompt, int32_t cached) override { inner_->on_started(prompt, cached); }
  void on_reasoning(std::string_view text) override { inner_->on_reasoning(text); }
  void on_text(std::string_view text) override { inner_->on_text(text); }
  void on_token(const SampleResult& s, std::string_view b) override { inner_->on_token(s, b); }
  void on_tool_call_begin(int i, std::string_view name) override { inner_->on_tool_call_begin(i, name); }
  void on_tool_call_args(int i, std::string_view f) override { inner_->on_tool_call_args(i, f); }
  void on_tool_call_end(int i, bool complete, std::string_view raw) override {
    inner_->on_tool_call_end(i, complete, raw);
  }
  void on_finish(const GenerationResult& r) override {
    inner_->on_finish(r);
    stream_.reset();  // the cycle stream → sink → stream ends here
  }

 private:
  std::shared_ptr<GenerationSink> inner_;
  std::shared_ptr<GenerationStream> stream_;
};

}  // namespace

void start_generation(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                      const ServedModel& model, GenerationSpec spec,
                      std::shared_ptr<GenerationSink> sink) {
  std::vector<GenerationSpec> specs;
  specs.push_back(std::move(spec));
  start_generations(ctx, std::move(exchange), model, std::move(specs), {std::move(sink)});
}

void start_generations(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                       const ServedModel& model, std::vector<GenerationSpec> specs,
                       std::vector<std::shared_ptr<GenerationSink>> sinks) {
  std::vector<GenerationRequest> requests;
  requests.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    auto owning = std::make_shared<OwningSink>(std::move(sinks[i]));
    auto stream = std::make_shared<GenerationStream>(ctx, exchange, model, std::move(specs[i]), owning);
    owning->hold(stream);
    requests.push_back(stream->prepare());
  }
  model.engine->submit_all(std::move(requests));
}

}  // namespace agentserve::server
