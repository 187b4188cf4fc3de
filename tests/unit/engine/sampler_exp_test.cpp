// The sampler's exponential and vector passes: every tier this CPU runs gives the scalar
// reference's bits (the cross-machine determinism of seeded sampling rests on it), the
// exponential is accurate, and sampling gives the same tokens on the portable and best tiers.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "base/cpu_features.h"
#include "engine/sampler.h"
#include "engine/sampler_exp.h"

namespace agentserve {
namespace {

using sampling::exp_neg;

// Restores the tier a test started with (AGENTSERVE_CPU_TIER may have lowered it).
class TierGuard {
 public:
  TierGuard() : saved_(active_cpu_tier()) {}
  ~TierGuard() { set_cpu_tier(saved_); }

 private:
  CpuTier saved_;
};

// The vector tiers this machine supports (each kernel family keys on avx2 and avx512).
std::vector<CpuTier> vector_tiers() {
  std::vector<CpuTier> tiers;
  for (CpuTier t : {CpuTier::kAvx2, CpuTier::kAvx512})
    if (cpu_features().best >= t) tiers.push_back(t);
  return tiers;
}

std::vector<float> exp_inputs() {
  std::vector<float> x = {0.0f, -0.0f, -std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::min(), -1e-30f, -1e-10f, -1e-7f,
                          -5.9604645e-8f, -1e-3f, -0.5f, -1.0f, -10.0f, -86.99f, -87.0f,
                          std::nextafter(-87.0f, 0.0f), std::nextafter(-87.0f, -100.0f),
                          -87.33654f, -87.5f, -88.0f, -88.72f, -89.0f, -100.0f, -103.97f,
                          -104.0f, -150.0f, -1e30f, -std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::infinity(), 1e-20f, 0.5f, 3.0f};
  // Either side of each rounding boundary of n = round(x log2 e): x = (k + 1/2) ln 2.
  for (int k = 0; k < 127; ++k) {
    const float b = -static_cast<float>((k + 0.5) * std::log(2.0));
    for (float v = b, i = 0; i < 3; ++i, v = std::nextafter(v, 0.0f)) x.push_back(v);
    for (float v = b, i = 0; i < 3; ++i, v = std::nextafter(v, -200.0f)) x.push_back(v);
  }
  std::mt19937 rng(2026);
  std::uniform_real_distribution<float> wide(-110.0f, 0.0f), narrow(-2.0f, 0.0f);
  for (int i = 0; i < 200000; ++i) x.push_back(i % 2 ? wide(rng) : narrow(rng));
  // Random bit patterns of negative floats: every exponent, subnormals included.
  for (int i = 0; i < 50000; ++i) x.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng()) | 0x80000000u));
  return x;
}

TEST(SamplerExp, EveryVectorTierMatchesTheScalarBitForBit) {
  const std::vector<float> x = exp_inputs();
  std::vector<float> ref(x.size());
  uint64_t ref_total = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    ref[i] = exp_neg(x[i]);
    ref_total += sampling::fixed_weight(ref[i]);
  }
  const auto tiers = vector_tiers();
  if (tiers.empty()) GTEST_SKIP() << "this CPU has no AVX2: only the scalar path exists";
  TierGuard guard;
  for (CpuTier tier : tiers) {
    set_cpu_tier(tier);
    SCOPED_TRACE(cpu_tier_name(tier));
    std::vector<float> got(x.size(), -1.0f);
    // shift 0, scale 1: the pass evaluates exp_neg(x) itself.
    const uint64_t total = sampling::exp_weights(x.data(), static_cast<int64_t>(x.size()), 0.0f,
                                                 1.0f, got.data(), nullptr);
    EXPECT_EQ(total, ref_total);
    int mismatches = 0;
    for (size_t i = 0; i < x.size() && mismatches < 10; ++i) {
      if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(ref[i])) {
        ++mismatches;
        ADD_FAILURE() << "x = " << x[i] << " (0x" << std::hex << std::bit_cast<uint32_t>(x[i])
                      << std::dec << "): vector " << got[i] << ", scalar " << ref[i];
      }
    }
  }
}

