#include "server/openai/completions.h"

#include <limits>
#include <vector>

#include "base/log.h"
#include "server/openai/choices.h"
#include "server/openai/common.h"
#include "server/openai/logprobs.h"

namespace agentserve::server::openai {
namespace {

// OpenAI's documented default: a completion request without max_tokens gets 16 tokens.
constexpr int64_t kDefaultMaxTokens = 16;

struct CompletionRequest {
  CommonFields common;
  std::string prompt_text;             // a string prompt
  std::vector<int32_t> prompt_ids;     // a token-id prompt
  bool prompt_is_ids = false;
  bool echo = false;
  std::optional<int> logprobs;         // legacy: number of alternatives, 0 = chosen token only
};

std::vector<int32_t> read_id_list(const ordered_json& a) {
  std::vector<int32_t> ids;
  ids.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const ordered_json& v = a[i];
    if (!(v.is_number_integer() || v.is_number_unsigned()) || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > std::numeric_limits<int32_t>::max())
      throw_request_error("prompt[" + std::to_string(i) + "] must be a token id (a non-negative integer), not " +
                              (v.is_number() ? v.dump() : json_type_name(v)),
                          "prompt");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

void read_prompt(const ordered_json& body, CompletionRequest* r) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) throw_request_error("prompt is required", "prompt");
  const ordered_json& p = *it;
  auto batched = [] {
    throw_request_error("several prompts in one request are not supported; send one prompt per request",
                        "prompt");
  };
  if (p.is_string()) {
    r->prompt_text = p.get<std::string>();
  } else if (p.is_array() && !p.empty() && p[0].is_string()) {
    if (p.size() != 1) batched();
    r->prompt_text = p[0].get<std::string>();
  } else if (p.is_array() && !p.empty() && p[0].is_array()) {
    if (p.size() != 1) batched();
    r->prompt_ids = read_id_list(p[0]);
    r->prompt_is_ids = true;
  } else if (p.is_array() && !p.empty()) {
    r->prompt_ids = read_id_list(p);
    r->prompt_is_ids = true;
  } else if (p.is_array()) {
    throw_request_error("prompt must not be empty", "prompt");
  } else {
    throw_request_error("prompt must be a string, a list of one string or a list of token ids, not " +
                            json_type_name(p),
                        "prompt");
  }
  if (r->prompt_is_ids ? r->prompt_ids.empty() : r->prompt_text.empty())
    throw_request_error("prompt must not be empty", "prompt");
}

CompletionRequest parse_completion_request(const ordered_json& body) {
  CompletionRequest r;
  r.common = read_common_fields(body, "max_tokens");
  read_prompt(body, &r);
  r.echo = opt_bool(body, "echo").value_or(false);
  if (auto s = opt_string(body, "suffix"); s && !s->empty())
    throw_request_error("suffix is not supported: this server has no fill-in-the-middle prompt format",
                        "suffix");
  if (auto v = opt_int(body, "logprobs", 0, 20)) r.logprobs = static_cast<int>(*v);
  if (auto b = opt_int(body, "best_of", 1, 128); b && *b != r.common.n)
    throw_request_error("best_of must equal n (ranking candidates by likelihood is not supported), got best_of " +
                            std::to_string(*b) + " with n " + std::to_string(r.common.n),
                        "best_of");
  if (r.echo && r.logprobs)
    throw_request_error("echo with logprobs is not supported: prompt token logprobs are not computed",
                        "echo");
  r.common.sampling.want_logprobs = r.logprobs.has_value();
  r.common.sampling.num_top_logprobs = r.logprobs.value_or(0);
  return r;
}

struct CompletionEnvelope {
  std::string id;
  int64_t created = 0;
  std::string model;
  int n = 1;
  bool logprobs = false;
  bool include_usage = false;
  std::string echo;  // the prompt text, when echoed
};

ordered_json completion_choice(int i, std::string text, ordered_json logprobs, ordered_json finish) {
  return {{"text", std::move(text)},
          {"index", i},
          {"logprobs", std::move(logprobs)},
          {"finish_reason", std::move(finish)}};
}

class CompletionCollector : public ChoiceEncoder {
 public:
  CompletionCollector(std::shared_ptr<HttpExchange> ex, const ServedModel& model, CompletionEnvelope env)
      : ex_(std::move(ex)), model_(model), env_(std::move(env)) {
    for (int i = 0; i < env_.n; ++i) choices_.push_back(Choice{env_.echo, LegacyLogprobs(env_.echo.size()), {}});
  }
  void on_text(int i, std::string_view text) override { choices_[i].text += text; }
  void on_token(int i, const SampleResult& s, std::string_view b) override {
    if (env_.logprobs) choices_[i].logprobs.add(s, b, *model_.tokenizer);
  }
  void on_choice_finish(int i, const GenerationResult& r) override {
    choices_[i].result = r;
    usage_.add(r, i == 0);
  }
  void on_all_finished() override {
    ordered_json choices = ordered_json::array();
    for (int i = 0; i < env_.n; ++i) {
      Choice& c = choices_[i];
      if (c.result.stop == StopKind::kError) {
        respond_error(*ex_, ApiFamily::kOpenAI, {500, "generation failed: " + c.result.error, "engine_error", ""});
        return;
      }
      choices.push_back(completion_choice(i, std::move(c.text),
                                          env_.logprobs ? c.logprobs.json() : ordered_json(nullptr),
                                          finish_reason(c.result.stop)));
    }
    ex_->respond(200, "application/json",
                 dump({{"id", env_.id},
                       {"object", "text_completion"},
                       {"created", env_.created},
                       {"model", env_.model},
                       {"choices", std::move(choices)},
                       {"usage", usage_json(usage_, false)}}));
  }

