// GenerationRequest::forced_tokens (serve --test-script): the tiny random model emits a given
// token list exactly, with the real forward pass behind it, and goes back to sampling after.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "model/weights.h"
#include "tiny_model_support.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

class ForcedTokens : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("as_forced_tokens_" + std::to_string(::getpid()))).string();
    model_ = test::make_tiny_qwen3(dir_, 11);
    ASSERT_NE(model_, nullptr);
  }
  static void TearDownTestSuite() {
    model_.reset();
    fs::remove_all(dir_);
  }
  void SetUp() override { fresh_engine(); }
  void fresh_engine() {
    engine_.reset();  // before the backend it computes on
    backend_ = test::exact_backend(*model_, 1024);
    ASSERT_NE(backend_, nullptr);
    EngineOptions eo;
    eo.max_batch_tokens = 64;
    eo.check_integrity = true;
    engine_ = std::make_unique<Engine>(backend_.get(), eo);
  }

  static GenerationRequest request(const std::vector<int32_t>& prompt, int32_t n,
                                   std::vector<int32_t> forced) {
    GenerationRequest r;
    r.prompt = prompt;
    r.sampling.temperature = 0.0f;
    r.stop.max_new_tokens = n;
    r.stop.ignore_stop_tokens = true;
    if (!forced.empty())
      r.forced_tokens = std::make_shared<const std::vector<int32_t>>(std::move(forced));
    return r;
  }
  struct Out {
    std::vector<int32_t> tokens;
    std::vector<SampleResult> samples;
    EngineEvent finish;
    bool finished = false;
  };
  static Out drain(EventChannel& events) {
    Out out;
    while (auto e = events.try_pop()) {
      if (e->kind == EngineEvent::Kind::kToken) {
        out.tokens.push_back(e->sample.token);
        out.samples.push_back(e->sample);
      } else {
        out.finish = *e;
        out.finished = true;
      }
    }
    EXPECT_TRUE(out.finished);
    return out;
  }
  Out run(GenerationRequest r) {
    auto events = r.events;
    engine_->submit(std::move(r));
    engine_->run_until_idle();
    return drain(*events);
  }
  // Two requests in the same batch.
  std::pair<Out, Out> run_pair(GenerationRequest a, GenerationRequest b) {
    auto ea = a.events;
    auto eb = b.events;
    engine_->submit(std::move(a));
    engine_->submit(std::move(b));
    engine_->run_until_idle();
    return {drain(*ea), drain(*eb)};
  }
  static std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  const std::vector<int32_t> prompt_{9707, 11, 1879, 0, 358, 1079, 264, 1273, 13, 40, 2776};
  // Ids the random model is not expected to pick on its own (checked against its greedy output
  // below, so the test cannot pass by the model agreeing with the script).
  const std::vector<int32_t> forced_{1000, 2000, 3000, 4000, 5000};

  static inline std::string dir_;
  static inline std::unique_ptr<LoadedModel> model_;
  std::unique_ptr<CpuBackend> backend_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ForcedTokens, ComeOutExactlyThenSamplingResumes) {
  const Out own = run(request(prompt_, 5, {}));
  ASSERT_NE(own.tokens, forced_);
  ASSERT_NE(own.tokens[0], forced_[0]);

  const Out out = run(request(prompt_, 9, forced_));
  ASSERT_EQ(out.tokens.size(), 9u);
  EXPECT_EQ(std::vector<int32_t>(out.tokens.begin(), out.tokens.begin() + 5), forced_);
  EXPECT_EQ(out.finish.reason, FinishReason::kLength);
  EXPECT_EQ(out.finish.usage.completion_tokens, 9);
  // After the list the model continues from a context that holds the forced tokens: what a
  // fresh greedy run over prompt + forced gives.
  const Out cont = run(request(concat(prompt_, forced_), 4, {}));
  EXPECT_EQ(std::vector<int32_t>(out.tokens.begin() + 5, out.tokens.end()), cont.tokens);
}