// The passes with shift and scale, every length up to a few blocks (vector tails), against
// the portable tier: weights, block sums, maxima and collected ids.
TEST(SamplerExp, PassesAgreeAcrossTiersAtEveryLength) {
  const auto tiers = vector_tiers();
  if (tiers.empty()) GTEST_SKIP() << "this CPU has no AVX2: only the scalar path exists";
  TierGuard guard;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int64_t n = 1; n <= 300; ++n) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = rng() % 17 == 0 ? -std::numeric_limits<float>::infinity() : normal(rng);
    const float shift = 6.0f, scale = 1.0f / 0.7f, threshold = 1.5f;
    const int64_t blocks = (n + sampling::kBlock - 1) / sampling::kBlock;
    auto run = [&](CpuTier tier, std::vector<float>* w, std::vector<uint64_t>* sums,
                   std::vector<float>* bmax, std::vector<int32_t>* ids, float* max, uint64_t* total) {
      set_cpu_tier(tier);
      w->assign(static_cast<size_t>(n), -1.0f);
      sums->assign(static_cast<size_t>(blocks), 0);
      bmax->assign(static_cast<size_t>(blocks), 0.0f);
      ids->assign(static_cast<size_t>(n) + 16, -1);
      *total = sampling::exp_weights(x.data(), n, shift, scale, w->data(), sums->data());
      *max = sampling::max_with_blocks(x.data(), n, bmax->data());
      ids->resize(static_cast<size_t>(sampling::collect_at_least(x.data(), n, threshold, ids->data())));
    };
    std::vector<float> w0, bmax0;
    std::vector<uint64_t> sums0;
    std::vector<int32_t> ids0;
    float max0;
    uint64_t total0;
    run(CpuTier::kPortable, &w0, &sums0, &bmax0, &ids0, &max0, &total0);
    for (CpuTier tier : tiers) {
      SCOPED_TRACE(std::string(cpu_tier_name(tier)) + " n=" + std::to_string(n));
      std::vector<float> w, bmax;
      std::vector<uint64_t> sums;
      std::vector<int32_t> ids;
      float max;
      uint64_t total;
      run(tier, &w, &sums, &bmax, &ids, &max, &total);
      EXPECT_EQ(0, std::memcmp(w.data(), w0.data(), w.size() * sizeof(float)));
      EXPECT_EQ(sums, sums0);
      EXPECT_EQ(total, total0);
      EXPECT_EQ(bmax, bmax0);
      EXPECT_EQ(max, max0);
      EXPECT_EQ(ids, ids0);
    }
  }
}

