#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "base/mmap_file.h"
#include "model/test_model.h"
#include "model/weights.h"
#include "tensor/dtype.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

class TestModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("as_tm_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto source = find_tokenizer_source("qwen3", "");
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    qwen3_tokenizer_ = *source;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string qwen3_tokenizer_;
};

TEST_F(TestModelTest, EveryTinyArchitectureLoadsWithItsFeatures) {
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    SCOPED_TRACE(arch);
    TestModelSpec spec{arch, "tiny", "qwen3", 7};
    const fs::path dir = dir_ / arch;
    ASSERT_TRUE(write_test_model(spec, dir.string(), qwen3_tokenizer_, nullptr).ok());
    EXPECT_TRUE(test_model_is_complete(spec, dir.string()));
    EXPECT_FALSE(test_model_is_complete(TestModelSpec{arch, "tiny", "qwen3", 8}, dir.string()));
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors",
                          "tokenizer.json", "tokenizer_config.json"})
      EXPECT_TRUE(fs::exists(dir / f)) << f;
    auto model = load_model(dir.string());
    ASSERT_TRUE(model.ok()) << model.error().to_string();
    const ModelConfig& c = (*model)->config;
    EXPECT_EQ(c.vocab_size, 151936);
    EXPECT_EQ(c.attention_qkv_bias, std::string(arch) == "qwen2");
    EXPECT_EQ(c.qk_norm, std::string(arch) == "qwen3");
    EXPECT_EQ(c.rope.type == RopeType::kLlama3, std::string(arch) == "llama");
    // generation_config.json adds <|endoftext|> to the eos ids.
    EXPECT_EQ(c.eos_token_ids.size(), 2u);
    const ModelWeights& w = (*model)->weights;
    ASSERT_EQ(w.layers.size(), static_cast<size_t>(c.num_layers));
    EXPECT_EQ(w.lm_head.data == w.embed.data, c.tie_word_embeddings);
    EXPECT_EQ(w.embed.dtype, DType::kBF16);
  }
}

TEST_F(TestModelTest, WeightsAreDeterministicAndInitScaled) {
  // The generator is part of the golden-logit contract: these values must never drift. If the
  // generator changes on purpose, bump kGeneratorVersion and regenerate tests/golden.
  uint64_t fingerprint = 0xcbf29ce484222325ull;
  for (int i = 0; i < 4096; ++i) {
    const uint16_t v =
        f32_to_bf16(test_model_weight_value(0, "model.embed_tokens.weight", i, 0.0f, 0.02f));
    fingerprint = (fingerprint ^ v) * 0x100000001b3ull;
  }
  EXPECT_EQ(fingerprint, 0x81718fd1819359a5ull) << std::hex << fingerprint;
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = test_model_weight_value(3, "w", i, 0.0f, 0.02f);
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / n, std = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 3e-4);
  EXPECT_NEAR(std, 0.02, 3e-4);
  EXPECT_NE(test_model_weight_value(3, "w", 0, 0, 1), test_model_weight_value(4, "w", 0, 0, 1));
  EXPECT_NE(test_model_weight_value(3, "w", 0, 0, 1), test_model_weight_value(3, "v", 0, 0, 1));

  // Two writes of the same spec give byte-identical weights.
  TestModelSpec spec{"qwen3", "tiny", "qwen3", 1};
  ASSERT_TRUE(write_test_model(spec, (dir_ / "a").string(), qwen3_tokenizer_, nullptr).ok());
  ASSERT_TRUE(write_test_model(spec, (dir_ / "b").string(), qwen3_tokenizer_, nullptr).ok());
  auto a = read_file((dir_ / "a" / "model.safetensors").string());
  auto b = read_file((dir_ / "b" / "model.safetensors").string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b);
}

TEST_F(TestModelTest, ShardsAboveTheLimitWithAnIndex) {
  TestModelSpec spec{"llama", "tiny", "qwen3", 2};
  const fs::path dir = dir_ / "sharded";
  // Tiny llama is ~40 MB: a 16 MB limit gives several shards.
  ASSERT_TRUE(write_test_model(spec, dir.string(), qwen3_tokenizer_, nullptr, 16u << 20).ok());
  EXPECT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "model-00001-of-00003.safetensors"));
  auto model = load_model(dir.string());
  ASSERT_TRUE(model.ok()) << model.error().to_string();
  EXPECT_EQ((*model)->store->files().size(), 3u);

  // Rewriting unsharded removes the shards and the index.
  ASSERT_TRUE(write_test_model(spec, dir.string(), qwen3_tokenizer_, nullptr).ok());
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(dir / "model.safetensors"));
  EXPECT_TRUE(load_model(dir.string()).ok());
}

TEST_F(TestModelTest, LoaderErrorsSayExpectedAndFound) {
  TestModelSpec spec{"qwen3", "tiny", "qwen3", 3};
  const fs::path dir = dir_ / "m";
  ASSERT_TRUE(write_test_model(spec, dir.string(), qwen3_tokenizer_, nullptr).ok());
  auto config = read_file((dir / "config.json").string());
  ASSERT_TRUE(config.ok());

  // A config that disagrees with the weights: the error names the tensor and both shapes.
  std::string wrong = *config;
  wrong.replace(wrong.find("\"intermediate_size\": 192"), 24, "\"intermediate_size\": 256");
  ASSERT_TRUE(write_file_atomic((dir / "config.json").string(), wrong).ok());
  auto mismatch = load_model(dir.string());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("mlp.gate_proj.weight"), std::string::npos);
  EXPECT_NE(mismatch.error().message.find("[192, 64]"), std::string::npos);
  EXPECT_NE(mismatch.error().message.find("[256, 64]"), std::string::npos);

  // Missing config.json.
  fs::remove(dir / "config.json");
  auto missing = load_model(dir.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("config.json"), std::string::npos);

  // Not a directory at all.
  auto nodir = load_model((dir_ / "nope").string());
  ASSERT_FALSE(nodir.ok());
  EXPECT_NE(nodir.error().message.find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace agentserve
