// AVX-512 helpers shared by the kernel files compiled with AVX-512 flags (*_avx512*.cpp,
// *_amx.cpp). Include only from those files. Everything here has internal linkage, so no
// copy compiled with AVX-512 flags can be picked by the linker for baseline code.
//
// Loops over small compile-time counts (accumulator arrays, the rows of a micro-tile) carry
// `#pragma GCC unroll 16` in these files: GCC at -O2 does not unroll them by itself, keeps the
// arrays in memory, and the kernels then run at a fraction of their speed (the FMA peak loop
// ran at a quarter of its rate before).
#pragma once

// GCC 12's AVX-512 intrinsics start many operations from `__m512 __Y = __Y;` ("undefined"),
// which -Wuninitialized reports at every inlined use. The pragma must precede immintrin.h, so
// files that include this header include it before anything else.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstdint>

namespace agentserve::cpu::simd {
namespace {

// bf16 -> f32 is a 16-bit shift (exact).
inline __m512 bf16x16_to_f32(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// f32 -> bf16 round-to-nearest-even, NaN kept quiet; bit-identical to f32_to_bf16() in
// tensor/dtype.h (vcvtneps2bf16 would flush denormals, so it is not used for stores).
inline __m256i f32x16_to_bf16(__m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(
      _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

// _mm512_shuffle_i32x4 with every lane selected; the unmasked intrinsic starts from an
// "undefined" vector that GCC 12 reports as maybe-uninitialized.
inline __m512i shuffle_lanes(__m512i a, __m512i b, const int imm) {
  return _mm512_mask_shuffle_i32x4(a, 0xffff, a, b, imm);
}

// In-place transpose of a 16x16 matrix of 32-bit elements held in r[0..15] (row i = r[i]).
inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
#pragma GCC unroll 16
  // Now r[4q + j] holds in 128-bit lane L the elements of column 4L + j from rows 4q..4q+3;
  // two rounds of 128-bit lane shuffles gather the four row groups.
  for (int i = 0; i < 4; ++i) {
    t[i] = shuffle_lanes(r[i], r[i + 4], 0x88);
    t[i + 4] = shuffle_lanes(r[i], r[i + 4], 0xdd);
    t[i + 8] = shuffle_lanes(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = shuffle_lanes(r[i + 8], r[i + 12], 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    r[i] = shuffle_lanes(t[i], t[i + 8], 0x88);
    r[i + 8] = shuffle_lanes(t[i], t[i + 8], 0xdd);
    r[i + 4] = shuffle_lanes(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = shuffle_lanes(t[i + 4], t[i + 12], 0xdd);
  }
}

// exp(x) for f32 lanes, relative error about 2 ulp on [-87, 88]; -inf and very negative
// inputs give 0, +inf gives +inf. Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, then a
// degree-7 polynomial (Cephes' coefficients) for e^r and a scalef by 2^n.
inline __m512 exp_ps(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693359375f);
  const __m512 ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(89.0f));
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, x);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

}  // namespace
}  // namespace agentserve::cpu::simd
