// AVX-512 f32 paths of matmul (contract in matmul.h): the GEMV that decode runs on (W streamed
// once, memory-bound) and the f32-FMA GEMM (W panels widened and transposed on the fly).
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "backend/cpu/kernels/matmul_internal.h"

namespace agentserve::cpu::detail {
namespace {

enum class WKind { kBf16, kF16, kF32 };

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// ---------------------------------------------------------------------------------------------
// GEMV: y[i, j] = x[i, :] · W[j, :] for i < m <= 4. Each 64-byte piece of a bf16 row holds 32
// weights; the even ones widen with a shift and the odd ones with a mask, so x is prepared
// once per call in the matching order (per 32-chunk: 16 even elements, then 16 odd).
// ---------------------------------------------------------------------------------------------

void prepare_x(const float* x, int64_t m, int64_t k, bool deinterleave, float* out) {
  const int64_t kp = (k + 31) / 32 * 32;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t i = 0; i < m; ++i) {
    const float* src = x + i * k;
    float* dst = out + i * kp;
    for (int64_t c = 0; c < kp; c += 32) {
      const int64_t valid = min64(32, k - c);
      const __mmask16 m0 = static_cast<__mmask16>(valid >= 16 ? 0xffff : (1u << valid) - 1);
      const __mmask16 m1 = static_cast<__mmask16>(valid >= 32   ? 0xffff
                                                  : valid <= 16 ? 0
                                                                : (1u << (valid - 16)) - 1);
      const __m512 a = _mm512_maskz_loadu_ps(m0, src + c);
      const __m512 b = _mm512_maskz_loadu_ps(m1, src + c + 16);
      if (deinterleave) {
        _mm512_store_ps(dst + c, _mm512_permutex2var_ps(a, even, b));
        _mm512_store_ps(dst + c + 16, _mm512_permutex2var_ps(a, odd, b));
      } else {
        _mm512_store_ps(dst + c, a);
        _mm512_store_ps(dst + c + 16, b);
      }
    }
  }
}

// 32 weights of a row starting at element c, as two f32 vectors in the order prepare_x uses.
template <WKind K, bool kMasked>
inline void load32(const void* row, int64_t c, __mmask32 mask, __m512& lo, __m512& hi) {
  if constexpr (K == WKind::kF32) {
    const float* p = static_cast<const float*>(row) + c;
    if constexpr (kMasked) {
      lo = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask), p);
      hi = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask >> 16), p + 16);
    } else {
      lo = _mm512_loadu_ps(p);
      hi = _mm512_loadu_ps(p + 16);
    }
  } else {
    const uint16_t* p = static_cast<const uint16_t*>(row) + c;
    const __m512i v = kMasked ? _mm512_maskz_loadu_epi16(mask, p) : _mm512_loadu_si512(p);
    if constexpr (K == WKind::kBf16) {
      lo = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
      hi = _mm512_castsi512_ps(
          _mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
    } else {
      lo = _mm512_cvtph_ps(_mm512_castsi512_si256(v));
      hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(v, 1));
    }
  }
}

template <WKind K>
constexpr int64_t elem_bytes() {
  return K == WKind::kF32 ? 4 : 2;
}

