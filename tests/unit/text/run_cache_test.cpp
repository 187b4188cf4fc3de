// The run cache (text/tokenizer/run_cache.h) must never change a token id: prompts made of
// corpus text between special and non-special added tokens encode to the same ids with the
// cache off, on the first (filling) pass and on repeated (hitting) passes, for both tokenizers,
// in both special-token modes and with protected ranges. Plus the cache's own LRU accounting.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/tokenizer/run_cache.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

// Prompts shaped like rendered chat: long and short runs of corpus text separated by added
// tokens, some of which repeat across prompts (as an agent's history does).
std::vector<std::string> prompts(const std::vector<std::string>& lines, const std::vector<std::string>& markers,
                                 uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> runs;
  for (int i = 0; i < 40; ++i) {
    std::string run;
    const size_t want = std::uniform_int_distribution<size_t>(10, 3000)(rng);
    while (run.size() < want) run += lines[rng() % lines.size()] + (rng() % 3 == 0 ? "\n" : " ");
    runs.push_back(std::move(run));
  }
  std::vector<std::string> out;
  for (int p = 0; p < 30; ++p) {
    std::string prompt;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      prompt += markers[rng() % markers.size()];
      prompt += runs[rng() % runs.size()];
    }
    out.push_back(std::move(prompt));
  }
  return out;
}

struct Family {
  const char* name;
  std::vector<std::string> markers;
};

TEST(RunCache, IdsAreTheSameWithAndWithoutTheCache) {
  const std::vector<std::string> lines = testing::corpus();
  ASSERT_FALSE(lines.empty());
  const Family families[] = {
      {"qwen3", {"<|im_start|>", "<|im_end|>\n", "<tool_call>", "</tool_call>", "<think>", "\n"}},
      {"llama3", {"<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>", "<|python_tag|>", " "}},
  };
  for (const Family& f : families) {
    SCOPED_TRACE(f.name);
    auto cached = Tokenizer::load_from_model_dir(testing::model_dir(f.name));
    auto plain = Tokenizer::load_from_model_dir(testing::model_dir(f.name));
    ASSERT_TRUE(cached.ok() && plain.ok());
    (*plain)->set_run_cache_budget(0);
    const std::vector<std::string> ps = prompts(lines, f.markers, 7);
    for (int pass = 0; pass < 3; ++pass) {
      for (size_t i = 0; i < ps.size(); ++i) {
        for (SpecialTokenMode mode : {SpecialTokenMode::kRecognize, SpecialTokenMode::kAsText}) {
          ASSERT_EQ((*cached)->encode(ps[i], mode), (*plain)->encode(ps[i], mode))
              << "prompt " << i << " pass " << pass << " mode " << static_cast<int>(mode);
        }
        // Protected ranges over the first special-token text of the prompt and a stretch of
        // plain text: the runs they reach bypass the cache, the rest hit it.
        std::vector<ByteRange> ranges;
        const auto spans = (*plain)->special_token_spans(ps[i]);
        if (!spans.empty()) ranges.push_back(spans.front());
        if (ps[i].size() > 600) ranges.push_back({300, 340});
        ASSERT_EQ((*cached)->encode_protected(ps[i], ranges), (*plain)->encode_protected(ps[i], ranges))
            << "prompt " << i << " pass " << pass << " (protected)";
      }
    }
  }
}

TEST(RunCache, LookupInsertAndLeastRecentlyUsedEviction) {
  const std::string a(300, 'a'), b(300, 'b'), c(300, 'c');
  const std::vector<int32_t> ia = {1, 2, 3}, ib = {4}, ic = {5, 6};
  // Room for two entries of ~300 bytes of text, not three.
  tok::RunCache cache(2 * (300 + 3 * 4 + 64));
  std::vector<int32_t> out;
  EXPECT_FALSE(cache.lookup(a, 0, &out));
  cache.insert(a, 0, ia.data(), ia.size());
  cache.insert(b, 0, ib.data(), ib.size());
  EXPECT_TRUE(cache.lookup(a, 0, &out));  // a is now the most recent
  EXPECT_EQ(out, ia);
  EXPECT_FALSE(cache.lookup(a, 1, &out)) << "another mode is another entry";
  cache.insert(c, 0, ic.data(), ic.size());  // evicts b, the least recently used
  EXPECT_EQ(cache.entries(), 2u);
  out.clear();
  EXPECT_FALSE(cache.lookup(b, 0, &out));
  EXPECT_TRUE(cache.lookup(c, 0, &out));
  EXPECT_TRUE(cache.lookup(a, 0, &out));
  EXPECT_EQ(out, (std::vector<int32_t>{5, 6, 1, 2, 3}));
  cache.set_budget(0);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.insert(a, 0, ia.data(), ia.size());  // over the budget: not kept
  EXPECT_EQ(cache.entries(), 0u);
}

}  // namespace
}  // namespace agentserve
