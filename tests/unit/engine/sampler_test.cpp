#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "engine/sampler.h"

namespace agentserve {
namespace {

std::vector<float> random_logits(std::mt19937& rng, int n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// Empirical distribution of `draws` samples.
std::map<int32_t, double> histogram(Sampler& s, const std::vector<float>& logits,
                                    const SamplingParams& p, int draws) {
  TokenHistory h;
  Rng rng(1234);
  std::map<int32_t, double> counts;
  for (int i = 0; i < draws; ++i) counts[s.sample(logits, p, h, rng).token] += 1.0 / draws;
  return counts;
}

TEST(Sampler, GreedyPicksFirstMaximum) {
  Sampler s;
  TokenHistory h;
  Rng rng(1);
  SamplingParams p;
  p.temperature = 0.0f;
  EXPECT_EQ(s.sample(std::vector<float>{1, 5, 5, 2}, p, h, rng).token, 1);
}

TEST(Sampler, TemperatureSamplingMatchesSoftmax) {
  Sampler s;
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, -1.0f};
  SamplingParams p;
  p.temperature = 0.7f;
  auto hist = histogram(s, logits, p, 200000);
  double z = 0;
  for (float l : logits) z += std::exp(l / 0.7);
  for (int t = 0; t < 4; ++t)
    EXPECT_NEAR(hist[t], std::exp(logits[static_cast<size_t>(t)] / 0.7) / z, 0.005) << t;
}

TEST(Sampler, TopKTopPMinPKeepTheRightSets) {
  Sampler s;
  // Probabilities 0.5, 0.25, 0.125, 0.0625, ... (logits ln p).
  std::vector<float> logits;
  for (int i = 0; i < 10; ++i) logits.push_back(static_cast<float>(std::log(std::pow(0.5, i + 1))));
  SamplingParams p;
  p.top_k = 2;
  auto k2 = histogram(s, logits, p, 60000);
  EXPECT_EQ(k2.size(), 2u);
  EXPECT_NEAR(k2[0], 2.0 / 3.0, 0.01);  // renormalised over the top 2

  SamplingParams q;
  q.top_p = 0.8f;  // 0.5 + 0.25 = 0.75 < 0.8, so three tokens are kept
  auto p3 = histogram(s, logits, q, 60000);
  EXPECT_EQ(p3.size(), 3u);

  SamplingParams m;
  m.min_p = 0.2f;  // keeps p >= 0.1: 0.5, 0.25, 0.125
  auto m3 = histogram(s, logits, m, 60000);
  EXPECT_EQ(m3.size(), 3u);
  EXPECT_NEAR(m3[2], 0.125 / 0.875, 0.01);
}

TEST(Sampler, TopPAndMinPOverLargeFlatVocabulary) {
  // 150k near-uniform tokens: the kept set is far larger than the first sorted slice.
  std::mt19937 rng(7);
  auto logits = random_logits(rng, 150000, 0.01f);
  Sampler s;
  TokenHistory h;
  Rng r(3);
  SamplingParams p;
  p.top_p = 0.5f;
  std::map<int32_t, int> seen;
  for (int i = 0; i < 1000; ++i) seen[s.sample(logits, p, h, r).token]++;
  // With ~75k tokens kept, 1000 draws hit almost all distinct tokens.
  EXPECT_GT(seen.size(), 980u);
  // Every drawn token lies in the top half by logit.
  std::vector<float> sorted = logits;
  std::nth_element(sorted.begin(), sorted.begin() + 80000, sorted.end(), std::greater<float>());
  const float cutoff = sorted[80000];
  for (const auto& [t, c] : seen) EXPECT_GE(logits[static_cast<size_t>(t)], cutoff);

  SamplingParams m;
  m.min_p = 0.5f;  // with scale 0.01 every token has p >= 0.5 p_max: nothing is cut
  std::map<int32_t, int> seen_m;
  for (int i = 0; i < 1000; ++i) seen_m[s.sample(logits, m, h, r).token]++;
  EXPECT_GT(seen_m.size(), 980u);
}

TEST(Sampler, PenaltiesFollowTheirDefinitions) {
  Sampler s;
  Rng rng(1);
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;
  TokenHistory h;
  h.add_prompt(std::vector<int32_t>{0});
  // Token 0 (logit 3) is divided to 1.5, below token 1 (2.0).
  EXPECT_EQ(s.sample(std::vector<float>{3.0f, 2.0f, -1.0f}, p, h, rng).token, 1);
  // Negative logits are multiplied: token 2 at -1 → -2 stays below.
  p.repetition_penalty = 1.0f;
  p.frequency_penalty = 0.6f;
  TokenHistory g;
  g.add_prompt(std::vector<int32_t>{1, 1, 1});  // prompt tokens do not count for OpenAI penalties
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 1.5f}, p, g, rng).token, 1);
  g.add_generated(1);  // 1.5 - 0.6 = 0.9 < 1.0
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 1.5f}, p, g, rng).token, 0);
  p.frequency_penalty = 0.0f;
  p.presence_penalty = 0.4f;  // 1.5 - 0.4 = 1.1 > 1.0
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 1.5f}, p, g, rng).token, 1);
}