// R rows of W, `stride` rows apart (j0, j0 + stride, ...), against M rows of x. Two
// accumulators per (row, x-row) while they fit in registers, so that FMA latency never limits
// the streaming rate. A row's sum is computed in the same order whatever the stride and its
// partner rows; only the accumulator count (kAcc, set by M x R) changes it, which is why the
// fused GEMV keeps every range a whole number of 16-row blocks (matmul.cpp): all rows of a
// range then take the same R.
template <WKind K, int M, int R>
void gemv_rows(const MatmulProblem& p, const float* xp, int64_t kp, int64_t j0, int64_t stride = 1) {
  constexpr int kAcc = (M * R * 2 <= 16) ? 2 : 1;
  const int64_t k = p.k;
  const char* rows[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    rows[r] = static_cast<const char*>(p.w) + (j0 + r * stride) * k * elem_bytes<K>();
  __m512 acc[R][M][kAcc];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i)
#pragma GCC unroll 16
      for (int a = 0; a < kAcc; ++a) acc[r][i][a] = _mm512_setzero_ps();
  const int64_t full = k / 32 * 32;
  // Up to 4 rows of x are held in registers; beyond that they are read from L1 per use (2m
  // vectors would not fit next to the accumulators).
  constexpr bool kXInRegs = M <= 4;
  auto step = [&](int64_t c, auto masked, __mmask32 mask) {
    __m512 xlo[kXInRegs ? M : 1], xhi[kXInRegs ? M : 1];
    if constexpr (kXInRegs) {
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        xlo[i] = _mm512_load_ps(xp + i * kp + c);
        xhi[i] = _mm512_load_ps(xp + i * kp + c + 16);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m512 lo, hi;
      load32<K, decltype(masked)::value>(rows[r], c, mask, lo, hi);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        const __m512 a = kXInRegs ? xlo[kXInRegs ? i : 0] : _mm512_load_ps(xp + i * kp + c);
        const __m512 b = kXInRegs ? xhi[kXInRegs ? i : 0] : _mm512_load_ps(xp + i * kp + c + 16);
        acc[r][i][0] = _mm512_fmadd_ps(lo, a, acc[r][i][0]);
        acc[r][i][kAcc - 1] = _mm512_fmadd_ps(hi, b, acc[r][i][kAcc - 1]);
      }
    }
  };
  // Prefetch into L2 the rows that follow: one line per row per step. With short rows the
  // hardware prefetcher keeps too few lines in flight (measured: k = 1024 bf16 rows reach ~65%
  // of the read bandwidth without this, ~90-100% with it). Consecutive rows: ~16 KB ahead of
  // the block; rows `stride` apart (separate streams): ~4 KB ahead in each stream.
  const int64_t row_bytes = k * elem_bytes<K>();
  const int64_t ahead = stride == 1 ? std::max<int64_t>((16384 / row_bytes + R - 1) / R * R, R)
                                    : std::max<int64_t>(4096 / row_bytes, 1);
  const char* pf = static_cast<const char*>(p.w) + (j0 + ahead) * row_bytes;
  const char* pf_end = static_cast<const char*>(p.w) + p.n * row_bytes;
  for (int64_t c = 0; c < full; c += 32) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const char* a = pf + r * stride * row_bytes + c * elem_bytes<K>();
      if (a < pf_end) _mm_prefetch(a, _MM_HINT_T1);
    }
    step(c, std::false_type{}, ~__mmask32{0});
  }
  if (full < k) step(full, std::true_type{}, static_cast<__mmask32>((1ull << (k - full)) - 1));
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const int64_t j = j0 + r * stride;
    const float b = p.bias != nullptr ? p.bias[j] : 0.0f;
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      __m512 s = acc[r][i][0];
      if constexpr (kAcc == 2) s = _mm512_add_ps(s, acc[r][i][1]);
      p.y[i * p.n + j] = _mm512_reduce_add_ps(s) + b;
    }
  }
}

template <WKind K, int M>
void gemv_range(const MatmulProblem& p, int64_t n_begin, int64_t n_end, const float* xp) {
  const int64_t kp = (p.k + 31) / 32 * 32;
  if constexpr (M <= 4) {
    // Decode: several rows at a time, one from each part of the range, so the thread reads
    // streams far apart rather than neighbouring rows. Measured (cpu-2c, 2026-11-27, cold W,
    // 2 threads, a standalone copy of this loop), k = 1024 bf16: one x row, 8 streams against 4
    // neighbouring rows 23.7-24.6 -> 27.0-28.3 GB/s (+10-14%; k = 3072 unchanged); 2 and 4 x
    // rows, 4 streams against 4 neighbouring rows 22.5-24.9 -> 25.8-28.9 GB/s (median, +15-20%).
    constexpr int kStreams = M == 1 ? 8 : 4;
    const int64_t sub = (n_end - n_begin) / kStreams;
    if (sub >= 4) {
      for (int64_t j = n_begin; j < n_begin + sub; ++j) gemv_rows<K, M, kStreams>(p, xp, kp, j, sub);
      for (int64_t j = n_begin + kStreams * sub; j < n_end; ++j) gemv_rows<K, M, 1>(p, xp, kp, j);
      return;
    }
  }
  constexpr int kRows = M <= 4 ? 4 : 2;
  int64_t j = n_begin;
  for (; j + kRows <= n_end; j += kRows) gemv_rows<K, M, kRows>(p, xp, kp, j);
  for (; j < n_end; ++j) gemv_rows<K, M, 1>(p, xp, kp, j);
}