TEST_F(ForcedTokens, LogprobsAreTheModelsForTheForcedToken) {
  // The model's own greedy tokens, with their logprobs ...
  GenerationRequest greedy = request(prompt_, 4, {});
  greedy.sampling.want_logprobs = true;
  greedy.sampling.num_top_logprobs = 3;
  const Out own = run(std::move(greedy));
  ASSERT_EQ(own.tokens.size(), 4u);
  // ... forced on a sampled (temperature 1) request report the same logprobs: those of the raw
  // logits in the same context, not of the sampling distribution or of a dummy.
  GenerationRequest forced = request(prompt_, 4, own.tokens);
  forced.sampling.temperature = 1.0f;
  forced.sampling.want_logprobs = true;
  forced.sampling.num_top_logprobs = 3;
  const Out out = run(std::move(forced));
  ASSERT_EQ(out.tokens, own.tokens);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(out.samples[i].logprob, own.samples[i].logprob) << i;
    ASSERT_EQ(out.samples[i].top_logprobs.size(), 3u);
    EXPECT_EQ(out.samples[i].top_logprobs[0].token, own.tokens[i]) << i;
  }
  // A token the model would not choose: its logprob is below the best alternative's, and the
  // alternatives are still the model's.
  GenerationRequest other = request(prompt_, 1, {forced_[0]});
  other.sampling.want_logprobs = true;
  other.sampling.num_top_logprobs = 3;
  const Out o = run(std::move(other));
  ASSERT_EQ(o.tokens, std::vector<int32_t>{forced_[0]});
  ASSERT_EQ(o.samples[0].top_logprobs.size(), 3u);
  EXPECT_EQ(o.samples[0].top_logprobs[0].token, own.tokens[0]);
  EXPECT_LT(o.samples[0].logprob, o.samples[0].top_logprobs[0].logprob);
}

TEST_F(ForcedTokens, StopTokenInTheListEndsGeneration) {
  GenerationRequest r = request(prompt_, 20, {forced_[0], forced_[1], 151645, forced_[2]});
  r.stop.ignore_stop_tokens = false;
  r.stop.stop_token_ids = {151645};
  const Out out = run(std::move(r));
  EXPECT_EQ(out.tokens, (std::vector<int32_t>{forced_[0], forced_[1]}));
  EXPECT_EQ(out.finish.reason, FinishReason::kStop);
  EXPECT_EQ(out.finish.stop_token, 151645);
  EXPECT_EQ(out.finish.usage.completion_tokens, 3);
}

TEST_F(ForcedTokens, MaxNewTokensTruncatesTheList) {
  const Out out = run(request(prompt_, 3, forced_));
  EXPECT_EQ(out.tokens, (std::vector<int32_t>{forced_[0], forced_[1], forced_[2]}));
  EXPECT_EQ(out.finish.reason, FinishReason::kLength);
}

TEST_F(ForcedTokens, ConcurrentRequestsDoNotDisturbEachOther) {
  const Out own = run(request(prompt_, 8, {}));
  const Out cont = run(request(concat(prompt_, forced_), 3, {}));
  // A fresh engine, so neither request finds the other's pages cached from the runs above;
  // both share the prompt, so they share its pages once one has computed them.
  fresh_engine();
  const auto [oa, ob] = run_pair(request(prompt_, 8, forced_), request(prompt_, 8, {}));
  EXPECT_EQ(oa.tokens, concat(forced_, cont.tokens));
  EXPECT_EQ(ob.tokens, own.tokens);
}

TEST_F(ForcedTokens, OutOfVocabularyIdIsAnError) {
  const Out out = run(request(prompt_, 4, {forced_[0], 1 << 30}));
  EXPECT_TRUE(out.tokens.empty());
  EXPECT_EQ(out.finish.reason, FinishReason::kError);
  EXPECT_NE(out.finish.error.find("forced token id"), std::string::npos) << out.finish.error;
}

// GenerationRequest::forced_failure: the forced tokens come out, then the request ends as a
// failed forward pass ends one (kError with the message, usage counting what was generated),
// its KV pages go back, and a request beside it is not disturbed.
TEST_F(ForcedTokens, ScriptedFailureAfterTheList) {
  GenerationRequest failing = request(prompt_, 9, forced_);
  failing.forced_failure = "injected";
  const auto [out, other] = run_pair(std::move(failing), request(prompt_, 6, {}));
  EXPECT_EQ(out.tokens, forced_);
  EXPECT_EQ(out.finish.reason, FinishReason::kError);
  EXPECT_EQ(out.finish.error, "injected");
  EXPECT_EQ(out.finish.usage.completion_tokens, 5);
  EXPECT_EQ(other.finish.reason, FinishReason::kLength);
  EXPECT_EQ(other.tokens.size(), 6u);
  // Every page in use is the prefix cache's: the failed request left none behind.
  EXPECT_EQ(engine_->gauges().kv_pages_used.load(), engine_->gauges().prefix_cache_pages.load());

  // With no forced tokens it fails at the first position.
  GenerationRequest at_once = request(prompt_, 9, {});
  at_once.forced_failure = "at once";
  const Out none = run(std::move(at_once));
  EXPECT_TRUE(none.tokens.empty());
  EXPECT_EQ(none.finish.reason, FinishReason::kError);
  EXPECT_EQ(none.finish.error, "at once");
}

}  // namespace
}  // namespace agentserve
