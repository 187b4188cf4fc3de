// The CPU backend: runs the decoder over a mixed batch with f32 activations, weights read
// zero-copy from the safetensors mmap, and KV in a paged pool in host memory. Kernels pick
// AVX2 / AVX-512 / AVX512-BF16 / AMX at run time (backend/cpu/kernels).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/kernels/matmul.h"
#include "base/thread_pool.h"
#include "model/weights.h"

namespace agentserve {

struct CpuBackendOptions {
  int32_t num_threads = 0;           // 0: default_num_threads()
  int32_t page_size = 16;            // positions per KV page
  int64_t kv_cache_tokens = 32768;   // pool capacity in positions (rounded up to pages)
  DType kv_dtype = DType::kBF16;     // f32 or bf16
  // Multi-row matmuls (prefill). Single rows (decode) always run in f32.
  cpu::MatmulPrecision prefill_precision = cpu::MatmulPrecision::kBf16;
  int32_t nice_increment = 0;        // > 0: pool workers run below normal priority (server)
};

class CpuBackend : public Backend {
 public:
  // `model` must outlive the backend (its weights are views into the model's mmap).
  static Result<std::unique_ptr<CpuBackend>> create(const LoadedModel& model,
                                                    const CpuBackendOptions& options);
  ~CpuBackend() override;

  std::string name() const override;
  const KvGeometry& kv_geometry() const override { return geometry_; }
  int32_t vocab_size() const override { return static_cast<int32_t>(config_.vocab_size); }

  Status forward(const Batch& batch, std::vector<float>* logits) override;

  void copy_page(int32_t src_page, int32_t dst_page) override;
  void export_page(int32_t page, void* host_dst) const override;
  void import_page(int32_t page, const void* host_src) override;

  size_t kv_pool_bytes() const { return geometry_.page_bytes() * static_cast<size_t>(geometry_.num_pages); }
  ThreadPool& thread_pool() { return *pool_; }

 private:
  CpuBackend(const LoadedModel& model, const CpuBackendOptions& options);
  void ensure_scratch(int64_t num_tokens, int64_t num_logit_rows);
  size_t layer_block_bytes() const;                   // one page's K/V of one layer
  uint8_t* page_block(int32_t page, int32_t layer) const;
  void run_layer(const Batch& batch, int32_t layer);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  CpuBackendOptions options_;
  KvGeometry geometry_;
  std::unique_ptr<ThreadPool> pool_;
  uint8_t* kv_ = nullptr;          // [num_layers][num_pages][layer_block_bytes()], 2 MiB aligned
  std::vector<float> inv_freq_;    // [head_dim / 2] rotary frequencies

  // Activations, f32, sized for the largest batch seen.
  int64_t scratch_tokens_ = 0;
  std::vector<float> x_;      // [T, hidden]   residual stream
  std::vector<float> xn_;     // [T, hidden]   normalised input of a block
  std::vector<float> q_;      // [T, q_dim]
  std::vector<float> k_;      // [T, kv_dim]
  std::vector<float> v_;      // [T, kv_dim]
  std::vector<float> attn_;   // [T, q_dim]    attention output (input of o_proj)
  std::vector<float> proj_;   // [T, hidden]   o_proj / down_proj output
  std::vector<float> gate_;   // [T, intermediate]
  std::vector<float> up_;     // [T, intermediate]
  std::vector<float> rows_;   // [R, hidden]   final hidden state of the logit rows
};

}  // namespace agentserve
