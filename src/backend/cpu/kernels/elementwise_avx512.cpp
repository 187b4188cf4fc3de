// AVX-512 versions of the element-wise kernels where scalar code is slow: the exp of SiLU and
// the bf16 rounding (contracts in elementwise.h).
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include "backend/cpu/kernels/elementwise_internal.h"

namespace agentserve::cpu::detail {
namespace {

inline __mmask16 tail_mask(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffff : (1u << count) - 1);
}

inline __m512 silu_mul16(__m512 g, __m512 u) {
  const __m512 e = simd::exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

}  // namespace

void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, silu_mul16(_mm512_loadu_ps(gate + i), _mm512_loadu_ps(up + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        out + i, m,
        silu_mul16(_mm512_maskz_loadu_ps(m, gate + i), _mm512_maskz_loadu_ps(m, up + i)));
  }
}

void f32_to_bf16_avx512(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        simd::f32x16_to_bf16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(out + i, m, simd::f32x16_to_bf16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

void round_to_bf16_avx512(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, simd::bf16x16_to_f32(simd::f32x16_to_bf16(_mm512_loadu_ps(x + i))));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        x + i, m, simd::bf16x16_to_f32(simd::f32x16_to_bf16(_mm512_maskz_loadu_ps(m, x + i))));
  }
}

}  // namespace agentserve::cpu::detail
