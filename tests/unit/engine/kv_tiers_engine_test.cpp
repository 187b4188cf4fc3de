// The KV tiers through the engine on a tiny real model (make-test-model), exact f32 KV:
// a conversation evicted from the pool by other traffic comes back from the RAM tier, or from
// the disk tier, or from the disk after a restart (a new engine on the same directory), reports
// those tokens as cached, and gives the greedy tokens of a cache-off run. Also the model
// fingerprint that keys it all.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "engine/model_fingerprint.h"
#include "model/test_model.h"
#include "model/weights.h"
#include "tiny_model_support.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

using test::GreedyRun;

GreedyRun generate(Engine& engine, const std::vector<int32_t>& prompt, int32_t n) {
  return test::run_greedy(engine, prompt, n);
}

class TieredEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = (fs::temp_directory_path() / ("as_tiers_engine_" + std::to_string(::getpid()))).string();
    for (uint64_t seed : {5, 6}) {
      auto model = test::make_tiny_qwen3(base_ + "/model" + std::to_string(seed), seed);
      ASSERT_NE(model, nullptr);
      (seed == 5 ? model_ : other_) = std::move(model);
    }
  }
  static void TearDownTestSuite() {
    model_.reset();
    other_.reset();
    fs::remove_all(base_);
  }
  void SetUp() override {
    fs::remove_all(cache_dir());
    cold_backend_ = backend();
    cold_ = std::make_unique<Engine>(cold_backend_.get(), options(false, 0, 0));
  }
  void TearDown() override {
    cold_.reset();
    cold_backend_.reset();
  }
  // The greedy tokens of `prompt` without any cache: the reference every cached run must give.
  GreedyRun cold_run(const std::vector<int32_t>& prompt, int32_t n) {
    return generate(*cold_, prompt, n);
  }
  static std::string cache_dir() { return base_ + "/kv"; }
  // A pool of 16 pages of 16 tokens: a few other prompts evict a conversation.
  static std::unique_ptr<CpuBackend> backend() { return test::exact_backend(*model_, 256); }
  static EngineOptions options(bool cache, int64_t ram, int64_t disk) {
    EngineOptions eo;
    eo.max_batch_tokens = 64;
    eo.check_integrity = true;
    eo.prefix_cache = cache;
    auto fp = compute_model_fingerprint(*model_, DType::kF32, 16);
    EXPECT_TRUE(fp.ok());
    eo.model_fingerprint = *fp;
    eo.kv_tiers.ram_bytes = ram;
    eo.kv_tiers.disk_bytes = disk;
    eo.kv_tiers.disk_dir = cache_dir();
    eo.kv_tiers.disk_sync = false;
    eo.kv_tiers.disk_load = DiskLoadPolicy::kAlways;  // the rule itself: KvTiers; here, the path
    eo.kv_tiers.progress = false;
    return eo;
  }
  static std::vector<int32_t> random_prompt(std::mt19937& rng, int32_t n) {
    std::vector<int32_t> p(static_cast<size_t>(n));
    for (auto& t : p) t = static_cast<int32_t>(rng() % 150000);
    return p;
  }
  // Other conversations, enough to push every page of an earlier one out of the pool.
  static void other_traffic(Engine& engine, std::mt19937& rng) {
    for (int i = 0; i < 3; ++i) generate(engine, random_prompt(rng, 200), 4);
  }

  static inline std::string base_;
  static inline std::unique_ptr<LoadedModel> model_, other_;
  std::unique_ptr<CpuBackend> cold_backend_;
  std::unique_ptr<Engine> cold_;
};

TEST_F(TieredEngine, EvictedConversationComesBackFromRam) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> a = random_prompt(rng, 75);
  const GreedyRun reference = cold_run(a, 12);

  auto b = backend();
  Engine warm(b.get(), options(true, 64ll << 20, 0));
  ASSERT_NE(warm.kv_tiers(), nullptr);
  EXPECT_EQ(warm.kv_tiers()->disk(), nullptr);
  EXPECT_EQ(generate(warm, a, 12).usage.cached_prompt_tokens, 0);
  other_traffic(warm, rng);
  // Nothing of A is left in the pool: its first page would otherwise match.
  EXPECT_EQ(warm.cache_stats().ram.hits, 0);
  const GreedyRun again = generate(warm, a, 12);
  EXPECT_EQ(again.usage.cached_prompt_tokens, 64);
  EXPECT_EQ(again.tokens, reference.tokens);
  const CacheStats s = warm.cache_stats();
  EXPECT_EQ(s.ram.hits, 4);  // all four pages came from RAM
  EXPECT_GT(s.ram.pages, 0);
  EXPECT_EQ(s.ram.capacity_bytes, 64ll << 20);
  EXPECT_EQ(warm.check_integrity(), "");
}

