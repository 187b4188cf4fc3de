#include "model/weights.h"

#include <set>

#include "base/log.h"

namespace agentserve {
namespace {

class Binder {
 public:
  Binder(const TensorStore& store, std::string dir) : store_(store), dir_(std::move(dir)) {}

  // Binds `name` with the expected shape; float dtypes only (quantized ones come later).
  Status bind(const std::string& name, std::initializer_list<int64_t> shape, TensorView* out) {
    const SafetensorsEntry* entry = store_.find(name);
    TensorView expected;
    expected.rank = static_cast<int>(shape.size());
    int i = 0;
    for (int64_t d : shape) expected.shape[static_cast<size_t>(i++)] = d;
    if (entry == nullptr)
      return make_error(ErrorKind::kFormat,
                        dir_ + ": missing tensor '" + name + "' (expected shape " +
                            expected.shape_string() + ", dtype bf16, f16 or f32)");
    const TensorView& v = entry->view;
    if (v.dtype != DType::kBF16 && v.dtype != DType::kF16 && v.dtype != DType::kF32)
      return make_error(ErrorKind::kUnsupported, entry->file + ": tensor '" + name +
                                                     "' has dtype " + dtype_name(v.dtype) +
                                                     ", expected bf16, f16 or f32");
    bool same = v.rank == expected.rank;
    for (int d = 0; same && d < v.rank; ++d) same = v.dim(d) == expected.dim(d);
    if (!same)
      return make_error(ErrorKind::kFormat, entry->file + ": tensor '" + name + "' has shape " +
                                                v.shape_string() + ", expected " +
                                                expected.shape_string() + " from config.json");
    used_.insert(name);
    *out = v;
    return {};
  }

  void warn_unused() const {
    int unused = 0;
    std::string examples;
    for (const auto& [name, entry] : store_.all()) {
      if (used_.count(name) != 0) continue;
      if (++unused <= 3) examples += (examples.empty() ? "" : ", ") + name;
    }
    if (unused > 0)
      AS_LOG_WARN("{}: {} tensor(s) not used by the model (e.g. {})", dir_, unused, examples);
  }

  bool has(const std::string& name) const { return store_.find(name) != nullptr; }

 private:
  const TensorStore& store_;
  std::string dir_;
  std::set<std::string> used_;
};

}  // namespace

Result<ModelWeights> bind_weights(const ModelConfig& c, const TensorStore& store,
                                  const std::string& dir) {
  Binder b(store, dir);
  ModelWeights w;
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), inter = c.intermediate_size;
  AS_TRY(b.bind("model.embed_tokens.weight", {c.vocab_size, h}, &w.embed));
  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    AS_TRY(b.bind(p + "input_layernorm.weight", {h}, &l.attn_norm));
    AS_TRY(b.bind(p + "self_attn.q_proj.weight", {q, h}, &l.wq));
    AS_TRY(b.bind(p + "self_attn.k_proj.weight", {kv, h}, &l.wk));
    AS_TRY(b.bind(p + "self_attn.v_proj.weight", {kv, h}, &l.wv));
    AS_TRY(b.bind(p + "self_attn.o_proj.weight", {h, q}, &l.wo));
    if (c.attention_qkv_bias) {
      AS_TRY(b.bind(p + "self_attn.q_proj.bias", {q}, &l.bq));
      AS_TRY(b.bind(p + "self_attn.k_proj.bias", {kv}, &l.bk));
      AS_TRY(b.bind(p + "self_attn.v_proj.bias", {kv}, &l.bv));
    }
    if (c.attention_out_bias) AS_TRY(b.bind(p + "self_attn.o_proj.bias", {h}, &l.bo));
    if (c.qk_norm) {
      AS_TRY(b.bind(p + "self_attn.q_norm.weight", {c.head_dim}, &l.q_norm));
      AS_TRY(b.bind(p + "self_attn.k_norm.weight", {c.head_dim}, &l.k_norm));
    }
    AS_TRY(b.bind(p + "post_attention_layernorm.weight", {h}, &l.mlp_norm));
    AS_TRY(b.bind(p + "mlp.gate_proj.weight", {inter, h}, &l.w_gate));
    AS_TRY(b.bind(p + "mlp.up_proj.weight", {inter, h}, &l.w_up));
    AS_TRY(b.bind(p + "mlp.down_proj.weight", {h, inter}, &l.w_down));
    if (c.mlp_bias) {
      AS_TRY(b.bind(p + "mlp.gate_proj.bias", {inter}, &l.b_gate));
      AS_TRY(b.bind(p + "mlp.up_proj.bias", {inter}, &l.b_up));
      AS_TRY(b.bind(p + "mlp.down_proj.bias", {h}, &l.b_down));
    }
  }
  AS_TRY(b.bind("model.norm.weight", {h}, &w.final_norm));
  if (c.tie_word_embeddings) {
    w.lm_head = w.embed;
    // Some tied checkpoints still store a copy; it is identical by definition, so skip it.
    if (b.has("lm_head.weight")) AS_TRY(b.bind("lm_head.weight", {c.vocab_size, h}, &w.lm_head));
    w.lm_head = w.embed;
  } else {
    AS_TRY(b.bind("lm_head.weight", {c.vocab_size, h}, &w.lm_head));
  }
  b.warn_unused();
  return w;
}

Result<std::unique_ptr<LoadedModel>> load_model(const std::string& dir) {
  auto model = std::make_unique<LoadedModel>();
  model->dir = dir;
  AS_ASSIGN_OR_RETURN(model->config, load_model_config(dir));
  AS_ASSIGN_OR_RETURN(model->store, TensorStore::open_model_dir(dir));
  AS_ASSIGN_OR_RETURN(model->weights, bind_weights(model->config, *model->store, dir));
  return model;
}

}  // namespace agentserve
