#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace agentserve {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline bool allowed(const uint32_t* mask, int32_t token) {
  return mask == nullptr || ((mask[token >> 5] >> (token & 31)) & 1u) != 0;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// log-softmax of the unprocessed logits at `token`, and the top alternatives.
void fill_logprobs(std::span<const float> logits, const SamplingParams& params, int32_t token,
                   const uint32_t* mask, SampleResult* out) {
  float max_logit = kNegInf;
  for (float v : logits) max_logit = std::max(max_logit, v);
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - max_logit));
  const float log_norm = max_logit + static_cast<float>(std::log(sum));
  out->logprob = logits[static_cast<size_t>(token)] - log_norm;
  const int32_t k = std::clamp(params.num_top_logprobs, 0, 20);
  if (k == 0) return;
  std::vector<std::pair<float, int32_t>> top;
  top.reserve(static_cast<size_t>(k) + 1);
  for (int32_t t = 0; t < static_cast<int32_t>(logits.size()); ++t) {
    if (!allowed(mask, t) && t != token) continue;
    const float v = logits[static_cast<size_t>(t)];
    if (static_cast<int32_t>(top.size()) < k || v > top.back().first) {
      auto pos = std::upper_bound(top.begin(), top.end(), std::make_pair(v, t),
                                  [](const auto& a, const auto& b) { return a.first > b.first; });
      top.insert(pos, {v, t});
      if (static_cast<int32_t>(top.size()) > k) top.pop_back();
    }
  }
  for (const auto& [v, t] : top) out->top_logprobs.push_back({t, v - log_norm});
}

}  // namespace

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::next_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

void TokenHistory::add_prompt(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) ++seen_[t];
}

void TokenHistory::add_generated(int32_t token) {
  ++seen_[token];
  ++generated_[token];
}

void TokenHistory::clear() {
  seen_.clear();
  generated_.clear();
}

int32_t Sampler::sample_token(const SamplingParams& params, Rng& rng) {
  const int32_t vocab = static_cast<int32_t>(work_.size());
  const float inv_temp = 1.0f / params.temperature;
  float max_logit = kNegInf;
  for (float v : work_) max_logit = std::max(max_logit, v);
  AS_CHECK_MSG(max_logit > kNegInf, "no token allowed by the mask");
  auto weight = [&](float v) { return std::exp(static_cast<double>((v - max_logit) * inv_temp)); };

  cand_.clear();
  double total = 0.0;  // mass of every allowed token
  for (int32_t t = 0; t < vocab; ++t) {
    const float v = work_[static_cast<size_t>(t)];
    if (v == kNegInf) continue;
    cand_.push_back({v, t});
    total += weight(v);
  }
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const int32_t num_allowed = static_cast<int32_t>(cand_.size());
  if (params.top_k <= 0 && params.top_p >= 1.0f && params.min_p <= 0.0f) {
    // No truncation: draw from the whole distribution, no sorting needed.
    double u = rng.next_double() * total;
    for (const auto& [v, t] : cand_) {
      u -= weight(v);
      if (u < 0.0) return t;
    }
    return cand_.back().second;
  }
  // Sorting all 150k candidates costs ~10 ms, so sort a top slice and widen it until the
  // top-p or min-p cut falls inside it. With top-k the slice is exactly the top k, and the
  // distribution is renormalised over it (as Hugging Face's TopKLogitsWarper does).
  int32_t slice = params.top_k > 0 ? std::min(params.top_k, num_allowed)
                                   : std::min<int32_t>(256, num_allowed);
  double slice_mass = 0.0;
  while (true) {
    std::partial_sort(cand_.begin(), cand_.begin() + slice, cand_.end(), by_logit);
    slice_mass = 0.0;
    for (int32_t i = 0; i < slice; ++i) slice_mass += weight(cand_[static_cast<size_t>(i)].first);
    const bool top_p_cut_inside = params.top_p < 1.0f && slice_mass >= params.top_p * total;
    const bool min_p_cut_inside =
        params.min_p > 0.0f && weight(cand_[static_cast<size_t>(slice - 1)].first) <
                                   params.min_p * weight(cand_[0].first);
    if (params.top_k > 0 || slice == num_allowed || top_p_cut_inside || min_p_cut_inside) break;
    slice = std::min<int32_t>(num_allowed, slice * 8);
  }
  if (params.top_k > 0) total = slice_mass;
  std::vector<double>& probs = probs_;
  probs.resize(static_cast<size_t>(slice));
  for (int32_t i = 0; i < slice; ++i)
    probs[static_cast<size_t>(i)] = weight(cand_[static_cast<size_t>(i)].first) / total;
  size_t keep = static_cast<size_t>(slice);
  if (params.top_p < 1.0f) {
    double cum = 0.0;
    for (size_t i = 0; i < keep; ++i) {
      cum += probs[i];
      if (cum >= params.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (params.min_p > 0.0f) {
    const double threshold = params.min_p * probs[0];
    size_t n = 1;
    while (n < keep && probs[n] >= threshold) ++n;
    keep = n;
  }
  double mass = 0.0;
  for (size_t i = 0; i < keep; ++i) mass += probs[i];
  double u = rng.next_double() * mass;
  for (size_t i = 0; i < keep; ++i) {
    u -= probs[i];
    if (u < 0.0) return cand_[i].second;
  }
  return cand_[keep - 1].second;
}

SampleResult Sampler::sample(std::span<const float> logits, const SamplingParams& params,
                             const TokenHistory& history, Rng& rng, const uint32_t* mask) {
  const int32_t vocab = static_cast<int32_t>(logits.size());
  AS_CHECK_GT(vocab, 0);
  work_.assign(logits.begin(), logits.end());
  if (mask != nullptr)
    for (int32_t t = 0; t < vocab; ++t)
      if (!allowed(mask, t)) work_[static_cast<size_t>(t)] = kNegInf;

  if (params.repetition_penalty != 1.0f && params.repetition_penalty > 0.0f) {
    for (const auto& [t, count] : history.seen()) {
      if (t < 0 || t >= vocab) continue;
      float& v = work_[static_cast<size_t>(t)];
      v = v > 0.0f ? v / params.repetition_penalty : v * params.repetition_penalty;
    }
  }
  if (params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f) {
    for (const auto& [t, count] : history.generated()) {
      if (t < 0 || t >= vocab) continue;
      work_[static_cast<size_t>(t)] -=
          params.presence_penalty + params.frequency_penalty * static_cast<float>(count);
    }
  }

  SampleResult result;
  if (params.is_greedy()) {
    // First maximum wins, as torch.argmax does.
    int32_t best = -1;
    float best_v = kNegInf;
    for (int32_t t = 0; t < vocab; ++t) {
      if (!allowed(mask, t)) continue;
      const float v = work_[static_cast<size_t>(t)];
      if (best < 0 || v > best_v) {
        best = t;
        best_v = v;
      }
    }
    AS_CHECK_MSG(best >= 0, "no token allowed by the mask");
    result.token = best;
  } else {
    result.token = sample_token(params, rng);
  }
  if (params.want_logprobs || params.num_top_logprobs > 0)
    fill_logprobs(logits, params, result.token, mask, &result);
  return result;
}

}  // namespace agentserve
