// AVX-512 sampler passes (contract in sampler_exp.h). exp_neg16 is exp_neg_scalar lane by
// lane: the same constants and the same fused multiply-adds in the same order, so its bits
// equal the scalar ones (sampler_exp_test checks it).

// GCC 12's AVX-512 intrinsics start from `__m512 __Y = __Y;`, which -Wuninitialized reports
// at every inlined use (see backend/cpu/kernels/simd_avx512.h); must precede immintrin.h.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "engine/sampler_exp.h"
#include "engine/sampler_exp_internal.h"

namespace agentserve::sampling::detail {
namespace {

constexpr float kNegInf = -__builtin_inff();

inline __mmask16 tail_mask(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffff : (1u << count) - 1);
}

inline __m512 exp_neg16(__m512 x) {
  x = _mm512_min_ps(_mm512_setzero_ps(), x);  // x > 0 ? 0 : x (NaN stays NaN, as in scalar)
  const __mmask16 valid = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMin), _CMP_GE_OQ);
  const __m512 shifter = _mm512_set1_ps(kShifter);
  const __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(kLog2e), shifter), shifter);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kP7);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  // Invalid lanes (x < -87, -inf, NaN) compute garbage here and are zeroed below.
  const __m512i bits =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mov_ps(valid, _mm512_mul_ps(p, _mm512_castsi512_ps(bits)));
}

// Sum over 16 lanes of floor(w * 2^45), as two vectors of 8 int64 (exact conversions).
inline __m512i fixed_sum16(__m512 w) {
  const __m512 s = _mm512_mul_ps(w, _mm512_set1_ps(0x1p45f));
  return _mm512_add_epi64(_mm512_cvttps_epu64(_mm512_castps512_ps256(s)),
                          _mm512_cvttps_epu64(_mm512_extractf32x8_ps(s, 1)));
}

inline __m512 weights16(const float* x, __mmask16 m, __m512 shift, __m512 scale) {
  const __m512 v = _mm512_maskz_loadu_ps(m, x);
  return _mm512_maskz_mov_ps(m, exp_neg16(_mm512_mul_ps(_mm512_sub_ps(v, shift), scale)));
}

}  // namespace

float max_with_blocks_avx512(const float* x, int64_t n, float* block_max) {
  const __m512 neg_inf = _mm512_set1_ps(kNegInf);
  __m512 all = neg_inf;
  for (int64_t b = 0; b < n; b += kBlock) {
    __m512 m;
    if (b + kBlock <= n) {
      const __m512 m01 = _mm512_max_ps(_mm512_loadu_ps(x + b), _mm512_loadu_ps(x + b + 16));
      const __m512 m23 = _mm512_max_ps(_mm512_loadu_ps(x + b + 32), _mm512_loadu_ps(x + b + 48));
      m = _mm512_max_ps(m01, m23);
    } else {
      m = neg_inf;
      for (int64_t i = b; i < n; i += 16)
        m = _mm512_max_ps(_mm512_mask_loadu_ps(neg_inf, tail_mask(n - i), x + i), m);
    }
    if (block_max != nullptr) block_max[b / kBlock] = _mm512_reduce_max_ps(m);
    all = _mm512_max_ps(m, all);
  }
  return _mm512_reduce_max_ps(all);
}

uint64_t exp_weights_avx512(const float* x, int64_t n, float shift, float scale, float* w,
                            uint64_t* block_sum) {
  const __m512 vshift = _mm512_set1_ps(shift), vscale = _mm512_set1_ps(scale);
  uint64_t total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    __m512i acc = _mm512_setzero_si512();
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    if (end - b == kBlock) {
      __m512 e[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) e[j] = weights16(x + b + 16 * j, 0xffff, vshift, vscale);
      if (w != nullptr) {
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) _mm512_storeu_ps(w + b + 16 * j, e[j]);
      }
      acc = _mm512_add_epi64(_mm512_add_epi64(fixed_sum16(e[0]), fixed_sum16(e[1])),
                             _mm512_add_epi64(fixed_sum16(e[2]), fixed_sum16(e[3])));
    } else {
      for (int64_t i = b; i < end; i += 16) {
        const __mmask16 m = tail_mask(end - i);
        const __m512 e = weights16(x + i, m, vshift, vscale);
        if (w != nullptr) _mm512_mask_storeu_ps(w + i, m, e);
        acc = _mm512_add_epi64(acc, fixed_sum16(e));
      }
    }
    const uint64_t sum = static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
    if (block_sum != nullptr) block_sum[b / kBlock] = sum;
    total += sum;
  }
  return total;
}

int64_t collect_at_least_avx512(const float* x, int64_t n, float threshold, int32_t* out) {
  const __m512 thr = _mm512_set1_ps(threshold), neg_inf = _mm512_set1_ps(kNegInf);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int64_t count = 0;
  auto emit = [&](int64_t i, __mmask16 m) {
    const __m512i idx = _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int32_t>(i)));
    _mm512_storeu_si512(out + count, _mm512_maskz_compress_epi32(m, idx));
    count += __builtin_popcount(m);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {  // two vectors a step, tested together: most pass nothing
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __mmask16 m0 = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(v0, thr, _CMP_GE_OQ), v0,
                                                 neg_inf, _CMP_GT_OQ);
    const __mmask16 m1 = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(v1, thr, _CMP_GE_OQ), v1,
                                                 neg_inf, _CMP_GT_OQ);
    if ((m0 | m1) == 0) continue;
    if (m0 != 0) emit(i, m0);
    if (m1 != 0) emit(i + 16, m1);
  }
  for (; i < n; i += 16) {
    const __mmask16 t = tail_mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(t, x + i);
    const __mmask16 m = _mm512_mask_cmp_ps_mask(
        _mm512_mask_cmp_ps_mask(t, v, thr, _CMP_GE_OQ), v, neg_inf, _CMP_GT_OQ);
    if (m != 0) emit(i, m);
  }
  return count;
}

}  // namespace agentserve::sampling::detail
