// Small element-wise kernels of the forward pass: residual add, bias add, SiLU-gated product,
// embedding lookup, bf16 rounding. All f32 row-major unless stated; memory-bound, so they
// split over threads only when the array is large enough to pay for the fork.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

// x[i] += y[i] for i < n. x and y may not partially overlap (x == y is fine).
void add(ThreadPool& pool, float* x, const float* y, int64_t n);
void add_reference(ThreadPool& pool, float* x, const float* y, int64_t n);

// y[r, c] += bias[c] for r < rows, c < n; bias: rank-1 TensorView [n], bf16/f16/f32.
void add_bias(ThreadPool& pool, float* y, int64_t rows, int64_t n, const TensorView& bias);
void add_bias_reference(ThreadPool& pool, float* y, int64_t rows, int64_t n,
                        const TensorView& bias);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)), f32. out may alias gate or up.
// Fast path: exp to ~2 ulp, so out is within ~4 ulp of the correctly rounded value.
void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n);
void silu_mul_reference(ThreadPool& pool, const float* gate, const float* up, float* out,
                        int64_t n);

// out[t, :] = table[ids[t], :] widened to f32; table: rank-2 TensorView [vocab, hidden],
// bf16/f16/f32; out: [n, hidden]. Every id must lie in [0, vocab) (checked: ids are validated
// against the vocabulary before they reach the engine).
void embed(ThreadPool& pool, const TensorView& table, const int32_t* ids, int64_t n, float* out);
void embed_reference(ThreadPool& pool, const TensorView& table, const int32_t* ids, int64_t n,
                     float* out);

// out[i] = bf16 bits of x[i], rounded to nearest even (NaN stays NaN), bit-identical to
// f32_to_bf16() of tensor/dtype.h.
void f32_to_bf16_array(const float* x, int64_t n, uint16_t* out);
void f32_to_bf16_array_reference(const float* x, int64_t n, uint16_t* out);

// x[i] = bf16_to_f32(f32_to_bf16(x[i])) in place: keeps activations at bf16 precision, as a
// bf16 model in PyTorch holds them.
void round_to_bf16(ThreadPool& pool, float* x, int64_t n);
void round_to_bf16_reference(ThreadPool& pool, float* x, int64_t n);

}  // namespace agentserve::cpu