template <WKind K>
void gemv_kind(const MatmulProblem& p, int64_t n_begin, int64_t n_end, const float* xp) {
  switch (p.m) {
    case 1:
      gemv_range<K, 1>(p, n_begin, n_end, xp);
      break;
    case 2:
      gemv_range<K, 2>(p, n_begin, n_end, xp);
      break;
    case 3:
      gemv_range<K, 3>(p, n_begin, n_end, xp);
      break;
    case 4:
      gemv_range<K, 4>(p, n_begin, n_end, xp);
      break;
    case 5:
      gemv_range<K, 5>(p, n_begin, n_end, xp);
      break;
    case 6:
      gemv_range<K, 6>(p, n_begin, n_end, xp);
      break;
    case 7:
      gemv_range<K, 7>(p, n_begin, n_end, xp);
      break;
    default:
      gemv_range<K, 8>(p, n_begin, n_end, xp);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// f32 GEMM. Loops: k blocks of kKc (outer) → panels of kNr = 32 columns, packed as [kc][32]
// f32 → micro-tiles of up to kMr rows, each an outer-product accumulation in
// kMr x 2 zmm registers (x broadcast from its rows, the panel loaded as two vectors). y holds
// the running sum between k blocks; the first block adds the bias.
// ---------------------------------------------------------------------------------------------

constexpr int kNr = 32;
constexpr int kMr = 12;
// 1024 (a 128 KB panel, L2-resident) measured 83-87% of the FMA peak on one thread against
// 73% for 256 (an L1-resident panel): fewer passes over y, whose rows alias in L1.
constexpr int64_t kKc = 1024;

// Rows n0..n0+31 of W, columns k0..k0+kc-1, widened to f32 into wp[kk * 32 + c].
void pack_panel_f32(const MatmulProblem& p, int64_t n0, int64_t k0, int64_t kc, float* wp) {
  const int64_t kc16 = (kc + 15) / 16 * 16;
#pragma GCC unroll 16
  for (int half = 0; half < 2; ++half) {
    for (int64_t kk = 0; kk < kc16; kk += 16) {
      const int64_t valid = min64(16, p.k - (k0 + kk));
      const __mmask16 mask = static_cast<__mmask16>(valid >= 16 ? 0xffff : (1u << valid) - 1);
      __m512i r[16];
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) {
        const int64_t row = n0 + half * 16 + c;
        if (row >= p.n) {
          r[c] = _mm512_setzero_si512();
          continue;
        }
        const int64_t off = row * p.k + k0 + kk;
        if (p.w_dtype == DType::kF32) {
          r[c] = _mm512_castps_si512(
              _mm512_maskz_loadu_ps(mask, static_cast<const float*>(p.w) + off));
        } else {
          const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(p.w) + off);
          r[c] = p.w_dtype == DType::kBF16 ? _mm512_castps_si512(simd::bf16x16_to_f32(h))
                                           : _mm512_castps_si512(_mm512_cvtph_ps(h));
        }
      }
      simd::transpose16x16_epi32(r);
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        _mm512_store_si512(reinterpret_cast<__m512i*>(wp + (kk + c) * kNr + half * 16), r[c]);
    }
  }
}

template <int MR>
void micro_f32(const float* x, int64_t ldx, const float* wp, int64_t kc, float* y, int64_t ldy,
               __mmask16 mask0, __mmask16 mask1, bool first, const float* bias) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m512 b0 = _mm512_load_ps(wp + kk * kNr);
    const __m512 b1 = _mm512_load_ps(wp + kk * kNr + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(x[i * ldx + kk]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
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

using MicroF32 = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, __mmask16,
                          __mmask16, bool, const float*);

template <int... I>
constexpr auto make_micro_table(std::integer_sequence<int, I...>) {
  return std::array<MicroF32, sizeof...(I)>{&micro_f32<I + 1>...};
}

// 16 values (count valid, rest zero) to bf16 hi (and lo) at dst.
inline void pack16(const float* src, int64_t count, uint16_t* hi, uint16_t* lo) {
  const __mmask16 m = static_cast<__mmask16>(count >= 16  ? 0xffff
                                             : count <= 0 ? 0
                                                          : (1u << count) - 1);
  const __m512 v = _mm512_maskz_loadu_ps(m, src);
  const __m256i h = simd::f32x16_to_bf16(v);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi), h);
  if (lo != nullptr)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo),
                        simd::f32x16_to_bf16(_mm512_sub_ps(v, simd::bf16x16_to_f32(h))));
}

}  // namespace

