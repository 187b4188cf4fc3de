// The prefix cache through the engine. With the history backend (whose logits depend on every
// token read back through the page table) shared-prefix requests must produce exactly the
// tokens of the model; with a tiny real model (make-test-model), a repeated prompt and a
// follow-up turn reuse cached pages, report it in Usage, and give the same greedy tokens as
// with the cache off.
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

using test::exact_backend;
using test::GreedyRun;

GreedyRun generate(Engine& engine, const std::vector<int32_t>& prompt, int32_t n) {
  return test::run_greedy(engine, prompt, n);
}

class TinyModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("as_prefix_" + std::to_string(::getpid()))).string();
    model_ = test::make_tiny_qwen3(dir_, 5);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    model_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<CpuBackend> backend() { return exact_backend(*model_, 1024); }
  static EngineOptions options(bool cache) {
    EngineOptions eo;
    eo.max_batch_tokens = 64;  // several prefill chunks per prompt
    eo.check_integrity = true;
    eo.prefix_cache = cache;
    return eo;
  }
  static std::vector<int32_t> random_prompt(std::mt19937& rng, int32_t n) {
    std::vector<int32_t> p(static_cast<size_t>(n));
    for (auto& t : p) t = static_cast<int32_t>(rng() % 150000);
    return p;
  }

  static inline std::string dir_;
  static inline std::unique_ptr<LoadedModel> model_;
};

TEST_F(TinyModel, RepeatedPromptReusesItsPagesAndKeepsGreedyTokens) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> prompt = random_prompt(rng, 75);
  auto cold_backend = backend();
  Engine cold(cold_backend.get(), options(false));
  EXPECT_EQ(cold.prefix_cache(), nullptr);
  const GreedyRun reference = generate(cold, prompt, 12);
  EXPECT_EQ(reference.usage.cached_prompt_tokens, 0);

  auto warm_backend = backend();
  Engine warm(warm_backend.get(), options(true));
  const GreedyRun first = generate(warm, prompt, 12);
  EXPECT_EQ(first.usage.cached_prompt_tokens, 0);
  const GreedyRun second = generate(warm, prompt, 12);
  EXPECT_EQ(second.usage.cached_prompt_tokens, 64);  // (75 - 1) rounded down to pages of 16
  EXPECT_EQ(second.usage.prompt_tokens, 75);
  EXPECT_EQ(first.tokens, reference.tokens);
  EXPECT_EQ(second.tokens, reference.tokens);
  // Exactly a page's worth short: the match stops one token before the end of the prompt.
  const std::vector<int32_t> aligned(prompt.begin(), prompt.begin() + 64);
  const GreedyRun third = generate(warm, aligned, 4);
  EXPECT_EQ(third.usage.cached_prompt_tokens, 48);
  EXPECT_EQ(third.tokens, generate(cold, aligned, 4).tokens);
  const EngineGauges& g = warm.gauges();
  EXPECT_EQ(g.prefix_cache_lookups.load(), 3);
  EXPECT_EQ(g.prefix_cache_hits.load(), 2);
  EXPECT_EQ(g.prefix_cache_matched_tokens.load(), 64 + 48);
  EXPECT_GT(g.prefix_cache_pages.load(), 0);
  EXPECT_EQ(warm.check_integrity(), "");
}

TEST_F(TinyModel, FollowUpTurnReusesEveryFullPageOfTheConversation) {
  std::mt19937 rng(std::random_device{}());
  const std::vector<int32_t> turn1 = random_prompt(rng, 40);
  auto warm_backend = backend();
  Engine warm(warm_backend.get(), options(true));
  const GreedyRun reply1 = generate(warm, turn1, 30);
  // The next turn: the whole conversation so far plus new tokens. The first turn computed
  // 40 + 30 - 1 positions (the last reply token was sampled, never fed): 4 full pages.
  std::vector<int32_t> turn2 = turn1;
  turn2.insert(turn2.end(), reply1.tokens.begin(), reply1.tokens.end());
  const std::vector<int32_t> user = random_prompt(rng, 20);
  turn2.insert(turn2.end(), user.begin(), user.end());
  const GreedyRun reply2 = generate(warm, turn2, 10);
  EXPECT_EQ(reply2.usage.cached_prompt_tokens, (40 + 30 - 1) / 16 * 16);

  auto cold_backend = backend();
  Engine cold(cold_backend.get(), options(false));
  EXPECT_EQ(reply2.tokens, generate(cold, turn2, 10).tokens);
}

}  // namespace
}  // namespace agentserve
