#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "base/check.h"
#include "engine/sampler_exp.h"

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

// A uniform integer in [0, total): the high half of a 64x64-bit product (one RNG draw, as
// before; bias below total / 2^64).
uint64_t draw_below(Rng& rng, uint64_t total) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<uint64_t>((static_cast<u128>(rng.next_u64()) * total) >> 64);
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

// Draws from `row` (masked and penalised logits) with temperature, top-k, top-p and min-p, in
// O(vocab). The weights are exp((logit - max) / T) by sampling::exp_neg, bit-identical on
// every code path, and the draw walks token ids in order summing them in fixed point
// (integers, exact), so a seeded request samples the same token on every machine whatever
// the standard library's selection order or the CPU's vector width.
//
// Without truncation no candidate list is built: one vector pass writes the fixed-point
// weight of each block of 64 tokens, the draw finds its block among those sums and recomputes
// that block's 64 weights. With truncation the tokens that can survive it are collected first
// by a vector threshold pass (few, in the usual case), and only they get weights and sorting.
int32_t Sampler::sample_token(const float* row, int32_t vocab, const SamplingParams& params,
                              Rng& rng) {
  using sampling::kBlock;
  const int64_t blocks = (vocab + kBlock - 1) / kBlock;
  block_max_.resize(static_cast<size_t>(blocks));
  const float max_logit = sampling::max_with_blocks(row, vocab, block_max_.data());
  AS_CHECK_MSG(max_logit > kNegInf, "no token allowed by the mask");
  const float inv_temp = 1.0f / params.temperature;
  const bool top_k = params.top_k > 0 && params.top_k < vocab;
  const bool top_p = params.top_p < 1.0f;
  const bool min_p = params.min_p > 0.0f;

  if (!top_k && !top_p && !min_p) {
    block_sum_.resize(static_cast<size_t>(blocks));
    const uint64_t total =
        sampling::exp_weights(row, vocab, max_logit, inv_temp, nullptr, block_sum_.data());
    uint64_t u = draw_below(rng, total);  // < total, so the walks below stop inside the row
    int64_t b = 0;
    while (u >= block_sum_[static_cast<size_t>(b)]) u -= block_sum_[static_cast<size_t>(b++)];
    AS_CHECK_LT(b, blocks);
    float w[kBlock];
    const int64_t begin = b * kBlock, len = std::min<int64_t>(kBlock, vocab - begin);
    sampling::exp_weights(row + begin, len, max_logit, inv_temp, w, nullptr);
    for (int64_t i = 0; i < len; ++i) {
      const uint64_t f = sampling::fixed_weight(w[i]);
      if (u < f) return static_cast<int32_t>(begin + i);
      u -= f;
    }
    AS_CHECK_MSG(false, "draw past the end of its block");
  }

  // `lower`: every token that can survive truncation has a logit at or above it.
  const float min_logit =
      min_p ? max_logit + params.temperature * std::log(params.min_p) : kNegInf;
  float lower = kNegInf;
  uint64_t total_all = 0;  // top-p without top-k: fixed-point mass of every allowed token
  if (top_k) {
    // The k largest block maxima are k distinct tokens, so the k-th largest of them is at or
    // below the k-th largest logit.
    if (params.top_k <= blocks) {
      scratch_.assign(block_max_.begin(), block_max_.end());
      std::nth_element(scratch_.begin(), scratch_.begin() + (params.top_k - 1), scratch_.end(),
                       std::greater<float>());
      lower = scratch_[static_cast<size_t>(params.top_k - 1)];
    }
    // min-p cannot raise it: top-p, applied before min-p, counts the mass of all top k.
  } else if (top_p) {
    // A token of weight at most (1 - p) M / vocab (M: the total) lies past the top-p cut, as
    // it and all ranked after it weigh at most (1 - p) M together. Collect down to half that
    // weight, a margin far above the rounding of the weights and of this bound.
    total_all = sampling::exp_weights(row, vocab, max_logit, inv_temp, nullptr, nullptr);
    const double w_min =
        0.5 * (1.0 - params.top_p) * sampling::fixed_to_double(total_all) / vocab;
    lower = max_logit + params.temperature * static_cast<float>(std::log(w_min));
  } else {
    lower = min_logit;
  }
  ids_.resize(static_cast<size_t>(vocab) + 16);
  const int64_t count = sampling::collect_at_least(row, vocab, lower, ids_.data());
  cand_.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int32_t t = ids_[static_cast<size_t>(i)];
    cand_[static_cast<size_t>(i)] = {row[t], t, 0.0f};
  }
  auto as_key = [](const Cand& c) { return Key{c.logit, c.token}; };
  auto by_rank = [&](const Cand& a, const Cand& b) { return ranks_before(as_key(a), as_key(b)); };
  bool token_order = true;  // cand_ is in token order (as collected)

  // top-k: the k-th ranked candidate is the cut; the rest leave the candidate list.
  if (top_k && params.top_k < static_cast<int32_t>(cand_.size())) {
    std::nth_element(cand_.begin(), cand_.begin() + (params.top_k - 1), cand_.end(), by_rank);
    cand_.resize(static_cast<size_t>(params.top_k));
    token_order = false;
  }
  // The candidates' weights, by the same vector pass over their gathered logits.
  const size_t n = cand_.size();
  scratch_.resize(2 * n);
  for (size_t i = 0; i < n; ++i) scratch_[i] = cand_[i].logit;
  const uint64_t cand_total = sampling::exp_weights(scratch_.data(), static_cast<int64_t>(n),
                                                    max_logit, inv_temp, scratch_.data() + n,
                                                    nullptr);
  for (size_t i = 0; i < n; ++i) cand_[i].weight = scratch_[n + i];

  // top-p: the smallest ranked prefix whose mass reaches top_p of the (top-k) total.
  Key cut{kNegInf, vocab};  // ranks after every allowed token: keeps them all
  if (top_p && n > 1) {
    const double target =
        params.top_p * sampling::fixed_to_double(top_k ? cand_total : total_all);
    constexpr size_t kSortBelow = 4096;
    if (n <= kSortBelow) {
      // Few candidates (the usual case after top-k or with a peaked row): sort them.
      std::sort(cand_.begin(), cand_.end(), by_rank);
      token_order = false;
      double before = 0.0;
      for (const Cand& c : cand_) {
        before += c.weight;
        if (before >= target) {
          cut = as_key(c);
          break;
        }
      }
    } else {
      // Many (a flat row): bucket them by logit, find the bucket where the running mass
      // crosses, and sort only it. Buckets cover the candidates' own logit range (a flat
      // distribution spans a tiny one), at most 64 T: below e^-64 of the top weight a token
      // adds nothing.
      constexpr int kBins = 4096;
      float lowest = max_logit;
      for (const Cand& c : cand_) lowest = std::min(lowest, c.logit);
      const float span =
          std::max(std::min(64.0f * params.temperature, max_logit - lowest), 1e-30f);
      auto bin_of = [&](float v) {
        const float x = (max_logit - v) / span * kBins;
        return x >= static_cast<float>(kBins) ? kBins : static_cast<int>(x);
      };
      bin_mass_.assign(kBins + 1, 0.0);
      for (const Cand& c : cand_) bin_mass_[static_cast<size_t>(bin_of(c.logit))] += c.weight;
      double before = 0.0;
      int crossing = -1;
      for (int b = 0; b <= kBins; ++b) {
        if (before + bin_mass_[static_cast<size_t>(b)] >= target) {
          crossing = b;
          break;
        }
        before += bin_mass_[static_cast<size_t>(b)];
      }
      // No crossing only when rounding leaves the candidates' mass a hair under a top_p of
      // almost 1: then all candidates are kept.
      if (crossing >= 0) {
        bin_members_.clear();
        for (const Cand& c : cand_)
          if (bin_of(c.logit) == crossing) bin_members_.push_back(c);
        std::sort(bin_members_.begin(), bin_members_.end(), by_rank);
        cut = as_key(bin_members_.back());
        for (const Cand& c : bin_members_) {
          before += c.weight;
          if (before >= target) {
            cut = as_key(c);
            break;
          }
        }
      }
    }
  }

  // min-p: p >= min_p * p_max  <=>  logit >= max_logit + T * ln(min_p).
  std::erase_if(cand_, [&](const Cand& c) { return c.logit < min_logit || !kept_by(as_key(c), cut); });
  if (!token_order)
    std::sort(cand_.begin(), cand_.end(),
              [](const Cand& a, const Cand& b) { return a.token < b.token; });
  return draw_candidates(rng);
}

