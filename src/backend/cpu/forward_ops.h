// Plain implementations of the non-matmul steps of the forward pass (norm, rope, residual,
// activation, embedding lookup, paged KV store and attention). Interim: the optimised,
// tier-dispatched kernels of backend/cpu/kernels replace these, which then remain as the
// reference twins in tests.
#pragma once

#include <cstdint>

#include "backend/backend.h"
#include "backend/batch.h"
#include "tensor/tensor.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

struct KvPoolView {
  uint8_t* base = nullptr;  // num_pages * page_bytes
  KvGeometry geometry;
};

// out[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) * w[:]; w bf16/f16/f32 [n]. out may be x.
void rms_norm(ThreadPool& pool, const float* x, int64_t rows, int64_t n, const TensorView& w,
              float eps, float* out);
// Rotary embedding (rotate_half pairing i, i + D/2) in place on x[T, heads, D].
void rope(ThreadPool& pool, float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, const float* inv_freq);
// x[i] += y[i]
void add(ThreadPool& pool, float* x, const float* y, int64_t n);
// y[r, :] += bias[:], bias bf16/f16/f32 [n]
void add_bias(ThreadPool& pool, float* y, int64_t rows, int64_t n, const TensorView& bias);
// out[i] = silu(gate[i]) * up[i]; out may alias gate.
void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n);
// out[t, :] = table[ids[t], :] widened to f32.
void embed(ThreadPool& pool, const TensorView& table, const int32_t* ids, int64_t n, float* out);
// Stores k, v [T, kv_heads, D] of each batch token into its page slot of `layer`.
void kv_store(const Batch& batch, int32_t layer, const float* k, const float* v, KvPoolView kv);
// out[t, h, :] = softmax(scale * q[t,h,:]·K[0..pos]) · V over the token's own sequence.
void paged_attention(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                     int64_t num_heads, float scale, KvPoolView kv, float* out);

}  // namespace agentserve::cpu
