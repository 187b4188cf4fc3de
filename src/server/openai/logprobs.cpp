#include "server/openai/logprobs.h"

#include <cmath>

namespace agentserve::server::openai {
namespace {

using nlohmann::ordered_json;

// JSON has no -inf; OpenAI reports impossible tokens as -9999.0.
double finite_logprob(float lp) { return std::isfinite(lp) ? static_cast<double>(lp) : -9999.0; }

ordered_json byte_list(std::string_view bytes) {
  ordered_json a = ordered_json::array();
  for (unsigned char c : bytes) a.push_back(static_cast<int>(c));
  return a;
}

}  // namespace

ordered_json chat_logprob_entry(const SampleResult& sample, std::string_view token_bytes,
                                const Tokenizer& tokenizer) {
  ordered_json top = ordered_json::array();
  for (const TokenLogprob& alt : sample.top_logprobs) {
    const std::string& b = tokenizer.token_bytes(alt.token);
    top.push_back({{"token", b}, {"logprob", finite_logprob(alt.logprob)}, {"bytes", byte_list(b)}});
  }
  return {{"token", std::string(token_bytes)},
          {"logprob", finite_logprob(sample.logprob)},
          {"bytes", byte_list(token_bytes)},
          {"top_logprobs", std::move(top)}};
}

void LegacyLogprobs::add(const SampleResult& sample, std::string_view token_bytes,
                         const Tokenizer& tokenizer) {
  tokens_.push_back(std::string(token_bytes));
  token_logprobs_.push_back(finite_logprob(sample.logprob));
  ordered_json top = ordered_json::object();
  for (const TokenLogprob& alt : sample.top_logprobs)
    top[tokenizer.token_bytes(alt.token)] = finite_logprob(alt.logprob);
  top_logprobs_.push_back(std::move(top));
  text_offset_.push_back(offset_);
  offset_ += token_bytes.size();
}

ordered_json LegacyLogprobs::json() const {
  return {{"tokens", tokens_},
          {"token_logprobs", token_logprobs_},
          {"top_logprobs", top_logprobs_},
          {"text_offset", text_offset_}};
}

ordered_json LegacyLogprobs::take() {
  ordered_json j = json();
  tokens_ = ordered_json::array();
  token_logprobs_ = ordered_json::array();
  top_logprobs_ = ordered_json::array();
  text_offset_ = ordered_json::array();
  return j;
}

}  // namespace agentserve::server::openai
