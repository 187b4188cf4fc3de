// bf16-product GEMM of matmul with vdpbf16ps (AVX512_BF16), for CPUs without AMX; contract
// in matmul.h. Same blocking as the f32 GEMM of matmul_avx512.cpp, but the panel holds W in
// its own bf16 bits, pairs of k adjacent ([kc/2][32 n][2]: one 16x16 dword transpose per
// 16 rows x 32 k), and x arrives as bf16 rows so that one dword broadcast feeds a pair of k.
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <array>
#include <cstring>
#include <utility>

#include "backend/cpu/kernels/matmul_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int kNr = 32;
constexpr int kMr = 12;
constexpr int64_t kKc = 512;  // k elements per block: a 32 KB panel

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Rows n0..n0+31 of bf16 W, k in [k0, k0 + kc) (kc even), into wp[(pair * 32 + c) * 2 + e].
void pack_panel_vnni(const MatmulProblem& p, int64_t n0, int64_t k0, int64_t kc, uint16_t* wp) {
  const auto* w = static_cast<const uint16_t*>(p.w);
#pragma GCC unroll 16
  for (int half = 0; half < 2; ++half) {
    for (int64_t kk = 0; kk < kc; kk += 32) {
      const int64_t valid = min64(32, p.k - (k0 + kk));
      const __mmask32 mask =
          valid >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1ull << valid) - 1);
      __m512i r[16];
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) {
        const int64_t row = n0 + half * 16 + c;
        r[c] = row < p.n ? _mm512_maskz_loadu_epi16(mask, w + row * p.k + k0 + kk)
                         : _mm512_setzero_si512();
      }
      simd::transpose16x16_epi32(r);
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        _mm512_store_si512(reinterpret_cast<__m512i*>(wp + ((kk / 2 + j) * kNr + half * 16) * 2),
                           r[j]);
    }
  }
}

inline __m512i broadcast_pair(const uint16_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

template <int MR, bool kSplit>
void micro_bf16(const uint16_t* xhi, const uint16_t* xlo, int64_t ldx, const uint16_t* wp,
                int64_t pairs, float* y, int64_t ldy, __mmask16 mask0, __mmask16 mask1, bool first,
                const float* bias) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t q = 0; q < pairs; ++q) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(wp + q * kNr * 2);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(wp + q * kNr * 2 + 32);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512bh a = (__m512bh)broadcast_pair(xhi + i * ldx + 2 * q);
      c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
    }
    if constexpr (kSplit) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512bh a = (__m512bh)broadcast_pair(xlo + i * ldx + 2 * q);
        c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
        c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
      }
    }
  }
  __m512 base0 = _mm512_setzero_ps(), base1 = _mm512_setzero_ps();
  if (first && bias != nullptr) {
    base0 = _mm512_maskz_loadu_ps(mask0, bias);
    base1 = _mm512_maskz_loadu_ps(mask1, bias + 16);
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* row = y + i * ldy;
    if (!first) {
      base0 = _mm512_maskz_loadu_ps(mask0, row);
      base1 = _mm512_maskz_loadu_ps(mask1, row + 16);
    }
    _mm512_mask_storeu_ps(row, mask0, _mm512_add_ps(c0[i], base0));
    _mm512_mask_storeu_ps(row + 16, mask1, _mm512_add_ps(c1[i], base1));
  }
}

using MicroBf16 = void (*)(const uint16_t*, const uint16_t*, int64_t, const uint16_t*, int64_t,
                           float*, int64_t, __mmask16, __mmask16, bool, const float*);

template <bool kSplit, int... I>
constexpr auto make_micro_table(std::integer_sequence<int, I...>) {
  return std::array<MicroBf16, sizeof...(I)>{&micro_bf16<I + 1, kSplit>...};
}

}  // namespace

size_t gemm_bf16_avx512bf16_scratch_bytes() {
  return kKc * kNr * sizeof(uint16_t) + 64;
}

void gemm_bf16_avx512bf16(const MatmulProblem& p, const PackedActivations& xa, int64_t m_begin,
                          int64_t m_end, int64_t n_begin, int64_t n_end, void* scratch) {
  static constexpr auto kPlain = make_micro_table<false>(std::make_integer_sequence<int, kMr>{});
  static constexpr auto kSplit = make_micro_table<true>(std::make_integer_sequence<int, kMr>{});
  const auto& micro = xa.lo != nullptr ? kSplit : kPlain;
  auto* wp =
      reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  const int64_t ldx = xa.k_padded;
  for (int64_t k0 = 0; k0 < xa.k_padded; k0 += kKc) {
    const int64_t kc = min64(kKc, xa.k_padded - k0);
    const bool first = k0 == 0;
    for (int64_t n0 = n_begin; n0 < n_end; n0 += kNr) {
      pack_panel_vnni(p, n0, k0, kc, wp);
      const int64_t cols = min64(kNr, n_end - n0);
      const __mmask16 mask0 = static_cast<__mmask16>(cols >= 16 ? 0xffff : (1u << cols) - 1);
      const __mmask16 mask1 = static_cast<__mmask16>(cols >= 32   ? 0xffff
                                                     : cols <= 16 ? 0
                                                                  : (1u << (cols - 16)) - 1);
      const float* bias = p.bias != nullptr ? p.bias + n0 : nullptr;
      for (int64_t i0 = m_begin; i0 < m_end; i0 += kMr) {
        const int rows = static_cast<int>(min64(kMr, m_end - i0));
        const uint16_t* lo = xa.lo != nullptr ? xa.lo + i0 * ldx + k0 : nullptr;
        micro[static_cast<size_t>(rows - 1)](xa.hi + i0 * ldx + k0, lo, ldx, wp, kc / 2,
                                             p.y + i0 * p.n + n0, p.n, mask0, mask1, first, bias);
      }
    }
  }
}

}  // namespace agentserve::cpu::detail