TEST(SamplerExp, AccurateAgainstDoubleExp) {
  EXPECT_EQ(exp_neg(0.0f), 1.0f);  // the most likely token weighs exactly 1
  EXPECT_EQ(exp_neg(-0.0f), 1.0f);
  EXPECT_EQ(exp_neg(2.0f), 1.0f);  // x > 0 is taken as 0
  EXPECT_EQ(exp_neg(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(exp_neg(std::nextafter(-87.0f, -100.0f)), 0.0f);
  EXPECT_EQ(exp_neg(-104.0f), 0.0f);
  EXPECT_GT(exp_neg(-87.0f), 0.0f);
  // Every float in [-1, 0) (tiny arguments, where e^x ~ 1 - |x|), then a dense sweep down to -87.
  double worst = 0.0;
  float worst_x = 0.0f;
  auto check = [&](float x) {
    const double want = std::exp(static_cast<double>(x));
    const double err = std::abs(static_cast<double>(exp_neg(x)) - want) / want;
    if (err > worst) {
      worst = err;
      worst_x = x;
    }
  };
  for (float x = -std::numeric_limits<float>::denorm_min(); x >= -1.0f;
       x = std::bit_cast<float>(std::bit_cast<uint32_t>(x) + 7))
    check(x);
  for (int i = 0; i <= 8700000; ++i) check(-1e-5f * static_cast<float>(i) - 0.0000031f * (i % 7));
  std::printf("max relative error of exp_neg on [-87, 0]: %.3g at x = %.9g\n", worst, worst_x);
  EXPECT_LE(worst, 2e-7) << "at x = " << worst_x;
}

// Seeded sampling: the portable tier and every vector tier draw the same tokens and report
// the same logprobs, over plain temperature, each truncation and the mixes of them.
TEST(SamplerExp, PortableAndBestTiersSampleTheSameTokens) {
  const auto tiers = vector_tiers();
  if (tiers.empty()) GTEST_SKIP() << "this CPU has no AVX2: only the scalar path exists";
  TierGuard guard;
  std::mt19937 gen(99);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(20011);  // not a multiple of a block: the tail is drawn from too
  for (auto& v : logits) v = normal(gen);
  std::vector<SamplingParams> cases(6);
  cases[0].temperature = 1.0f;
  cases[1].temperature = 0.7f, cases[1].top_p = 0.95f, cases[1].top_k = 40;
  cases[2] = cases[1], cases[2].min_p = 0.05f;
  cases[3].temperature = 1.3f, cases[3].top_p = 0.9f;
  cases[4].temperature = 0.8f, cases[4].min_p = 0.1f;
  cases[5].temperature = 1.0f, cases[5].want_logprobs = true, cases[5].num_top_logprobs = 5;
  TokenHistory h;
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<SampleResult> want;
    Sampler s;
    set_cpu_tier(CpuTier::kPortable);
    for (uint64_t seed = 0; seed < 150; ++seed) {
      Rng rng(seed);
      want.push_back(s.sample(logits, cases[c], h, rng));
    }
    std::set<int32_t> distinct;
    for (const auto& r : want) distinct.insert(r.token);
    EXPECT_GE(distinct.size(), 3u) << "case " << c << ": the draws should differ between seeds";
    for (CpuTier tier : tiers) {
      set_cpu_tier(tier);
      for (uint64_t seed = 0; seed < 150; ++seed) {
        Rng rng(seed);
        const SampleResult got = s.sample(logits, cases[c], h, rng);
        const SampleResult& w = want[seed];
        ASSERT_EQ(got.token, w.token) << "case " << c << " tier " << cpu_tier_name(tier) << " seed " << seed;
        EXPECT_EQ(std::bit_cast<uint32_t>(got.logprob), std::bit_cast<uint32_t>(w.logprob));
        ASSERT_EQ(got.top_logprobs.size(), w.top_logprobs.size());
        for (size_t i = 0; i < got.top_logprobs.size(); ++i) {
          EXPECT_EQ(got.top_logprobs[i].token, w.top_logprobs[i].token);
          EXPECT_EQ(got.top_logprobs[i].logprob, w.top_logprobs[i].logprob);
        }
      }
    }
  }
}

// The untruncated draw skips whole blocks by their sums; it must pick exactly the token that
// walking every token id in order with the same fixed-point weights and random number picks.
TEST(SamplerExp, BlockSkippingDrawEqualsTheTokenOrderWalk) {
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(151936);
  for (auto& v : logits) v = normal(gen);
  float max = -std::numeric_limits<float>::infinity();
  for (float v : logits) max = std::max(max, v);
  const float temperature = 1.7f;
  std::vector<uint64_t> fixed(logits.size());
  uint64_t total = 0;
  for (size_t t = 0; t < logits.size(); ++t)
    total += fixed[t] = sampling::fixed_weight(exp_neg((logits[t] - max) * (1.0f / temperature)));
  Sampler s;
  TokenHistory h;
  SamplingParams p;
  p.temperature = temperature;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed), copy(seed);
    const int32_t got = s.sample(logits, p, h, rng).token;
    uint64_t u = static_cast<uint64_t>((static_cast<unsigned __int128>(copy.next_u64()) * total) >> 64);
    int32_t want = -1;
    for (size_t t = 0; t < fixed.size(); ++t) {
      if (u < fixed[t]) {
        want = static_cast<int32_t>(t);
        break;
      }
      u -= fixed[t];
    }
    ASSERT_EQ(got, want) << "seed " << seed;
  }
}

}  // namespace
}  // namespace agentserve
