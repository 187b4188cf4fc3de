#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include "backend/cpu/kernels/instruction_peak_internal.h"

namespace agentserve::cpu::detail {

// kPeakChains accumulators, each multiplied by its own operand register (as in a GEMM
// micro-tile, where every FMA sees a different broadcast/panel pair).
float peak_fma_zmm(int64_t iterations) {
  __m512 acc[kPeakChains], a[kPeakChains];
#pragma GCC unroll 16
  for (int i = 0; i < kPeakChains; ++i) {
    acc[i] = _mm512_set1_ps(static_cast<float>(i));
    a[i] = _mm512_set1_ps(0.999f - 0.0001f * static_cast<float>(i));
  }
  // acc = acc * a + b with a < 1 converges to a finite value: no overflow, no denormals.
  const __m512 b = _mm512_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a[i], b);
  __m512 s = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kPeakChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace agentserve::cpu::detail
