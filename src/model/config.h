// ModelConfig: everything the decoder needs to know about a model, read from a Hugging Face
// config.json (later also GGUF metadata). The decoder is one parameterized definition; the
// architecture only switches flags here (qkv bias, q/k norm, rope variant, tied embeddings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace agentserve {

enum class RopeType { kDefault, kLlama3 };

struct RopeConfig {
  RopeType type = RopeType::kDefault;
  double theta = 10000.0;
  // llama3 scaling (Llama 3.1+): frequencies below low_freq are divided by `factor`, those
  // above high_freq are kept, and the band between is interpolated.
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string architecture;   // "Qwen3ForCausalLM", as in config.json
  std::string model_type;     // "qwen3", "qwen2", "llama"

  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;       // may differ from hidden_size / num_heads (Qwen3)
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  RopeConfig rope;

  // Architecture flags: the decoder definition reads these, never the architecture name.
  bool attention_qkv_bias = false;   // Qwen2: biases on q/k/v projections
  bool attention_out_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;              // Qwen3: RMSNorm over each head of q and k before rope
  bool tie_word_embeddings = false;  // lm_head shares embed_tokens

  std::vector<int32_t> eos_token_ids;  // from config.json and generation_config.json
  int32_t bos_token_id = -1;
  std::string torch_dtype;             // as declared ("bfloat16"); weights say what they are

  int64_t q_dim() const { return num_heads * head_dim; }
  int64_t kv_dim() const { return num_kv_heads * head_dim; }
  // Parameters that the forward pass reads per token (for bandwidth figures).
  int64_t num_parameters() const;
};

// Parses config.json text. `source` names the file in error messages.
Result<ModelConfig> parse_model_config(const std::string& json_text, const std::string& source);

// Reads <dir>/config.json and, when present, <dir>/generation_config.json (its eos ids win).
Result<ModelConfig> load_model_config(const std::string& model_dir);

}  // namespace agentserve