void pack_x_rows_avx512(const float* x, int64_t k, int64_t k_padded, int64_t row_begin,
                        int64_t row_end, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = row_begin; i < row_end; ++i) {
    const int64_t full = k_padded / 16 * 16;
    for (int64_t c = 0; c < full; c += 16)
      pack16(x + i * k + c, k - c, hi + i * k_padded + c,
             lo != nullptr ? lo + i * k_padded + c : nullptr);
    if (full < k_padded) {  // k_padded is even, not always a multiple of 16
      alignas(64) uint16_t h[16], l[16];
      pack16(x + i * k + full, k - full, h, lo != nullptr ? l : nullptr);
      for (int64_t c = full; c < k_padded; ++c) {
        hi[i * k_padded + c] = h[c - full];
        if (lo != nullptr) lo[i * k_padded + c] = l[c - full];
      }
    }
  }
}

void pack_x_tiles_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int64_t tile_begin,
                         int64_t tile_end, uint16_t* hi, uint16_t* lo) {
  const int64_t kbs = k_padded / 32;
  for (int64_t mt = tile_begin; mt < tile_end; ++mt) {
    for (int64_t r = 0; r < 16; ++r) {
      const int64_t i = mt * 16 + r;
      for (int64_t kb = 0; kb < kbs; ++kb) {
        const int64_t off = (mt * kbs + kb) * 512 + r * 32;
        const int64_t valid = i < m ? k - kb * 32 : 0;
        const float* src = x + (i < m ? i : 0) * k + kb * 32;
        pack16(src, valid, hi + off, lo != nullptr ? lo + off : nullptr);
        pack16(src + 16, valid - 16, hi + off + 16, lo != nullptr ? lo + off + 16 : nullptr);
      }
    }
  }
}

void gemv_avx512(const MatmulProblem& p, int64_t n_begin, int64_t n_end, void* scratch) {
  auto* xp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  prepare_x(p.x, p.m, p.k, p.w_dtype == DType::kBF16, xp);
  switch (p.w_dtype) {
    case DType::kBF16:
      gemv_kind<WKind::kBf16>(p, n_begin, n_end, xp);
      break;
    case DType::kF16:
      gemv_kind<WKind::kF16>(p, n_begin, n_end, xp);
      break;
    default:
      gemv_kind<WKind::kF32>(p, n_begin, n_end, xp);
      break;
  }
}

size_t gemm_f32_avx512_scratch_bytes() {
  return kKc * kNr * sizeof(float) + 64;
}

void gemm_f32_avx512(const MatmulProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin,
                     int64_t n_end, void* scratch) {
  static constexpr auto kMicro = make_micro_table(std::make_integer_sequence<int, kMr>{});
  auto* wp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  for (int64_t k0 = 0; k0 < p.k; k0 += kKc) {
    const int64_t kc = min64(kKc, p.k - k0);
    const bool first = k0 == 0;
    for (int64_t n0 = n_begin; n0 < n_end; n0 += kNr) {
      pack_panel_f32(p, n0, k0, kc, wp);
      const int64_t cols = min64(kNr, n_end - n0);
      const __mmask16 mask0 = static_cast<__mmask16>(cols >= 16 ? 0xffff : (1u << cols) - 1);
      const __mmask16 mask1 = static_cast<__mmask16>(cols >= 32   ? 0xffff
                                                     : cols <= 16 ? 0
                                                                  : (1u << (cols - 16)) - 1);
      const float* bias = p.bias != nullptr ? p.bias + n0 : nullptr;
      for (int64_t i0 = m_begin; i0 < m_end; i0 += kMr) {
        const int rows = static_cast<int>(min64(kMr, m_end - i0));
        kMicro[static_cast<size_t>(rows - 1)](p.x + i0 * p.k + k0, p.k, wp, kc, p.y + i0 * p.n + n0,
                                              p.n, mask0, mask1, first, bias);
      }
    }
  }
}

}  // namespace agentserve::cpu::detail
