#include "backend/cpu/cpu_backend.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "backend/cpu/kernels/kernels.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/log.h"
#include "model/rope.h"

namespace agentserve {
namespace {

constexpr size_t kKvAlignment = 2u << 20;  // huge-page aligned, so THP can back the pool

}  // namespace

CpuBackend::CpuBackend(const LoadedModel& model, const CpuBackendOptions& options)
    : config_(model.config), weights_(model.weights), options_(options) {}

CpuBackend::~CpuBackend() { std::free(kv_); }

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(const LoadedModel& model,
                                                       const CpuBackendOptions& options) {
  if (options.kv_dtype != DType::kF32 && options.kv_dtype != DType::kBF16)
    return make_error(ErrorKind::kInvalidArgument,
                      std::string("KV cache dtype must be f32 or bf16, not ") +
                          dtype_name(options.kv_dtype));
  if (options.page_size < 1 || options.page_size > 1024)
    return make_error(ErrorKind::kInvalidArgument,
                      "KV page size must be in [1, 1024], not " + std::to_string(options.page_size));
  std::unique_ptr<CpuBackend> b(new CpuBackend(model, options));
  const ModelConfig& c = model.config;
  b->geometry_.page_size = options.page_size;
  b->geometry_.num_layers = static_cast<int32_t>(c.num_layers);
  b->geometry_.num_kv_heads = static_cast<int32_t>(c.num_kv_heads);
  b->geometry_.head_dim = static_cast<int32_t>(c.head_dim);
  b->geometry_.dtype = options.kv_dtype;
  const int64_t tokens = std::max<int64_t>(options.kv_cache_tokens, options.page_size);
  b->geometry_.num_pages = static_cast<int32_t>((tokens + options.page_size - 1) / options.page_size);
  const size_t bytes = b->kv_pool_bytes();
  const size_t rounded = (bytes + kKvAlignment - 1) / kKvAlignment * kKvAlignment;
  b->kv_ = static_cast<uint8_t*>(std::aligned_alloc(kKvAlignment, rounded));
  if (b->kv_ == nullptr)
    return make_error(ErrorKind::kResourceExhausted,
                      "cannot allocate " + std::to_string(rounded >> 20) + " MiB for the KV cache (" +
                          std::to_string(tokens) + " tokens); lower the context size");
  madvise(b->kv_, rounded, MADV_HUGEPAGE);
  b->pool_ = std::make_unique<ThreadPool>(
      options.num_threads > 0 ? options.num_threads : default_num_threads(), options.nice_increment);
  b->inv_freq_ = rope_inv_freq(c.rope, c.head_dim);
  return b;
}

std::string CpuBackend::name() const {
  return std::string("cpu (") + cpu_tier_name(active_cpu_tier()) + ", " +
         std::to_string(pool_->num_threads()) + " threads)";
}

void CpuBackend::ensure_scratch(int64_t t, int64_t rows) {
  if (t > scratch_tokens_) {
    const auto h = static_cast<size_t>(config_.hidden_size);
    const auto n = static_cast<size_t>(t);
    x_.resize(n * h);
    xn_.resize(n * h);
    q_.resize(n * static_cast<size_t>(config_.q_dim()));
    k_.resize(n * static_cast<size_t>(config_.kv_dim()));
    v_.resize(n * static_cast<size_t>(config_.kv_dim()));
    attn_.resize(n * static_cast<size_t>(config_.q_dim()));
    proj_.resize(n * h);
    gate_.resize(n * static_cast<size_t>(config_.intermediate_size));
    up_.resize(n * static_cast<size_t>(config_.intermediate_size));
    scratch_tokens_ = t;
  }
  rows_.resize(static_cast<size_t>(rows * config_.hidden_size));
}

void CpuBackend::run_layer(const Batch& batch, int32_t layer) {
  const ModelConfig& c = config_;
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  ThreadPool& pool = *pool_;
  const int64_t t = batch.num_tokens();
  const int64_t h = c.hidden_size;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const auto precision = t > 1 ? options_.prefill_precision : cpu::MatmulPrecision::kF32;

  // Attention block.
  cpu::rms_norm(pool, x_.data(), t, h, w.attn_norm, eps, xn_.data());
  const cpu::MatmulTarget qkv[] = {{&w.wq, nullptr, q_.data()},
                                   {&w.wk, nullptr, k_.data()},
                                   {&w.wv, nullptr, v_.data()}};
  cpu::matmul_shared_input(pool, xn_.data(), t, h, qkv, precision);
  if (c.attention_qkv_bias) {
    cpu::add_bias(pool, q_.data(), t, c.q_dim(), w.bq);
    cpu::add_bias(pool, k_.data(), t, c.kv_dim(), w.bk);
    cpu::add_bias(pool, v_.data(), t, c.kv_dim(), w.bv);
  }
  if (c.qk_norm) {
    cpu::rms_norm(pool, q_.data(), t * c.num_heads, c.head_dim, w.q_norm, eps, q_.data());
    cpu::rms_norm(pool, k_.data(), t * c.num_kv_heads, c.head_dim, w.k_norm, eps, k_.data());
  }
  cpu::rope(pool, q_.data(), t, c.num_heads, c.head_dim, batch.positions.data(), inv_freq_.data());
  cpu::rope(pool, k_.data(), t, c.num_kv_heads, c.head_dim, batch.positions.data(), inv_freq_.data());
  const cpu::KvPoolView kv{kv_, geometry_};
  cpu::kv_store(batch, layer, k_.data(), v_.data(), kv);
  cpu::paged_attention(pool, batch, layer, q_.data(), c.num_heads,
                       1.0f / std::sqrt(static_cast<float>(c.head_dim)), kv, attn_.data());
  cpu::matmul(pool, attn_.data(), t, c.q_dim(), w.wo, nullptr, proj_.data(), precision);
  if (c.attention_out_bias) cpu::add_bias(pool, proj_.data(), t, h, w.bo);
  cpu::add(pool, x_.data(), proj_.data(), t * h);

  // MLP block: down(silu(gate(x)) * up(x)).
  const int64_t inter = c.intermediate_size;
  cpu::rms_norm(pool, x_.data(), t, h, w.mlp_norm, eps, xn_.data());
  const cpu::MatmulTarget gate_up[] = {{&w.w_gate, nullptr, gate_.data()},
                                       {&w.w_up, nullptr, up_.data()}};
  cpu::matmul_shared_input(pool, xn_.data(), t, h, gate_up, precision);
  if (c.mlp_bias) {
    cpu::add_bias(pool, gate_.data(), t, inter, w.b_gate);
    cpu::add_bias(pool, up_.data(), t, inter, w.b_up);
  }
  cpu::silu_mul(pool, gate_.data(), up_.data(), gate_.data(), t * inter);
  cpu::matmul(pool, gate_.data(), t, inter, w.w_down, nullptr, proj_.data(), precision);
  if (c.mlp_bias) cpu::add_bias(pool, proj_.data(), t, h, w.b_down);
  cpu::add(pool, x_.data(), proj_.data(), t * h);
}

Status CpuBackend::forward(const Batch& batch, std::vector<float>* logits) {
  const int64_t t = batch.num_tokens();
  if (t == 0) {
    logits->clear();
    return {};
  }
#ifndef NDEBUG
  {
    const std::string problem = batch.validate(geometry_.page_size, geometry_.num_pages);
    AS_CHECK_MSG(problem.empty(), problem);
  }
#endif
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  const int64_t h = config_.hidden_size;
  ensure_scratch(t, rows);
  cpu::embed(*pool_, weights_.embed, batch.token_ids.data(), t, x_.data());
  for (int32_t layer = 0; layer < geometry_.num_layers; ++layer) run_layer(batch, layer);

  // Only the rows that need logits go through the final norm and the LM head.
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(rows_.data() + r * h, x_.data() + static_cast<int64_t>(batch.logit_rows[static_cast<size_t>(r)]) * h,
                static_cast<size_t>(h) * sizeof(float));
  cpu::rms_norm(*pool_, rows_.data(), rows, h, weights_.final_norm,
                static_cast<float>(config_.rms_norm_eps), rows_.data());
  logits->resize(static_cast<size_t>(rows * config_.vocab_size));
  if (rows > 0)
    cpu::matmul(*pool_, rows_.data(), rows, h, weights_.lm_head, nullptr, logits->data(),
                rows > 1 ? options_.prefill_precision : cpu::MatmulPrecision::kF32);
  return {};
}

// The pool is layer-major (kernels/attention.h): a page is num_layers blocks of
// layer_block_bytes(), one per layer, num_pages blocks apart. Exported, they lie back to back
// in layer order ([layer][kv][head][slot][dim]).
size_t CpuBackend::layer_block_bytes() const {
  return geometry_.page_bytes() / static_cast<size_t>(geometry_.num_layers);
}

uint8_t* CpuBackend::page_block(int32_t page, int32_t layer) const {
  AS_CHECK(page >= 0 && page < geometry_.num_pages);
  return kv_ + (static_cast<size_t>(layer) * geometry_.num_pages + static_cast<size_t>(page)) *
                   layer_block_bytes();
}

void CpuBackend::copy_page(int32_t src_page, int32_t dst_page) {
  for (int32_t l = 0; l < geometry_.num_layers; ++l)
    std::memcpy(page_block(dst_page, l), page_block(src_page, l), layer_block_bytes());
}

void CpuBackend::export_page(int32_t page, void* host_dst) const {
  const size_t block = layer_block_bytes();
  for (int32_t l = 0; l < geometry_.num_layers; ++l)
    std::memcpy(static_cast<uint8_t*>(host_dst) + static_cast<size_t>(l) * block,
                page_block(page, l), block);
}

void CpuBackend::import_page(int32_t page, const void* host_src) {
  const size_t block = layer_block_bytes();
  for (int32_t l = 0; l < geometry_.num_layers; ++l)
    std::memcpy(page_block(page, l),
                static_cast<const uint8_t*>(host_src) + static_cast<size_t>(l) * block, block);
}

}  // namespace agentserve
