// AVX2 + FMA sampler passes (contract in sampler_exp.h). exp_neg8 is exp_neg_scalar lane by
// lane (same constants, same fused multiply-adds, same order), so the bits agree; partial
// vectors at a row's end go through exp_neg_scalar itself (an FMA instruction in this file).
#include <immintrin.h>

#include "engine/sampler_exp.h"
#include "engine/sampler_exp_internal.h"

namespace agentserve::sampling::detail {
namespace {

constexpr float kNegInf = -__builtin_inff();

inline __m256 exp_neg8(__m256 x) {
  x = _mm256_min_ps(_mm256_setzero_ps(), x);  // x > 0 ? 0 : x (NaN stays NaN, as in scalar)
  const __m256 valid = _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_GE_OQ);
  const __m256 shifter = _mm256_set1_ps(kShifter);
  const __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(kLog2e), shifter), shifter);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kP7);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  // Invalid lanes (x < -87, -inf, NaN) compute garbage here and are zeroed below.
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(valid, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

// floor(v) for 4 doubles in [0, 2^52) as int64: floor, then the bits of v + 2^52 minus those
// of 2^52 (AVX2 has no double -> int64 conversion). Exact, like the scalar cast.
inline __m256i floor_to_i64(__m256d v) {
  const __m256d magic = _mm256_set1_pd(0x1p52);
  const __m256d f = _mm256_round_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(f, magic)),
                          _mm256_castpd_si256(magic));
}

// Sum over 8 lanes of floor(w * 2^45), as 4 int64.
inline __m256i fixed_sum8(__m256 w) {
  const __m256 s = _mm256_mul_ps(w, _mm256_set1_ps(0x1p45f));  // exact
  return _mm256_add_epi64(floor_to_i64(_mm256_cvtps_pd(_mm256_castps256_ps128(s))),
                          floor_to_i64(_mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
}

inline uint64_t hsum_epi64(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return static_cast<uint64_t>(_mm_cvtsi128_si64(s)) +
         static_cast<uint64_t>(_mm_extract_epi64(s, 1));
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace

float max_with_blocks_avx2(const float* x, int64_t n, float* block_max) {
  const __m256 neg_inf = _mm256_set1_ps(kNegInf);
  float all = kNegInf;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    __m256 m0 = neg_inf, m1 = neg_inf;
    int64_t i = b;
    for (; i + 16 <= end; i += 16) {
      m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
      m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
    }
    float bm = hmax(_mm256_max_ps(m0, m1));
    for (; i < end; ++i) bm = x[i] > bm ? x[i] : bm;
    if (block_max != nullptr) block_max[b / kBlock] = bm;
    all = bm > all ? bm : all;
  }
  return all;
}

uint64_t exp_weights_avx2(const float* x, int64_t n, float shift, float scale, float* w,
                          uint64_t* block_sum) {
  const __m256 vshift = _mm256_set1_ps(shift), vscale = _mm256_set1_ps(scale);
  uint64_t total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    __m256i acc = _mm256_setzero_si256();
    int64_t i = b;
    for (; i + 8 <= end; i += 8) {
      const __m256 e =
          exp_neg8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vshift), vscale));
      if (w != nullptr) _mm256_storeu_ps(w + i, e);
      acc = _mm256_add_epi64(acc, fixed_sum8(e));
    }
    uint64_t sum = hsum_epi64(acc);
    for (; i < end; ++i) {
      const float e = exp_neg_scalar((x[i] - shift) * scale);
      if (w != nullptr) w[i] = e;
      sum += fixed_weight_scalar(e);
    }
    if (block_sum != nullptr) block_sum[b / kBlock] = sum;
    total += sum;
  }
  return total;
}

int64_t collect_at_least_avx2(const float* x, int64_t n, float threshold, int32_t* out) {
  const __m256 thr = _mm256_set1_ps(threshold), neg_inf = _mm256_set1_ps(kNegInf);
  int64_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    unsigned m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_and_ps(
        _mm256_cmp_ps(v, thr, _CMP_GE_OQ), _mm256_cmp_ps(v, neg_inf, _CMP_GT_OQ))));
    while (m != 0) {  // rare: few tokens pass a truncation threshold
      out[count++] = static_cast<int32_t>(i + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  for (; i < n; ++i)
    if (x[i] >= threshold && x[i] > kNegInf) out[count++] = static_cast<int32_t>(i);
  return count;
}

}  // namespace agentserve::sampling::detail
