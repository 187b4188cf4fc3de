// AVX-512 rows of rms_norm (contract in rms_norm.h): sum of squares in four vector
// accumulators, then one pass that scales and multiplies by the widened weight.
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cmath>

#include "backend/cpu/kernels/rms_norm_internal.h"

namespace agentserve::cpu::detail {
namespace {

inline __mmask16 tail_mask(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffff : (1u << count) - 1);
}

inline __m512 load_weight(const void* w, DType dtype, int64_t i, __mmask16 m) {
  if (dtype == DType::kF32) return _mm512_maskz_loadu_ps(m, static_cast<const float*>(w) + i);
  const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(w) + i);
  return dtype == DType::kBF16 ? simd::bf16x16_to_f32(h) : _mm512_cvtph_ps(h);
}

}  // namespace

void rms_norm_rows_avx512(const float* x, int64_t row_begin, int64_t row_end, int64_t n,
                          const void* w, DType w_dtype, float eps, float* out) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* xr = x + r * n;
    float* o = out + r * n;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 16
      for (int a = 0; a < 4; ++a) {
        const __m512 v = _mm512_loadu_ps(xr + i + 16 * a);
        acc[a] = _mm512_fmadd_ps(v, v, acc[a]);
      }
    }
    for (; i < n; i += 16) {
      const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), xr + i);
      acc[0] = _mm512_fmadd_ps(v, v, acc[0]);
    }
    const float sum = _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
    const __m512 scale = _mm512_set1_ps(1.0f / std::sqrt(sum / static_cast<float>(n) + eps));
    for (i = 0; i < n; i += 16) {
      const __mmask16 m = tail_mask(n - i);
      const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), scale);
      _mm512_mask_storeu_ps(o + i, m, _mm512_mul_ps(v, load_weight(w, w_dtype, i, m)));
    }
  }
}

}  // namespace agentserve::cpu::detail