TEST(Sampler, MaskRestrictsChoicesAndSeedsReproduce) {
  std::mt19937 gen(11);
  auto logits = random_logits(gen, 1000, 2.0f);
  std::vector<uint32_t> mask((1000 + 31) / 32, 0);
  for (int t : {17, 400, 999}) mask[static_cast<size_t>(t / 32)] |= 1u << (t % 32);
  Sampler s;
  TokenHistory h;
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_p = 0.9f;
  Rng a(42), b(42);
  for (int i = 0; i < 200; ++i) {
    const int32_t t = s.sample(logits, p, h, a, mask.data()).token;
    EXPECT_TRUE(t == 17 || t == 400 || t == 999) << t;
    EXPECT_EQ(t, s.sample(logits, p, h, b, mask.data()).token);
  }
  p.temperature = 0.0f;
  EXPECT_TRUE(s.sample(logits, p, h, a, mask.data()).token == 17 ||
              s.sample(logits, p, h, a, mask.data()).token == 400 ||
              s.sample(logits, p, h, a, mask.data()).token == 999);
}

TEST(Sampler, LogprobsAreNormalised) {
  Sampler s;
  TokenHistory h;
  Rng rng(5);
  SamplingParams p;
  p.temperature = 0.0f;
  p.want_logprobs = true;
  p.num_top_logprobs = 3;
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 0.0f};
  SampleResult r = s.sample(logits, p, h, rng);
  EXPECT_EQ(r.token, 1);
  double z = 0;
  for (float l : logits) z += std::exp(l);
  EXPECT_NEAR(r.logprob, 3.0 - std::log(z), 1e-5);
  ASSERT_EQ(r.top_logprobs.size(), 3u);
  EXPECT_EQ(r.top_logprobs[0].token, 1);
  EXPECT_EQ(r.top_logprobs[1].token, 2);
  EXPECT_EQ(r.top_logprobs[2].token, 0);
}

}  // namespace
}  // namespace agentserve

namespace agentserve {
namespace {

// The top-p cut is exact: against a brute-force sort, over random peaked and flat rows.
TEST(Sampler, TopPKeepsExactlyTheSmallestPrefixReachingP) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Sampler s;
  TokenHistory h;
  for (int round = 0; round < 30; ++round) {
    const float scale = round % 3 == 0 ? 0.05f : (round % 3 == 1 ? 1.0f : 6.0f);
    auto logits = random_logits(rng, 3000, scale);
    SamplingParams p;
    p.top_p = 0.3f + 0.6f * static_cast<float>(rng() % 100) / 100.0f;
    p.temperature = 0.5f + static_cast<float>(rng() % 100) / 100.0f;
    // Brute force: sort by logit, keep the prefix whose mass first reaches top_p.
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)] ||
             (logits[static_cast<size_t>(a)] == logits[static_cast<size_t>(b)] && a < b);
    });
    const float mx = logits[static_cast<size_t>(order[0])];
    double total = 0;
    for (float l : logits) total += std::exp(static_cast<double>((l - mx) / p.temperature));
    // The kept set, and each kept token's probability within it. A token just past the cut
    // is tolerated only when the cut is a rounding-level tie.
    std::set<int32_t> allowed;
    std::map<int32_t, double> weight;
    double cum = 0;
    int32_t boundary_next = -1;
    for (size_t i = 0; i < order.size(); ++i) {
      const int32_t t = order[i];
      const double w = std::exp(static_cast<double>((logits[static_cast<size_t>(t)] - mx) / p.temperature));
      allowed.insert(t);
      weight[t] = w;
      cum += w;
      if (cum >= p.top_p * total) {
        if (i + 1 < order.size() && cum - w >= p.top_p * total * (1 - 1e-9)) boundary_next = order[i + 1];
        break;
      }
    }
    Rng r(static_cast<uint64_t>(round));
    std::map<int32_t, int> drawn;
    const int draws = 400;
    for (int i = 0; i < draws; ++i) drawn[s.sample(logits, p, h, r).token]++;
    for (const auto& [t, count] : drawn) {
      EXPECT_TRUE(allowed.count(t) || t == boundary_next) << "token " << t << " outside the top-p set";
    }
    // Every kept token with at least 3% of the kept mass shows up (miss chance < 1e-5).
    for (const auto& [t, w] : weight) {
      if (w / cum >= 0.03) {
        EXPECT_TRUE(drawn.count(t)) << "token " << t << " with probability " << w / cum << " never drawn";
      }
    }
  }
}

}  // namespace
}  // namespace agentserve
