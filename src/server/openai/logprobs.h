// Token log-probabilities in OpenAI's two shapes: chat's `logprobs.content[{token, logprob,
// bytes, top_logprobs}]` and the legacy completions `logprobs{tokens, token_logprobs,
// top_logprobs, text_offset}`.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "engine/sampler.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::server::openai {

// One chat `content[]` entry for a sampled token. `bytes` carries the raw token bytes because
// `token` (a JSON string) cannot hold part of a UTF-8 character.
nlohmann::ordered_json chat_logprob_entry(const SampleResult& sample, std::string_view token_bytes,
                                          const Tokenizer& tokenizer);

// The legacy shape, built token by token. text_offset counts bytes of the returned text, which
// starts after `start_offset` bytes (the echoed prompt).
class LegacyLogprobs {
 public:
  explicit LegacyLogprobs(size_t start_offset = 0) : offset_(start_offset) {}
  void add(const SampleResult& sample, std::string_view token_bytes, const Tokenizer& tokenizer);
  bool empty() const { return tokens_.empty(); }
  // The accumulated entries; take() also starts a new, empty batch (streaming sends a batch
  // per chunk) while text offsets keep counting.
  nlohmann::ordered_json json() const;
  nlohmann::ordered_json take();

 private:
  size_t offset_;
  nlohmann::ordered_json tokens_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json token_logprobs_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json top_logprobs_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json text_offset_ = nlohmann::ordered_json::array();
};

}  // namespace agentserve::server::openai
