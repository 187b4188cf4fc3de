#include "engine/context_size.h"

#include <gtest/gtest.h>

namespace agentserve {
namespace {

constexpr int64_t kGiB = 1ll << 30;

// Qwen3-0.6B: 28 layers x 8 KV heads x 128 x (K, V) x bf16 = 112 KiB per token.
ContextSizeInputs qwen3_small(int64_t ram) {
  ContextSizeInputs in;
  in.model_max = 40960;
  in.kv_bytes_per_token = 28 * 8 * 128 * 2 * 2;
  in.weight_bytes = 1'190'000'000;
  in.ram_bytes = ram;
  return in;
}

TEST(ContextSize, AnExplicitContextIsTakenAsGiven) {
  ContextSizeInputs in = qwen3_small(24 * kGiB);
  in.requested = 8400;
  const ContextSize c = choose_context_size(in);
  EXPECT_EQ(c.tokens, 8400);
  EXPECT_EQ(c.why, "--ctx");
}

TEST(ContextSize, TheModelsMaximumWhenItsKvFits) {
  // 40,960 tokens x 112 KiB = 4.4 GiB, within 25% of the 22.9 GiB the weights leave.
  const ContextSize c = choose_context_size(qwen3_small(24 * kGiB));
  EXPECT_EQ(c.tokens, 40960);
  EXPECT_EQ(c.why, "the model's maximum");
  // A Claude Code session's first request (~20k tokens) fits the default.
  EXPECT_GT(c.tokens, 20000);
}

TEST(ContextSize, MemoryLimitsTheDefaultToWholePages) {
  // 8 GiB of RAM: 25% of (8 GiB - 1.19 GB) = 1.72 GiB = 16,130 tokens of 112 KiB -> 16,128.
  const ContextSize c = choose_context_size(qwen3_small(8 * kGiB));
  const int64_t budget = static_cast<int64_t>((8 * kGiB - 1'190'000'000) * 0.25);
  EXPECT_EQ(c.tokens, budget / (28 * 8 * 128 * 2 * 2) / 16 * 16);
  EXPECT_LT(c.tokens, 40960);
  EXPECT_GE(c.tokens, kMinDefaultContext);
  EXPECT_NE(c.why.find("the model allows 40960"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("25% of the RAM the weights leave (1.7 GiB)"), std::string::npos) << c.why;
}

TEST(ContextSize, NeverBelowTheFormerDefault) {
  // 2 GiB of RAM holds ~1.8k tokens in a quarter of what the weights leave: 8,192 all the same.
  const ContextSize c = choose_context_size(qwen3_small(2 * kGiB));
  EXPECT_EQ(c.tokens, kMinDefaultContext);
  EXPECT_NE(c.why.find("holds only"), std::string::npos) << c.why;
  // ... unless the model itself allows less.
  ContextSizeInputs small = qwen3_small(2 * kGiB);
  small.model_max = 2048;
  EXPECT_EQ(choose_context_size(small).tokens, 2048);
}

TEST(ContextSize, TheDefaultPoolIsCappedAt32GiB) {
  // A 262k-token model with 96 KiB per token on a 1 TiB machine: 32 GiB hold 349,525 tokens,
  // so the model's maximum; with 512 KiB per token the cap decides (65,536 tokens).
  ContextSizeInputs in;
  in.model_max = 262144;
  in.kv_bytes_per_token = 512 * 1024;
  in.weight_bytes = 60 * kGiB;
  in.ram_bytes = 1024 * kGiB;
  EXPECT_EQ(choose_context_size(in).tokens, kDefaultKvMaxBytes / (512 * 1024));
  EXPECT_NE(choose_context_size(in).why.find("the default's cap of 32 GiB"), std::string::npos)
      << choose_context_size(in).why;
  in.kv_bytes_per_token = 96 * 1024;
  EXPECT_EQ(choose_context_size(in).tokens, 262144);
}

TEST(ContextSize, UnknownMemoryTakesTheModelsMaximum) {
  ContextSizeInputs in = qwen3_small(0);
  EXPECT_EQ(choose_context_size(in).tokens, 40960);
}

}  // namespace
}  // namespace agentserve

namespace agentserve {
namespace {

TEST(RamTierSize, AQuarterOfRamWhenTheTotalStaysWithinTheShare) {
  // Qwen3-0.6B on 24 GiB: weights 1.1 GiB, pool 4.4 GiB, tier 6 GiB = 11.5 GiB < 18 GiB.
  const RamTierSize t = choose_ram_tier_size(24 * kGiB, 1'190'000'000, 40960ll * 114688);
  EXPECT_EQ(t.bytes, 6 * kGiB);
  EXPECT_EQ(t.why, "");
}

TEST(RamTierSize, CappedAt32GiB) {
  EXPECT_EQ(choose_ram_tier_size(512 * kGiB, 16 * kGiB, 32 * kGiB).bytes, 32 * kGiB);
}

TEST(RamTierSize, ABigModelLeavesLessAndSaysWhy) {
  // 12 GiB of weights on 24 GiB with a 3 GiB pool: 18 - 12 - 3 = 3 GiB, not 6.
  const RamTierSize t = choose_ram_tier_size(24 * kGiB, 12 * kGiB, 3 * kGiB);
  EXPECT_EQ(t.bytes, 3 * kGiB);
  EXPECT_NE(t.why.find("within 75% of RAM"), std::string::npos) << t.why;
  // Weights, pool and tier never pass the share.
  EXPECT_LE(12 * kGiB + 3 * kGiB + t.bytes, static_cast<int64_t>(24 * kGiB * kDefaultMemoryShare));
}

TEST(RamTierSize, NoRoomMeansNoTierNotANegativeOne) {
  const RamTierSize t = choose_ram_tier_size(24 * kGiB, 16 * kGiB, 4 * kGiB);
  EXPECT_EQ(t.bytes, 0);
  EXPECT_FALSE(t.why.empty());
}

TEST(RamTierSize, UnknownRamMeansNoTier) {
  EXPECT_EQ(choose_ram_tier_size(0, kGiB, kGiB).bytes, 0);
}

}  // namespace
}  // namespace agentserve
