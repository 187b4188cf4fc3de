#include "server/openai/common.h"

#include <atomic>
#include <chrono>
#include <limits>

#include "base/log.h"
#include "server/random_id.h"

namespace agentserve::server::openai {

CommonFields read_common_fields(const ordered_json& body, const char* max_tokens_key) {
  CommonFields f;
  if (auto m = opt_string(body, "model")) f.model_name = *m;
  SamplingParams& s = f.sampling;
  if (auto v = opt_number(body, "temperature", 0.0, 2.0)) s.temperature = static_cast<float>(*v);
  if (auto v = opt_number(body, "top_p", 0.0, 1.0)) {
    // A nucleus of probability 0 holds only the most likely token.
    if (*v == 0.0) s.temperature = 0.0f; else s.top_p = static_cast<float>(*v);
  }
  // vLLM spells "off" as -1, llama-server as 0: both mean no top-k.
  if (auto v = opt_int(body, "top_k", -1, std::numeric_limits<int32_t>::max())) s.top_k = *v < 0 ? 0 : static_cast<int32_t>(*v);
  if (auto v = opt_number(body, "min_p", 0.0, 1.0)) s.min_p = static_cast<float>(*v);
  if (auto v = opt_number(body, "repetition_penalty", 0.0, 10.0)) {
    if (*v == 0.0) throw_request_error("repetition_penalty must be greater than 0 (1 = off)", "repetition_penalty");
    s.repetition_penalty = static_cast<float>(*v);
  }
  if (auto v = opt_number(body, "presence_penalty", -2.0, 2.0)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = opt_number(body, "frequency_penalty", -2.0, 2.0)) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = opt_int(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
    s.seed = static_cast<uint64_t>(*v);
    s.has_seed = true;
  }
  f.stop = opt_string_list(body, "stop", 4);
  f.max_tokens = opt_int(body, max_tokens_key, 1, std::numeric_limits<int32_t>::max());
  if (auto v = opt_int(body, "n", 1, 128)) f.n = static_cast<int>(*v);
  f.stream = opt_bool(body, "stream").value_or(false);
  auto so = body.find("stream_options");
  if (so != body.end() && !so->is_null()) {
    if (!so->is_object())
      throw_request_error("stream_options must be an object, not " + json_type_name(*so), "stream_options");
    f.include_usage = opt_bool(*so, "include_usage").value_or(false);
  }
  // logit_bias needs per-token biases in the sampler, which it does not have yet; an ignored
  // bias would silently change what the client asked for, so only an empty one passes.
  auto lb = body.find("logit_bias");
  if (lb != body.end() && !lb->is_null()) {
    if (!lb->is_object())
      throw_request_error("logit_bias must be an object, not " + json_type_name(*lb), "logit_bias");
    if (!lb->empty())
      throw_request_error("logit_bias is not supported by this server yet", "logit_bias");
  }
  return f;
}

GenerationSpec spec_for_choice(const GenerationSpec& base, int index) {
  GenerationSpec spec = base;
  if (spec.sampling.has_seed) spec.sampling.seed += static_cast<uint64_t>(index);
  return spec;
}

std::string make_id(const char* prefix) { return random_id(prefix, 24, IdAlphabet::kHex); }

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* finish_reason(StopKind stop) {
  switch (stop) {
    case StopKind::kMaxTokens:
    case StopKind::kContextFull: return "length";
    default: return "stop";
  }
}

const char* chat_finish_reason(const GenerationResult& result) {
  const bool turn_ended = result.stop == StopKind::kEndOfTurn || result.stop == StopKind::kStopString;
  return result.tool_calls > 0 && turn_ended ? "tool_calls" : finish_reason(result.stop);
}

void UsageTotals::add(const GenerationResult& r, bool first) {
  if (first) {
    prompt_tokens = r.prompt_tokens;
    cached_tokens = r.cached_prompt_tokens;
  }
  completion_tokens += r.completion_tokens;
  reasoning_tokens += r.reasoning_tokens;
}

ordered_json usage_json(const UsageTotals& u, bool with_reasoning) {
  ordered_json j = {{"prompt_tokens", u.prompt_tokens},
                    {"completion_tokens", u.completion_tokens},
                    {"total_tokens", u.prompt_tokens + u.completion_tokens},
                    {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
  if (with_reasoning) j["completion_tokens_details"] = {{"reasoning_tokens", u.reasoning_tokens}};
  return j;
}

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string sse(const ordered_json& j) { return "data: " + dump(j) + "\n\n"; }

std::string sse_engine_error(const GenerationResult& r) {
  return sse({{"error",
               {{"message", "generation failed: " + r.error},
                {"type", "server_error"},
                {"param", nullptr},
                {"code", "engine_error"}}}});
}

void throw_context_exceeded(int64_t prompt_tokens, int32_t max_context, const char* what) {
  throw_request_error("This model's maximum context length is " + std::to_string(max_context) +
                          " tokens. However, your " + what + " resulted in " +
                          std::to_string(prompt_tokens) +
                          " tokens, which leaves no room for the completion. Please reduce the "
                          "length of the " + what + ".",
                      what, 400, "context_length_exceeded");
}

int32_t fit_max_tokens(int64_t prompt_tokens, std::optional<int64_t> requested,
                       int32_t max_context, const char* what) {
  auto budget = fit_output(prompt_tokens, requested, max_context);
  if (!budget) throw_context_exceeded(prompt_tokens, max_context, what);
  return budget->max_tokens;
}

void log_once(std::atomic<bool>& flag, const std::string& message) {
  if (!flag.exchange(true)) AS_LOG_WARN("{}", message);
}

void respond_request_error(HttpExchange& ex, const RequestError& e) {
  respond_error(ex, ApiFamily::kOpenAI, e.error);
}

}  // namespace agentserve::server::openai
