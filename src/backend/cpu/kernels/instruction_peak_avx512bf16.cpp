#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include "backend/cpu/kernels/instruction_peak_internal.h"
#include "backend/cpu/kernels/unroll.h"

namespace agentserve::cpu::detail {

float peak_dpbf16(int64_t iterations) {
  __m512 acc[kPeakChains];
  AS_UNROLL for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_setzero_ps();
  // Products of 2^-10 and 2^-10: the sums grow by 2^-19 per step, far from overflow.
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3a80);
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3a80);
  for (int64_t it = 0; it < iterations; ++it)
    AS_UNROLL for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 s = acc[0];
  AS_UNROLL for (int i = 1; i < kPeakChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace agentserve::cpu::detail
