// The forward pass is a pure function of the tokens: the same sequence gives bit-identical
// logits whatever pages hold its KV, whatever stale bytes those pages held, and however often
// it runs. Seeded sampling and KV reuse (prefix cache, preemption) rely on this.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "model/test_model.h"
#include "model/weights.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

TEST(Determinism, LogitsIgnorePageIdsStaleBytesAndRepetition) {
  const std::string dir =
      (fs::temp_directory_path() / ("as_det_" + std::to_string(::getpid()))).string();
  auto source = find_tokenizer_source("qwen3", "");
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  ASSERT_TRUE(write_test_model(TestModelSpec{"qwen3", "tiny", "qwen3", 9}, dir, *source, nullptr).ok());
  auto model = load_model(dir);
  ASSERT_TRUE(model.ok());
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (DType kv : {DType::kBF16, DType::kF32}) {
    CpuBackendOptions options;
    options.kv_cache_tokens = 1024;
    options.kv_dtype = kv;
    auto backend = CpuBackend::create(**model, options);
    ASSERT_TRUE(backend.ok());
    const KvGeometry& g = (*backend)->kv_geometry();
    std::vector<int32_t> prompt(77);
    for (auto& t : prompt) t = static_cast<int32_t>(rng() % 150000);
    std::vector<float> first;
    for (int trial = 0; trial < 4; ++trial) {
      std::vector<uint8_t> junk(g.page_bytes());
      for (int32_t p = 0; p < g.num_pages; ++p) {
        for (auto& b : junk) b = static_cast<uint8_t>(rng());
        (*backend)->import_page(p, junk.data());
      }
      std::vector<int32_t> pages(static_cast<size_t>(g.num_pages));
      for (int32_t p = 0; p < g.num_pages; ++p) pages[static_cast<size_t>(p)] = p;
      std::shuffle(pages.begin(), pages.end(), rng);
      pages.resize(8);
      std::vector<float> all, logits;
      Batch prefill;
      prefill.add_sequence(prompt.data(), 77, 77, pages, false);
      for (int32_t i = 0; i < 77; ++i) prefill.logit_rows.push_back(i);
      ASSERT_TRUE((*backend)->forward(prefill, &logits).ok());
      all = logits;
      for (int32_t s = 0; s < 12; ++s) {
        const int32_t token = prompt[static_cast<size_t>(s)];
        Batch decode;
        decode.add_sequence(&token, 1, 78 + s, pages, true);
        ASSERT_TRUE((*backend)->forward(decode, &logits).ok());
        all.insert(all.end(), logits.begin(), logits.end());
      }
      if (trial == 0) {
        first = all;
        continue;
      }
      ASSERT_EQ(all.size(), first.size());
      EXPECT_EQ(std::memcmp(all.data(), first.data(), all.size() * sizeof(float)), 0)
          << "trial " << trial << " with KV " << dtype_name(kv) << " differs";
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace agentserve
