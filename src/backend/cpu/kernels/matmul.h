// Dense matmul of f32 activations with a weight matrix served zero-copy from the model's mmap.
//
//   y[m, n] = x[m, k] · W[n, k]ᵀ (+ bias[n])
//
// x: f32 row-major [m, k]; W: TensorView of rank 2, shape [n, k] row-major (PyTorch Linear
// layout), dtype bf16 (the main case), f16 or f32; bias: f32 [n] or null; y: f32 row-major
// [m, n], must not alias x. Any m >= 1, n >= 1, k >= 1 (no alignment or multiple-of
// requirements). Multi-threaded over n (and m for large m).
//
// Weights are never required to be pre-packed: GEMM packs panels of W on the fly into
// thread-local buffers (cost amortised over the m rows); GEMV (small m) streams W once.
#pragma once

#include <cstdint>
#include <span>

#include "tensor/tensor.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

// How activations enter the products. Weights always enter exactly (bf16/f16/f32 → f32 is
// exact; bf16 W enters the bf16 instructions unchanged). A mode is a floor on accuracy: a
// path may be more accurate than asked (GEMV always computes in kF32 since it is
// memory-bound; f16/f32 weights always use kF32 since they are not exact in bf16).
enum class MatmulPrecision {
  kF32,        // x as f32, W widened exactly, f32 FMA. Relative error ~1e-7.
  kBf16,       // x rounded to bf16 (RNE), exact products, f32 accumulation (vdpbf16ps /
               // AMX TDPBF16PS). Relative error ~2e-3. The fast prefill path.
  kBf16Split,  // x = hi + lo with hi = bf16(x), lo = bf16(x - hi): two bf16 passes,
               // relative error ~1e-5 at twice the cost of kBf16.
};

const char* matmul_precision_name(MatmulPrecision precision);  // "f32", "bf16", "bf16x2"

void matmul(ThreadPool& pool, const float* x, int64_t m, int64_t k, const TensorView& w,
            const float* bias, float* y, MatmulPrecision precision);

// Several matmuls of one input x: y_i[m, n_i] = x[m, k] · W_i[n_i, k]ᵀ (+ bias_i). Decode
// (m <= kGemvMaxRows) runs them as one job over the concatenated rows, so each thread streams
// one long region and pays one barrier instead of one per matrix (q/k/v, gate/up); results
// are bit-identical to separate matmul() calls.
struct MatmulTarget {
  const TensorView* w = nullptr;  // [n_i, k]
  const float* bias = nullptr;    // [n_i] or null
  float* y = nullptr;             // [m, n_i]
};
void matmul_shared_input(ThreadPool& pool, const float* x, int64_t m, int64_t k,
                         std::span<const MatmulTarget> targets, MatmulPrecision precision);

// Reference twin: the same contract computed plainly with double accumulation, x rounded as
// `precision` says (kBf16: bf16(x); kBf16Split: hi + lo). Parallel over n for test speed.
void matmul_reference(ThreadPool& pool, const float* x, int64_t m, int64_t k, const TensorView& w,
                      const float* bias, float* y, MatmulPrecision precision);

// Rows at or below which matmul takes the GEMV path (W streamed once, f32 math): up to 8
// rows the FMAs per weight still keep pace with the memory stream on AVX-512.
inline constexpr int64_t kGemvMaxRows = 8;

}  // namespace agentserve::cpu
