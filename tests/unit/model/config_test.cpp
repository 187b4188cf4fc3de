#include <gtest/gtest.h>

#include <numbers>

#include "model/config.h"
#include "model/rope.h"

namespace agentserve {
namespace {

const char* kQwen3 = R"({
  "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 1024,
  "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
  "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000, "tie_word_embeddings": true, "eos_token_id": 151645,
  "max_position_embeddings": 40960, "hidden_act": "silu", "torch_dtype": "bfloat16"})";

TEST(ModelConfig, ParsesQwen3) {
  auto c = parse_model_config(kQwen3, "config.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->hidden_size, 1024);
  EXPECT_EQ(c->head_dim, 128);  // differs from hidden / heads = 64
  EXPECT_EQ(c->q_dim(), 2048);
  EXPECT_EQ(c->kv_dim(), 1024);
  EXPECT_TRUE(c->qk_norm);
  EXPECT_FALSE(c->attention_qkv_bias);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c->rope.theta, 1e6);
  EXPECT_EQ(c->rope.type, RopeType::kDefault);
  ASSERT_EQ(c->eos_token_ids.size(), 1u);
  EXPECT_EQ(c->eos_token_ids[0], 151645);
  // Qwen3-0.6B has 0.6B parameters (0.44B without the tied embedding).
  EXPECT_NEAR(static_cast<double>(c->num_parameters()), 596e6, 5e6);
}

TEST(ModelConfig, Qwen2HasQkvBiasAndDefaultHeadDim) {
  auto c = parse_model_config(R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "vocab_size": 151936, "use_sliding_window": false})", "c.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->attention_qkv_bias);
  EXPECT_FALSE(c->attention_out_bias);
  EXPECT_EQ(c->head_dim, 64);
}

TEST(ModelConfig, Llama3RopeScalingBothSpellings) {
  const char* legacy = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
  const char* v5 = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 128256,
    "rope_parameters": {"rope_theta": 500000.0, "factor": 32.0, "high_freq_factor": 4.0,
       "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
  for (const char* text : {legacy, v5}) {
    auto c = parse_model_config(text, "c.json");
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    EXPECT_EQ(c->rope.type, RopeType::kLlama3);
    EXPECT_DOUBLE_EQ(c->rope.theta, 500000.0);
    EXPECT_DOUBLE_EQ(c->rope.factor, 32.0);
    EXPECT_EQ(c->head_dim, 64);
  }
}

TEST(ModelConfig, ErrorsNameFileAndWhatWasWrong) {
  auto unknown = parse_model_config(R"({"architectures": ["GPT2LMHeadModel"]})", "/m/config.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(unknown.error().message.find("/m/config.json"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("GPT2LMHeadModel"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("Qwen3ForCausalLM"), std::string::npos);

  auto missing = parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8})",
                                    "/m/config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("intermediate_size"), std::string::npos);

  auto wrong_type = parse_model_config(
      R"({"architectures": ["LlamaForCausalLM"], "hidden_size": "big"})", "/m/config.json");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("hidden_size"), std::string::npos);
  EXPECT_NE(wrong_type.error().message.find("\"big\""), std::string::npos);

  auto bad_heads = parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
    "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 6,
    "num_key_value_heads": 4, "vocab_size": 10})", "c.json");
  ASSERT_FALSE(bad_heads.ok());
  EXPECT_NE(bad_heads.error().message.find("multiple"), std::string::npos);

  auto not_json = parse_model_config("{nope", "c.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().kind, ErrorKind::kFormat);

  auto yarn = parse_model_config(R"({"architectures": ["Qwen3ForCausalLM"], "hidden_size": 64,
    "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10,
    "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})", "c.json");
  ASSERT_FALSE(yarn.ok());
  EXPECT_EQ(yarn.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(yarn.error().message.find("yarn"), std::string::npos);
}

TEST(Rope, DefaultFrequencies) {
  RopeConfig rope;
  rope.theta = 10000.0;
  auto inv = rope_inv_freq(rope, 8);
  ASSERT_EQ(inv.size(), 4u);
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  EXPECT_NEAR(inv[1], 0.1f, 1e-7);
  EXPECT_NEAR(inv[2], 0.01f, 1e-8);
  EXPECT_NEAR(inv[3], 0.001f, 1e-9);
}

TEST(Rope, Llama3ScalingKeepsHighAndDividesLowFrequencies) {
  RopeConfig rope;
  rope.type = RopeType::kLlama3;
  rope.theta = 500000.0;
  rope.factor = 8.0;
  rope.low_freq_factor = 1.0;
  rope.high_freq_factor = 4.0;
  rope.original_max_position_embeddings = 8192;
  RopeConfig plain = rope;
  plain.type = RopeType::kDefault;
  auto scaled = rope_inv_freq(rope, 128);
  auto base = rope_inv_freq(plain, 128);
  const double two_pi = 2.0 * std::numbers::pi;
  int kept = 0, divided = 0, smoothed = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const double wavelen = two_pi / base[i];
    if (wavelen < 8192.0 / 4.0) {
      EXPECT_EQ(scaled[i], base[i]);
      ++kept;
    } else if (wavelen > 8192.0) {
      EXPECT_NEAR(scaled[i], base[i] / 8.0, base[i] * 1e-6);
      ++divided;
    } else {
      EXPECT_LT(scaled[i], base[i]);
      EXPECT_GT(scaled[i], base[i] / 8.0f);
      ++smoothed;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(smoothed, 0);
}

}  // namespace
}  // namespace agentserve
