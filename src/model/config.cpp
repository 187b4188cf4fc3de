#include "model/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "base/mmap_file.h"

namespace agentserve {
namespace {

using nlohmann::json;

struct Reader {
  const json& j;
  const std::string& source;
  Status status;

  bool failed() const { return !status.ok(); }

  void fail(const std::string& message) {
    if (status.ok()) status = make_error(ErrorKind::kFormat, source + ": " + message);
  }

  int64_t integer(const char* key, int64_t fallback, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) fail(std::string("missing required field \"") + key + "\"");
      return fallback;
    }
    if (!it->is_number_integer()) {
      fail(std::string("field \"") + key + "\" must be an integer, found " + it->dump());
      return fallback;
    }
    return it->get<int64_t>();
  }

  double number(const json& obj, const char* key, double fallback) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_number()) {
      fail(std::string("field \"") + key + "\" must be a number, found " + it->dump());
      return fallback;
    }
    return it->get<double>();
  }

  bool boolean(const char* key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) {
      fail(std::string("field \"") + key + "\" must be true or false, found " + it->dump());
      return fallback;
    }
    return it->get<bool>();
  }
};

void read_token_ids(const json& value, std::vector<int32_t>* out) {
  if (value.is_number_integer()) {
    out->push_back(value.get<int32_t>());
  } else if (value.is_array()) {
    for (const auto& v : value)
      if (v.is_number_integer()) out->push_back(v.get<int32_t>());
  }
}

// Transformers 4 writes "rope_theta" + "rope_scaling"; transformers 5 writes "rope_parameters"
// holding both. Accept either.
void read_rope(Reader& r, const json& j, RopeConfig* rope) {
  const json* params = nullptr;
  if (auto it = j.find("rope_parameters"); it != j.end() && it->is_object()) params = &*it;
  rope->theta = r.number(j, "rope_theta", 10000.0);
  if (params != nullptr) rope->theta = r.number(*params, "rope_theta", rope->theta);
  const json* scaling = params;
  if (auto it = j.find("rope_scaling"); it != j.end() && it->is_object()) scaling = &*it;
  if (scaling == nullptr) return;
  std::string type = "default";
  for (const char* key : {"rope_type", "type"}) {
    if (auto it = scaling->find(key); it != scaling->end() && it->is_string()) {
      type = it->get<std::string>();
      break;
    }
  }
  if (type == "default") return;
  if (type == "llama3") {
    rope->type = RopeType::kLlama3;
    rope->factor = r.number(*scaling, "factor", 8.0);
    rope->low_freq_factor = r.number(*scaling, "low_freq_factor", 1.0);
    rope->high_freq_factor = r.number(*scaling, "high_freq_factor", 4.0);
    rope->original_max_position_embeddings = static_cast<int64_t>(
        r.number(*scaling, "original_max_position_embeddings", 8192.0));
    if (rope->high_freq_factor <= rope->low_freq_factor || rope->factor <= 0)
      r.fail("rope_scaling: llama3 needs factor > 0 and high_freq_factor > low_freq_factor");
    return;
  }
  r.status = make_error(ErrorKind::kUnsupported,
                        r.source + ": rope scaling type \"" + type +
                            "\" is not supported yet (supported: default, llama3)");
}

}  // namespace

int64_t ModelConfig::num_parameters() const {
  const int64_t attn = hidden_size * (q_dim() + 2 * kv_dim()) + q_dim() * hidden_size;
  const int64_t mlp = 3 * hidden_size * intermediate_size;
  const int64_t embed = vocab_size * hidden_size;
  return num_layers * (attn + mlp + 2 * hidden_size) + hidden_size +
         (tie_word_embeddings ? embed : 2 * embed);
}

