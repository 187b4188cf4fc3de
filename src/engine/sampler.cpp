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

namespace {

// Candidates are ranked by (logit descending, token id ascending); a truncation keeps every
// token ranked at or above a cut.
struct Key {
  float logit;
  int32_t token;
};
inline bool ranks_before(const Key& a, const Key& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.token < b.token);
}
inline bool kept_by(const Key& k, const Key& cut) { return !ranks_before(cut, k); }

}  // namespace

// Draws from work_ (masked and penalised logits) with temperature, top-k, top-p and min-p,
// in O(vocab): no full sort, only selection and a histogram of logits for the top-p cut. The
// draw walks token ids in order, so a seeded request samples the same token on every machine
// whatever the standard library's selection order.
int32_t Sampler::sample_token(const SamplingParams& params, Rng& rng) {
  const int32_t vocab = static_cast<int32_t>(work_.size());
  const float inv_temp = 1.0f / params.temperature;
  float max_logit = kNegInf;
  for (float v : work_) max_logit = std::max(max_logit, v);
  AS_CHECK_MSG(max_logit > kNegInf, "no token allowed by the mask");
  // Unnormalised probabilities, computed once: weight_[t] = exp((logit - max) / T).
  weight_.assign(static_cast<size_t>(vocab), 0.0f);
  Key cut{kNegInf, vocab};  // ranks after every allowed token: keeps them all
  cand_.clear();
  for (int32_t t = 0; t < vocab; ++t) {
    const float v = work_[static_cast<size_t>(t)];
    if (v == kNegInf) continue;
    weight_[static_cast<size_t>(t)] = std::exp((v - max_logit) * inv_temp);
    cand_.push_back({v, t});
  }
  auto weight = [&](const std::pair<float, int32_t>& c) {
    return static_cast<double>(weight_[static_cast<size_t>(c.second)]);
  };
  auto as_key = [](const std::pair<float, int32_t>& c) { return Key{c.first, c.second}; };
  auto by_rank = [&](const auto& a, const auto& b) { return ranks_before(as_key(a), as_key(b)); };

  // top-k: the k-th ranked candidate is the cut; the rest leave the candidate list.
  if (params.top_k > 0 && params.top_k < static_cast<int32_t>(cand_.size())) {
    std::nth_element(cand_.begin(), cand_.begin() + (params.top_k - 1), cand_.end(), by_rank);
    cut = as_key(cand_[static_cast<size_t>(params.top_k - 1)]);
    cand_.resize(static_cast<size_t>(params.top_k));
  }
  // min-p: p >= min_p * p_max  <=>  logit >= max_logit + T * ln(min_p).
  float min_logit = kNegInf;
  if (params.min_p > 0.0f)
    min_logit = max_logit + params.temperature * std::log(params.min_p);

  // top-p: the smallest ranked prefix whose mass reaches top_p of the (top-k) total. Bucket
  // the candidates by logit, find the bucket where the running mass crosses, and sort only it.
  if (params.top_p < 1.0f && cand_.size() > 1) {
    double total = 0.0;
    for (const auto& c : cand_) total += weight(c);
    const double target = params.top_p * total;
    constexpr int kBins = 4096;
    // Buckets cover the candidates' own logit range (a flat distribution spans a tiny one),
    // at most 64 T: below e^-64 of the top weight a token adds nothing.
    float lowest = max_logit;
    for (const auto& c : cand_) lowest = std::min(lowest, c.first);
    const float span = std::max(std::min(64.0f * params.temperature, max_logit - lowest), 1e-30f);
    auto bin_of = [&](float v) {
      const float x = (max_logit - v) / span * kBins;
      return x >= static_cast<float>(kBins) ? kBins : static_cast<int>(x);
    };
    bin_mass_.assign(kBins + 1, 0.0);
    for (const auto& c : cand_) bin_mass_[static_cast<size_t>(bin_of(c.first))] += weight(c);
    double before = 0.0;
    int crossing = kBins;
    for (int b = 0; b <= kBins; ++b) {
      if (before + bin_mass_[static_cast<size_t>(b)] >= target) {
        crossing = b;
        break;
      }
      before += bin_mass_[static_cast<size_t>(b)];
    }
    bin_members_.clear();
    for (const auto& c : cand_)
      if (bin_of(c.first) == crossing) bin_members_.push_back(c);
    std::sort(bin_members_.begin(), bin_members_.end(), by_rank);
    Key p_cut = as_key(bin_members_.back());
    for (const auto& c : bin_members_) {
      before += weight(c);
      if (before >= target) {
        p_cut = as_key(c);
        break;
      }
    }
    if (ranks_before(p_cut, cut)) cut = p_cut;
  }

  // The draw, over token ids in order.
  auto kept = [&](int32_t t) {
    const float v = work_[static_cast<size_t>(t)];
    return v != kNegInf && v >= min_logit && kept_by(Key{v, t}, cut);
  };
  double mass = 0.0;
  for (int32_t t = 0; t < vocab; ++t)
    if (kept(t)) mass += weight_[static_cast<size_t>(t)];
  double u = rng.next_double() * mass;
  int32_t last = -1;
  for (int32_t t = 0; t < vocab; ++t) {
    if (!kept(t)) continue;
    last = t;
    u -= weight_[static_cast<size_t>(t)];
    if (u < 0.0) return t;
  }
  AS_CHECK_GE(last, 0);
  return last;
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
