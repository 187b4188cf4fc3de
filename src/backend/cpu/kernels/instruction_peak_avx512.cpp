#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include "backend/cpu/kernels/instruction_peak_internal.h"
#include "backend/cpu/kernels/unroll.h"

namespace agentserve::cpu::detail {

float peak_fma_zmm(int64_t iterations) {
  __m512 acc[kPeakChains];
  AS_UNROLL for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (int64_t it = 0; it < iterations; ++it)
    AS_UNROLL for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  AS_UNROLL for (int i = 1; i < kPeakChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace agentserve::cpu::detail