Result<ModelConfig> parse_model_config(const std::string& json_text, const std::string& source) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorKind::kFormat, source + ": not a JSON object");
  ModelConfig c;
  Reader r{j, source, {}};

  if (auto it = j.find("architectures"); it != j.end() && it->is_array() && !it->empty() &&
                                         (*it)[0].is_string())
    c.architecture = (*it)[0].get<std::string>();
  if (auto it = j.find("model_type"); it != j.end() && it->is_string())
    c.model_type = it->get<std::string>();

  static const char* const kSupported =
      "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";
  if (c.architecture == "LlamaForCausalLM" || c.architecture == "MistralForCausalLM") {
    c.attention_qkv_bias = r.boolean("attention_bias", false);
    c.attention_out_bias = c.attention_qkv_bias;
    c.mlp_bias = r.boolean("mlp_bias", false);
  } else if (c.architecture == "Qwen2ForCausalLM") {
    c.attention_qkv_bias = true;
  } else if (c.architecture == "Qwen3ForCausalLM") {
    c.attention_qkv_bias = r.boolean("attention_bias", false);
    c.attention_out_bias = c.attention_qkv_bias;
    c.qk_norm = true;
  } else {
    return make_error(ErrorKind::kUnsupported,
                      source + ": architecture \"" +
                          (c.architecture.empty() ? std::string("(none)") : c.architecture) +
                          "\" is not supported (supported: " + kSupported + ")");
  }

  c.hidden_size = r.integer("hidden_size", 0, true);
  c.intermediate_size = r.integer("intermediate_size", 0, true);
  c.num_layers = r.integer("num_hidden_layers", 0, true);
  c.num_heads = r.integer("num_attention_heads", 0, true);
  c.num_kv_heads = r.integer("num_key_value_heads", c.num_heads, false);
  c.vocab_size = r.integer("vocab_size", 0, true);
  c.max_position_embeddings = r.integer("max_position_embeddings", 4096, false);
  c.head_dim = r.integer("head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0, false);
  c.rms_norm_eps = r.number(j, "rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  read_rope(r, j, &c.rope);
  if (auto it = j.find("eos_token_id"); it != j.end()) read_token_ids(*it, &c.eos_token_ids);
  if (auto it = j.find("bos_token_id"); it != j.end() && it->is_number_integer())
    c.bos_token_id = it->get<int32_t>();
  for (const char* key : {"torch_dtype", "dtype"})
    if (auto it = j.find(key); it != j.end() && it->is_string()) c.torch_dtype = it->get<std::string>();
  if (auto it = j.find("hidden_act"); it != j.end() && it->is_string() && *it != "silu")
    return make_error(ErrorKind::kUnsupported,
                      source + ": hidden_act " + it->dump() + " is not supported (expected \"silu\")");
  if (r.boolean("use_sliding_window", false))
    return make_error(ErrorKind::kUnsupported,
                      source + ": use_sliding_window=true is not supported yet");
  if (r.failed()) return r.status.take_error();

  auto positive = [&](const char* name, int64_t v) -> Status {
    if (v <= 0)
      return make_error(ErrorKind::kFormat,
                        source + ": " + name + " must be positive, found " + std::to_string(v));
    return {};
  };
  AS_TRY(positive("hidden_size", c.hidden_size));
  AS_TRY(positive("intermediate_size", c.intermediate_size));
  AS_TRY(positive("num_hidden_layers", c.num_layers));
  AS_TRY(positive("num_attention_heads", c.num_heads));
  AS_TRY(positive("num_key_value_heads", c.num_kv_heads));
  AS_TRY(positive("head_dim", c.head_dim));
  AS_TRY(positive("vocab_size", c.vocab_size));
  if (c.num_heads % c.num_kv_heads != 0)
    return make_error(ErrorKind::kFormat, source + ": num_attention_heads (" +
                                              std::to_string(c.num_heads) +
                                              ") is not a multiple of num_key_value_heads (" +
                                              std::to_string(c.num_kv_heads) + ")");
  if (c.head_dim % 2 != 0)
    return make_error(ErrorKind::kFormat,
                      source + ": head_dim must be even for rotary embeddings, found " +
                          std::to_string(c.head_dim));
  return c;
}

Result<ModelConfig> load_model_config(const std::string& model_dir) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(model_dir) / "config.json").string();
  if (!fs::is_directory(model_dir))
    return make_error(ErrorKind::kNotFound, model_dir + ": not a directory (expected a Hugging Face "
                                                        "model directory with config.json)");
  AS_ASSIGN_OR_RETURN(std::string text, read_file(path));
  AS_ASSIGN_OR_RETURN(ModelConfig config, parse_model_config(text, path));
  const std::string gen_path = (fs::path(model_dir) / "generation_config.json").string();
  if (fs::exists(gen_path)) {
    AS_ASSIGN_OR_RETURN(std::string gen_text, read_file(gen_path));
    json g = json::parse(gen_text, nullptr, false);
    if (g.is_discarded() || !g.is_object())
      return make_error(ErrorKind::kFormat, gen_path + ": not a JSON object");
    if (auto it = g.find("eos_token_id"); it != g.end()) {
      std::vector<int32_t> ids;
      read_token_ids(*it, &ids);
      for (int32_t id : ids)
        if (std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), id) ==
            config.eos_token_ids.end())
          config.eos_token_ids.push_back(id);
    }
    if (auto it = g.find("bos_token_id"); it != g.end() && it->is_number_integer())
      config.bos_token_id = it->get<int32_t>();
  }
  return config;
}

}  // namespace agentserve