 private:
  struct Choice {
    std::string text;
    LegacyLogprobs logprobs;
    GenerationResult result;
  };
  std::shared_ptr<HttpExchange> ex_;
  const ServedModel& model_;
  CompletionEnvelope env_;
  std::vector<Choice> choices_;
  UsageTotals usage_;
};

class CompletionStreamer : public ChoiceEncoder {
 public:
  CompletionStreamer(std::shared_ptr<HttpExchange> ex, ServerContext& ctx, const ServedModel& model,
                     CompletionEnvelope env)
      : ex_(std::move(ex)), model_(model), env_(std::move(env)) {
    for (int i = 0; i < env_.n; ++i) logprobs_.emplace_back(env_.echo.size());
    ex_->start_stream(200, "text/event-stream");
    ex_->set_keepalive(ctx.options().ping_interval, kSseKeepAlive);
    if (!env_.echo.empty()) {
      std::string frames;
      for (int i = 0; i < env_.n; ++i) frames += sse(chunk(i, env_.echo, nullptr));
      ex_->write(std::move(frames));
    }
  }
  void on_text(int i, std::string_view text) override {
    if (!failed_) ex_->write(sse(chunk(i, std::string(text), nullptr)));
  }
  void on_token(int i, const SampleResult& s, std::string_view b) override {
    if (env_.logprobs) logprobs_[i].add(s, b, *model_.tokenizer);
  }
  void on_choice_finish(int i, const GenerationResult& r) override {
    usage_.add(r, i == 0);
    if (failed_) return;
    if (r.stop == StopKind::kError) {
      AS_LOG_WARN("{}: generation failed mid-stream: {}", ex_->request().request_id, r.error);
      ex_->write(sse_engine_error(r));
      ex_->end();
      failed_ = true;
      return;
    }
    if (r.stop == StopKind::kCancelled) return;
    ex_->write(sse(chunk(i, "", finish_reason(r.stop))));
  }
  void on_all_finished() override {
    if (failed_) return;
    std::string tail;
    if (env_.include_usage)
      tail += sse({{"id", env_.id}, {"object", "text_completion"}, {"created", env_.created},
                   {"model", env_.model}, {"choices", ordered_json::array()},
                   {"usage", usage_json(usage_, false)}});
    tail += kSseDone;
    ex_->write(std::move(tail));
    ex_->end();
  }

