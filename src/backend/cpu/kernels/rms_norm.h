// RMS normalisation, as Hugging Face's LlamaRMSNorm / Qwen2RMSNorm compute it in f32:
//
//   out[r, :] = (x[r, :] * rsqrt(mean(x[r, :]^2) + eps)) * w[:]
//
// x, out: f32 row-major [rows, n]; rows are tokens, or tokens x heads for the per-head q/k
// norm (n = head_dim). w: TensorView of n elements, bf16/f16/f32. out may equal x (in place);
// no other overlap. The product with w comes after normalising, in that order.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

void rms_norm(ThreadPool& pool, const float* x, int64_t rows, int64_t n, const TensorView& w,
              float eps, float* out);

// Reference twin: mean of squares accumulated in double, rsqrt in double.
void rms_norm_reference(ThreadPool& pool, const float* x, int64_t rows, int64_t n,
                        const TensorView& w, float eps, float* out);

}  // namespace agentserve::cpu