// The draw over the kept candidates, in token order, in fixed point.
int32_t Sampler::draw_candidates(Rng& rng) {
  AS_CHECK_MSG(!cand_.empty(), "truncation kept no token");
  uint64_t total = 0;
  for (const Cand& c : cand_) total += sampling::fixed_weight(c.weight);
  uint64_t u = draw_below(rng, total);
  for (const Cand& c : cand_) {
    const uint64_t f = sampling::fixed_weight(c.weight);
    if (u < f) return c.token;
    u -= f;
  }
  AS_CHECK_MSG(false, "draw past the last candidate");
  return -1;
}

// log-softmax of the unprocessed logits at `token`, and the top alternatives. The
// normaliser is one vector exp pass summed in fixed point (exact given the weights, whose
// relative error is below 2e-7).
void Sampler::fill_logprobs(std::span<const float> logits, const SamplingParams& params,
                            int32_t token, const uint32_t* mask, SampleResult* out) {
  using sampling::kBlock;
  const int64_t n = static_cast<int64_t>(logits.size());
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  block_max_.resize(static_cast<size_t>(blocks));
  const float max_logit = sampling::max_with_blocks(logits.data(), n, block_max_.data());
  const uint64_t sum = sampling::exp_weights(logits.data(), n, max_logit, 1.0f, nullptr, nullptr);
  const float log_norm =
      max_logit + static_cast<float>(std::log(sampling::fixed_to_double(sum)));
  out->logprob = logits[static_cast<size_t>(token)] - log_norm;
  const int32_t k = std::clamp(params.num_top_logprobs, 0, 20);
  if (k == 0) return;
  std::vector<std::pair<float, int32_t>> top;
  // Without a mask the k best lie at or above the k-th largest block maximum (as in top-k):
  // collect those few and sort them. Ties rank the lower token id first.
  if (mask == nullptr && k <= blocks) {
    scratch_.assign(block_max_.begin(), block_max_.end());
    std::nth_element(scratch_.begin(), scratch_.begin() + (k - 1), scratch_.end(),
                     std::greater<float>());
    const float lower = scratch_[static_cast<size_t>(k - 1)];
    if (lower > kNegInf) {
      ids_.resize(static_cast<size_t>(n) + 16);
      const int64_t count = sampling::collect_at_least(logits.data(), n, lower, ids_.data());
      top.reserve(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        const int32_t t = ids_[static_cast<size_t>(i)];
        top.push_back({logits[static_cast<size_t>(t)], t});
      }
      const size_t keep = std::min(top.size(), static_cast<size_t>(k));
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                        [](const auto& a, const auto& b) {
                          return a.first > b.first || (a.first == b.first && a.second < b.second);
                        });
      top.resize(keep);
      for (const auto& [v, t] : top) out->top_logprobs.push_back({t, v - log_norm});
      return;
    }
  }
  // With a mask (allowed tokens only, and the sampled one): one insertion pass.
  top.reserve(static_cast<size_t>(k) + 1);
  for (int32_t t = 0; t < static_cast<int32_t>(n); ++t) {
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

SampleResult Sampler::sample(std::span<const float> logits, const SamplingParams& params,
                             const TokenHistory& history, Rng& rng, const uint32_t* mask) {
  const int32_t vocab = static_cast<int32_t>(logits.size());
  AS_CHECK_GT(vocab, 0);
  // Fixed-point sums hold up to 2^64 / 2^45 tokens of weight 1 (sampler_exp.h).
  AS_CHECK_LT(vocab, 1 << 19);
  const bool repetition = params.uses_repetition_penalty();
  const bool openai_penalties = params.presence_penalty != 0.0f || params.frequency_penalty != 0.0f;
  // The logits are read in place unless a mask or a penalty changes them.
  const float* row = logits.data();
  if (mask != nullptr || repetition || openai_penalties) {
    work_.assign(logits.begin(), logits.end());
    if (mask != nullptr)
      for (int32_t t = 0; t < vocab; ++t)
        if (!allowed(mask, t)) work_[static_cast<size_t>(t)] = kNegInf;
    if (repetition) {
      for (const auto& [t, count] : history.seen()) {
        if (t < 0 || t >= vocab) continue;
        float& v = work_[static_cast<size_t>(t)];
        v = v > 0.0f ? v / params.repetition_penalty : v * params.repetition_penalty;
      }
    }
    if (openai_penalties) {
      for (const auto& [t, count] : history.generated()) {
        if (t < 0 || t >= vocab) continue;
        work_[static_cast<size_t>(t)] -=
            params.presence_penalty + params.frequency_penalty * static_cast<float>(count);
      }
    }
    row = work_.data();
  }

  SampleResult result;
  if (params.is_greedy()) {
    // First maximum wins, as torch.argmax does. The maximum comes from the vector pass and
    // the winner is the first token holding it; disallowed tokens are -inf in `row`, so when
    // the maximum is finite that token is allowed. A NaN first allowed logit (nothing ranks
    // above it in the loop below) and an all -inf row take the loop.
    int32_t first = 0;
    while (!allowed(mask, first) && first + 1 < vocab) ++first;
    block_max_.resize(static_cast<size_t>((vocab + sampling::kBlock - 1) / sampling::kBlock));
    const float max_logit = sampling::max_with_blocks(row, vocab, block_max_.data());
    if (max_logit > kNegInf && !std::isnan(row[first])) {
      // The first block holding the maximum, then the first token in it (a plain scan of
      // the row does not vectorize and costs more than the max pass).
      const auto b = std::find(block_max_.begin(), block_max_.end(), max_logit) - block_max_.begin();
      result.token = static_cast<int32_t>(std::find(row + b * sampling::kBlock, row + vocab, max_logit) - row);
      AS_CHECK_LT(result.token, vocab);
      if (params.want_logprobs || params.num_top_logprobs > 0)
        fill_logprobs(logits, params, result.token, mask, &result);
      return result;
    }
    int32_t best = -1;
    float best_v = kNegInf;
    for (int32_t t = 0; t < vocab; ++t) {
      if (!allowed(mask, t)) continue;
      const float v = row[t];
      if (best < 0 || v > best_v) {
        best = t;
        best_v = v;
      }
    }
    AS_CHECK_MSG(best >= 0, "no token allowed by the mask");
    result.token = best;
  } else {
    result.token = sample_token(row, vocab, params, rng);
  }
  if (params.want_logprobs || params.num_top_logprobs > 0)
    fill_logprobs(logits, params, result.token, mask, &result);
  return result;
}

SampleResult Sampler::forced(std::span<const float> logits, const SamplingParams& params,
                             int32_t token) {
  AS_CHECK(token >= 0 && static_cast<size_t>(token) < logits.size());
  SampleResult result;
  result.token = token;
  if (params.want_logprobs || params.num_top_logprobs > 0)
    fill_logprobs(logits, params, token, nullptr, &result);
  return result;
}

}  // namespace agentserve