 private:
  ordered_json chunk(int i, std::string text, ordered_json finish) {
    ordered_json lp = nullptr;
    if (env_.logprobs && !logprobs_[i].empty()) lp = logprobs_[i].take();
    ordered_json c = {{"id", env_.id},
                      {"object", "text_completion"},
                      {"created", env_.created},
                      {"model", env_.model},
                      {"choices", ordered_json::array({completion_choice(i, std::move(text), std::move(lp), std::move(finish))})}};
    if (env_.include_usage) c["usage"] = nullptr;
    return c;
  }

  std::shared_ptr<HttpExchange> ex_;
  const ServedModel& model_;
  CompletionEnvelope env_;
  std::vector<LegacyLogprobs> logprobs_;
  UsageTotals usage_;
  bool failed_ = false;
};

}  // namespace

void handle_completions(ServerContext& ctx, std::shared_ptr<HttpExchange> ex) {
  CompletionRequest req;
  const ServedModel* model = nullptr;
  try {
    req = parse_completion_request(parse_body(ex->request().body));
    model = ctx.resolve_model(req.common.model_name);
    if (model == nullptr)
      throw_request_error("The model `" + req.common.model_name + "` does not exist (serving " +
                              ctx.model().id + ")",
                          "model", 404, "model_not_found");
    if (req.prompt_is_ids) {
      const int32_t vocab = model->tokenizer->vocab_size();
      for (int32_t id : req.prompt_ids)
        if (id >= vocab)
          throw_request_error("prompt token id " + std::to_string(id) + " is outside the vocabulary (size " +
                                  std::to_string(vocab) + ")",
                              "prompt");
    }
  } catch (const RequestError& e) {
    respond_request_error(*ex, e);
    return;
  }
  auto shared = std::make_shared<CompletionRequest>(std::move(req));
  // Tokenising a long prompt is CPU work: off the I/O thread.
  ctx.run_on_worker([&ctx, ex, model, shared] {
    CompletionRequest& r = *shared;
    if (!r.prompt_is_ids) {
      const Tokenizer& tok = *model->tokenizer;
      // As tokenizer(prompt) with add_special_tokens=True: Llama-style tokenizers start with BOS.
      if (tok.add_bos_token() && tok.bos_token_id()) r.prompt_ids.push_back(*tok.bos_token_id());
      tok.encode_append(r.prompt_text, SpecialTokenMode::kRecognize, &r.prompt_ids);
    } else if (r.echo) {
      r.prompt_text = model->tokenizer->decode(r.prompt_ids);
    }
    ex->post([&ctx, ex, model, shared] {
      CompletionRequest& r = *shared;
      GenerationSpec spec;
      try {
        spec.max_tokens = fit_max_tokens(static_cast<int64_t>(r.prompt_ids.size()),
                                         r.common.max_tokens.value_or(kDefaultMaxTokens),
                                         model->max_context, "prompt");
      } catch (const RequestError& e) {
        respond_request_error(*ex, e);
        return;
      }
      spec.prompt = std::move(r.prompt_ids);
      spec.sampling = r.common.sampling;
      spec.stop_strings = r.common.stop;
      CompletionEnvelope env;
      env.id = make_id("cmpl-");
      env.created = unix_now();
      env.model = r.common.model_name.empty() ? model->id : r.common.model_name;
      env.n = r.common.n;
      env.logprobs = r.logprobs.has_value();
      env.include_usage = r.common.include_usage;
      if (r.echo) env.echo = r.prompt_text;
      std::shared_ptr<ChoiceEncoder> enc;
      if (r.common.stream)
        enc = std::make_shared<CompletionStreamer>(ex, ctx, *model, std::move(env));
      else
        enc = std::make_shared<CompletionCollector>(ex, *model, std::move(env));
      run_choices(ctx, ex, *model, spec, r.common.n, std::move(enc));
    });
  });
}

}  // namespace agentserve::server::openai
