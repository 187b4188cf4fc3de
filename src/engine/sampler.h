// Turns one row of logits into a token: (mask) → penalties → temperature → top-k → top-p →
// min-p → draw. The order follows Hugging Face's logits processors and vLLM. Host code; the
// CUDA backend will run the same steps on the device.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/sampling_params.h"

namespace agentserve {

// Deterministic, portable PRNG (xoshiro256**) seeded through splitmix64, so a seeded request
// gives the same tokens on every machine.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next_u64();
  double next_double();  // uniform in [0, 1), 53 random bits

 private:
  uint64_t s_[4];
};

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;
};

struct SampleResult {
  int32_t token = -1;
  float logprob = 0.0f;                    // log-probability under the model (before penalties,
                                           // temperature and truncation), when requested
  std::vector<TokenLogprob> top_logprobs;  // most likely alternatives, best first
};

// The per-sequence state that penalties need: counts of every token seen so far.
class TokenHistory {
 public:
  void add_prompt(std::span<const int32_t> tokens);
  void add_generated(int32_t token);
  void clear();
  const std::unordered_map<int32_t, int32_t>& seen() const { return seen_; }
  const std::unordered_map<int32_t, int32_t>& generated() const { return generated_; }

 private:
  std::unordered_map<int32_t, int32_t> seen_;       // prompt + generated
  std::unordered_map<int32_t, int32_t> generated_;  // generated only
};

class Sampler {
 public:
  // `mask`, when given, holds ceil(vocab/32) words; token t is allowed when bit (t % 32) of
  // word t / 32 is set. At least one token must be allowed.
  SampleResult sample(std::span<const float> logits, const SamplingParams& params,
                      const TokenHistory& history, Rng& rng,
                      const uint32_t* mask = nullptr);
  // A token chosen by the caller (scripted test output) instead of drawn: no randomness is
  // used, and when logprobs are requested they are those of the model's raw logits, as for a
  // sampled token (the chosen token's own, plus the model's top alternatives).
  SampleResult forced(std::span<const float> logits, const SamplingParams& params,
                      int32_t token);

 private:
  // A truncation candidate: its processed logit, token id and weight exp((logit - max) / T).
  struct Cand {
    float logit;
    int32_t token;
    float weight;
  };
  int32_t sample_token(const float* row, int32_t vocab, const SamplingParams& params, Rng& rng);
  int32_t draw_candidates(Rng& rng);
  void fill_logprobs(std::span<const float> logits, const SamplingParams& params, int32_t token,
                     const uint32_t* mask, SampleResult* out);

  std::vector<float> work_;         // [vocab] logits after mask and penalties, when either applies
  std::vector<float> block_max_;    // [vocab / 64] maximum of each block of 64 tokens
  std::vector<uint64_t> block_sum_; // [vocab / 64] fixed-point weight of each block
  std::vector<float> scratch_;      // block maxima under selection; candidate logits, weights
  std::vector<int32_t> ids_;        // [vocab + 16] tokens collected above a threshold
  std::vector<Cand> cand_;          // truncation candidates (a superset of the kept tokens)
  std::vector<double> bin_mass_;    // top-p over many candidates: mass per logit bucket
  std::vector<Cand> bin_members_;   // top-p: the bucket where the mass crosses
};

}  // namespace agentserve
