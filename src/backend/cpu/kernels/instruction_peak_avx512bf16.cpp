#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include "backend/cpu/kernels/instruction_peak_internal.h"

namespace agentserve::cpu::detail {

// Products of ~2^-10 and 2^-10: the sums grow by ~2^-19 per step, far from overflow.
// distinct_operands: each accumulator has its own first operand, as in a GEMM micro-tile.
// Measured on this Sapphire Rapids: with one or two operand registers vdpbf16ps issues about
// twice per cycle; with a dozen distinct registers (any real GEMM) about 0.4 per cycle, below
// f32 FMA. What counts is registers, not values: equal values in 16 registers are slow too.
float peak_dpbf16(int64_t iterations, bool distinct_operands) {
  __m512 acc[kPeakChains];
#pragma GCC unroll 16
  for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_setzero_ps();
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3a80);
  if (distinct_operands) {
    __m512bh a[kPeakChains];
#pragma GCC unroll 16
    for (int i = 0; i < kPeakChains; ++i)
      a[i] = (__m512bh)_mm512_set1_epi16(static_cast<short>(0x3a80 + i));
    for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
      for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a[i], b);
    }
  } else {
    // One register for every first operand (equal values in distinct registers still pay).
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3a80);
    for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
      for (int i = 0; i < kPeakChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
  }
  __m512 s = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kPeakChains; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace agentserve::cpu::detail
