// What /v1/chat/completions and /v1/completions share: the sampling and stopping fields, the
// response envelope (id, created, model, usage), finish reasons, and the bookkeeping of a
// request that runs n generations and answers once all of them have finished.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/generation.h"
#include "server/http_exchange.h"
#include "server/request_fields.h"
#include "server/server_context.h"

namespace agentserve::server::openai {

using nlohmann::ordered_json;

// The fields both endpoints read the same way. Range checks follow OpenAI's documented limits;
// top_k, min_p and repetition_penalty are extensions (vLLM and llama-server accept them too).
struct CommonFields {
  SamplingParams sampling;                // seed, penalties, truncation; logprobs set per API
  std::vector<std::string> stop;          // at most 4, empty strings dropped
  std::optional<int64_t> max_tokens;      // absent: the API's default
  int n = 1;
  bool stream = false;
  bool include_usage = false;             // stream_options.include_usage
  std::string model_name;                 // as the client sent it ("" when absent)
};

// Reads the common fields; throws RequestError.
CommonFields read_common_fields(const ordered_json& body, const char* max_tokens_key);

// The spec of choice `index`: with a seed, choice i samples with seed + i so that n choices
// differ yet the whole response stays reproducible.
GenerationSpec spec_for_choice(const GenerationSpec& base, int index);

// "chatcmpl-<24 hex>" / "cmpl-<24 hex>".
std::string make_id(const char* prefix);
int64_t unix_now();

// OpenAI's finish_reason for a generation's end ("stop" or "length"; errors are answered
// separately).
const char* finish_reason(StopKind stop);
// Chat: "tool_calls" when the turn ended (end of turn or a stop string) after complete calls.
const char* chat_finish_reason(const GenerationResult& result);

// Aggregated over choices: the prompt counts once (it is shared), completions add up.
struct UsageTotals {
  int32_t prompt_tokens = 0;
  int32_t cached_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t reasoning_tokens = 0;
  void add(const GenerationResult& r, bool first);
};
ordered_json usage_json(const UsageTotals& u, bool with_reasoning);

// JSON text for the wire: invalid UTF-8 (a token holding half a character) becomes U+FFFD
// instead of throwing.
std::string dump(const ordered_json& j);
// One server-sent event.
std::string sse(const ordered_json& j);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";
inline constexpr const char* kSseKeepAlive = ": keep-alive\n\n";
// The event that reports an engine failure after the stream's headers went out (the stream
// ends with it): {"error": {...}} in OpenAI's error shape.
std::string sse_engine_error(const GenerationResult& r);

// The 400 for a prompt that leaves no room in the context, in OpenAI's wording (clients match
// "maximum context length").
[[noreturn]] void throw_context_exceeded(int64_t prompt_tokens, int32_t max_context,
                                         const char* what);

// Fits the output into the context after the prompt; throws context_length_exceeded.
int32_t fit_max_tokens(int64_t prompt_tokens, std::optional<int64_t> requested,
                       int32_t max_context, const char* what);

// Logs `message` the first time `flag` is seen unset (features accepted but not enforced yet).
void log_once(std::atomic<bool>& flag, const std::string& message);

// Answers a RequestError or any other exception thrown while reading a request.
void respond_request_error(HttpExchange& ex, const RequestError& e);

}  // namespace agentserve::server::openai
