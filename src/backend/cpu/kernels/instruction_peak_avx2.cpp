#include <immintrin.h>

#include "backend/cpu/kernels/instruction_peak_internal.h"

namespace agentserve::cpu::detail {

float peak_fma_ymm(int64_t iterations) {
  // 12 accumulators + 2 operands of 16 ymm registers: distinct operands would spill.
  __m256 acc[kPeakChainsYmm];
#pragma GCC unroll 16
  for (int i = 0; i < kPeakChainsYmm; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kPeakChainsYmm; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kPeakChainsYmm; ++i) s = _mm256_add_ps(s, acc[i]);
  return _mm256_cvtss_f32(s);
}

}  // namespace agentserve::cpu::detail
