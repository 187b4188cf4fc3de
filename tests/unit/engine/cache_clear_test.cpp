// Engine::request_cache_clear (POST /v1/cache/clear): asked from outside the step, run at the
// start of the next one on the engine thread; drops what no running sequence uses and leaves a
// running sequence's pages, and its output, alone.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "model/test_model.h"
#include "model/weights.h"
#include "tiny_model_support.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

class CacheClear : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("as_cache_clear_" + std::to_string(::getpid()))).string();
    model_ = test::make_tiny_qwen3(dir_, 5);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    model_.reset();
    fs::remove_all(dir_);
  }
  // Exact numerics, so that reused pages give the same greedy tokens as recomputed ones.
  std::unique_ptr<CpuBackend> backend() { return test::exact_backend(*model_, 1024); }
  static EngineOptions options(bool cache) {
    EngineOptions eo;
    eo.max_batch_tokens = 64;
    eo.check_integrity = true;  // after every step, the clear's included
    eo.prefix_cache = cache;
    return eo;
  }
  static GenerationRequest request(const std::vector<int32_t>& prompt, int32_t n) {
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling.temperature = 0.0f;
    r.stop.max_new_tokens = n;
    r.stop.ignore_stop_tokens = true;
    return r;
  }
  struct Out {
    std::vector<int32_t> tokens;
    Usage usage;
    bool finished = false;
  };
  static void drain(EventChannel& events, Out* out) {
    while (auto e = events.try_pop()) {
      if (e->kind == EngineEvent::Kind::kToken) {
        out->tokens.push_back(e->sample.token);
      } else {
        out->usage = e->usage;
        out->finished = true;
      }
    }
  }
  static Out generate(Engine& engine, const std::vector<int32_t>& prompt, int32_t n) {
    GenerationRequest r = request(prompt, n);
    auto events = r.events;
    engine.submit(std::move(r));
    engine.run_until_idle();
    Out out;
    drain(*events, &out);
    EXPECT_TRUE(out.finished);
    return out;
  }

  static inline std::string dir_;
  static inline std::unique_ptr<LoadedModel> model_;
};

TEST_F(CacheClear, KeepsARunningSequencesPagesAndFreesTheRest) {
  std::mt19937 rng(11);
  std::vector<int32_t> a(64);
  for (auto& t : a) t = static_cast<int32_t>(rng() % 150000);
  // b shares a's first two pages, then goes its own way.
  std::vector<int32_t> b(a.begin(), a.begin() + 32);
  for (int i = 0; i < 40; ++i) b.push_back(static_cast<int32_t>(rng() % 150000));

  auto cold_backend = backend();
  Engine cold(cold_backend.get(), options(false));
  const Out b_reference = generate(cold, b, 24);

  auto warm_backend = backend();
  Engine warm(warm_backend.get(), options(true));
  generate(warm, a, 4);  // caches a's four pages

  GenerationRequest rb = request(b, 24);
  auto b_events = rb.events;
  warm.submit(std::move(rb));
  Out b_out;
  while (b_out.tokens.size() < 4) {  // b is decoding: its prompt pages are referenced
    ASSERT_TRUE(warm.step());
    drain(*b_events, &b_out);
  }
  int calls = 0;
  CacheClearResult result;
  warm.request_cache_clear([&](CacheClearResult r) {
    ++calls;
    result = r;
  });
  EXPECT_EQ(calls, 0);  // not before the engine's next step
  warm.run_until_idle();
  drain(*b_events, &b_out);
  ASSERT_EQ(calls, 1);
  // a's last two pages were a's alone; b's pages (the shared two among them) stay.
  EXPECT_EQ(result.pages_freed, 2);
  EXPECT_GE(result.pages_kept, 72 / 16);
  EXPECT_EQ(result.entries_kept, 1);
  ASSERT_TRUE(b_out.finished);
  EXPECT_EQ(b_out.usage.cached_prompt_tokens, 32);
  EXPECT_EQ(b_out.tokens, b_reference.tokens);  // undisturbed
  EXPECT_EQ(warm.check_integrity(), "");

  // What b computed is still cached; a's own tail is not.
  EXPECT_EQ(generate(warm, b, 2).usage.cached_prompt_tokens, 64);
  EXPECT_EQ(generate(warm, a, 2).usage.cached_prompt_tokens, 32);

  // An idle clear drops everything; with the cache off it reports zeros.
  warm.request_cache_clear([&](CacheClearResult r) { result = r; });
  warm.run_until_idle();
  EXPECT_GT(result.pages_freed, 0);
  EXPECT_EQ(result.pages_kept, 0);
  EXPECT_EQ(warm.prefix_cache()->stats().num_pages, 0);
  EXPECT_EQ(generate(warm, a, 2).usage.cached_prompt_tokens, 0);
  bool called = false;
  cold.request_cache_clear([&](CacheClearResult r) {
    called = true;
    EXPECT_EQ(r.pages_freed, 0);
  });
  cold.run_until_idle();
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace agentserve
