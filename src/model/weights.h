// The weights of one decoder model, as views into the TensorStore (zero-copy). The decoder
// definition reads only these fields and ModelConfig's flags; every field states its shape.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "tensor/tensor.h"

namespace agentserve {

struct LayerWeights {
  TensorView attn_norm;    // [hidden]
  TensorView wq;           // [num_heads * head_dim, hidden]
  TensorView wk;           // [num_kv_heads * head_dim, hidden]
  TensorView wv;           // [num_kv_heads * head_dim, hidden]
  TensorView bq, bk, bv;   // [q_dim], [kv_dim], [kv_dim]   when attention_qkv_bias
  TensorView q_norm;       // [head_dim]                     when qk_norm
  TensorView k_norm;       // [head_dim]                     when qk_norm
  TensorView wo;           // [hidden, num_heads * head_dim]
  TensorView bo;           // [hidden]                       when attention_out_bias
  TensorView mlp_norm;     // [hidden]
  TensorView w_gate;       // [intermediate, hidden]
  TensorView w_up;         // [intermediate, hidden]
  TensorView w_down;       // [hidden, intermediate]
  TensorView b_gate, b_up, b_down;  //                       when mlp_bias
};

struct ModelWeights {
  TensorView embed;        // [vocab, hidden]
  std::vector<LayerWeights> layers;
  TensorView final_norm;   // [hidden]
  TensorView lm_head;      // [vocab, hidden]; the same view as `embed` when tied
};

// A model directory opened for inference: config, the mapped files and the weight views.
struct LoadedModel {
  std::string dir;
  ModelConfig config;
  std::unique_ptr<TensorStore> store;
  ModelWeights weights;
};

// Opens config.json and the safetensors files of `dir` and binds every weight, checking
// names, shapes and dtypes against the config. Errors name the file, the tensor, what was
// expected and what was found.
Result<std::unique_ptr<LoadedModel>> load_model(const std::string& dir);

// Binds weights from an already opened store (tests use it with hand-made stores).
Result<ModelWeights> bind_weights(const ModelConfig& config, const TensorStore& store,
                                  const std::string& dir);

}  // namespace agentserve