TEST_F(TieredEngine, EvictedConversationComesBackFromDiskAndAfterARestart) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> a = random_prompt(rng, 75);
  const GreedyRun reference = cold_run(a, 12);
  {
    auto b = backend();
    Engine warm(b.get(), options(true, 0, 1ll << 30));  // disk only
    ASSERT_NE(warm.kv_tiers()->disk(), nullptr);
    EXPECT_EQ(generate(warm, a, 12).usage.cached_prompt_tokens, 0);
    other_traffic(warm, rng);
    warm.kv_tiers()->flush();
    const GreedyRun again = generate(warm, a, 12);
    EXPECT_EQ(again.usage.cached_prompt_tokens, 64);
    EXPECT_EQ(again.tokens, reference.tokens);
    EXPECT_EQ(warm.cache_stats().disk.hits, 4);
  }  // shut down: queued writes are flushed
  {
    auto b = backend();
    Engine restarted(b.get(), options(true, 64ll << 20, 1ll << 30));
    EXPECT_GT(restarted.cache_stats().disk.pages, 4);
    const GreedyRun after = generate(restarted, a, 12);
    EXPECT_EQ(after.usage.cached_prompt_tokens, 64);
    EXPECT_EQ(after.tokens, reference.tokens);
    // A follow-up turn extends it: everything computed before the restart is reused.
    std::vector<int32_t> turn2 = a;
    turn2.insert(turn2.end(), after.tokens.begin(), after.tokens.end());
    const std::vector<int32_t> user = random_prompt(rng, 20);
    turn2.insert(turn2.end(), user.begin(), user.end());
    EXPECT_EQ(generate(restarted, turn2, 4).tokens, cold_run(turn2, 4).tokens);
    EXPECT_EQ(restarted.check_integrity(), "");
    // A clear forgets the tiers too: nothing of A comes back from RAM or disk.
    bool cleared = false;
    restarted.request_cache_clear([&](CacheClearResult) { cleared = true; });
    const GreedyRun after_clear = generate(restarted, a, 12);
    EXPECT_TRUE(cleared);
    EXPECT_EQ(after_clear.usage.cached_prompt_tokens, 0);
    EXPECT_EQ(after_clear.tokens, reference.tokens);
  }
}

// Disk reads run on the prefetcher's thread: while a request's prefix comes back from a slow
// disk (20 ms a page here), a stream already running keeps decoding; the request then gets all
// of its prefix from the disk (reported as cached) and the greedy tokens of a cache-off run.
// Read on the engine thread, the four page reads would stall the stream for their 80 ms: it
// would produce at most one token between the request's arrival and its first token.
TEST_F(TieredEngine, DiskReadsDoNotStallOtherStreams) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> a = random_prompt(rng, 75);
  const GreedyRun reference = cold_run(a, 12);

  auto b = backend();
  EngineOptions o = options(true, 0, 1ll << 30);  // disk only
  o.kv_tiers.disk_read_delay_us = 20000;
  Engine engine(b.get(), o);
  EXPECT_EQ(generate(engine, a, 12).usage.cached_prompt_tokens, 0);
  other_traffic(engine, rng);
  engine.kv_tiers()->flush();
  ASSERT_GT(engine.cache_stats().disk.pages, 4);

  // A stream of 140 tokens (it and A fit the 256-token pool together)...
  GenerationRequest stream = fixed_length_greedy_request(random_prompt(rng, 10), 140);
  auto stream_events = stream.events;
  engine.submit(std::move(stream));
  int stream_tokens = 0;
  auto drain_stream = [&] {
    while (auto e = stream_events->try_pop())
      if (e->kind == EngineEvent::Kind::kToken) ++stream_tokens;
  };
  while (stream_tokens < 3) {
    ASSERT_TRUE(engine.step());
    drain_stream();
  }
  // ... then A, whose prefix is on disk only.
  GenerationRequest ra = fixed_length_greedy_request(a, 12);
  auto a_events = ra.events;
  engine.submit(std::move(ra));
  const int before = stream_tokens;
  int during = -1;
  GreedyRun again;
  while (engine.step()) {
    drain_stream();
    while (auto e = a_events->try_pop()) {
      if (e->kind != EngineEvent::Kind::kToken) {
        again.usage = e->usage;
        continue;
      }
      if (again.tokens.empty()) during = stream_tokens - before;
      again.tokens.push_back(e->sample.token);
    }
  }
  drain_stream();
  EXPECT_EQ(stream_tokens, 140);
  EXPECT_EQ(again.usage.cached_prompt_tokens, 64);
  EXPECT_EQ(again.tokens, reference.tokens);
  EXPECT_EQ(engine.cache_stats().disk.hits, 4);
  std::printf("  stream tokens while A's 4 pages were read from disk: %d\n", during);
  EXPECT_GE(during, 3) << "the stream stalled while A's prefix was read from disk";
  EXPECT_EQ(engine.check_integrity(), "");
}

TEST_F(TieredEngine, ModelFingerprintSeparatesModelsAndKvLayouts) {
  auto fp = [](const LoadedModel& m, DType d, int32_t ps) {
    auto r = compute_model_fingerprint(m, d, ps);
    EXPECT_TRUE(r.ok());
    return *r;
  };
  const Hash128 base = fp(*model_, DType::kF32, 16);
  EXPECT_EQ(base, fp(*model_, DType::kF32, 16));  // deterministic
  EXPECT_NE(base, Hash128{});
  EXPECT_NE(base, fp(*other_, DType::kF32, 16));  // same shape and config, other weights
  EXPECT_NE(base, fp(*model_, DType::kBF16, 16));
  EXPECT_NE(base, fp(*model_, DType::kF32, 32));
}

}  // namespace
}  // namespace agentserve
