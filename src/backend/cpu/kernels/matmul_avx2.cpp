// AVX2 + FMA + F16C f32 paths of matmul (contract in matmul.h), for machines without
// AVX-512: the same GEMV and outer-product GEMM as matmul_avx512.cpp at half the width.
#include <immintrin.h>

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

template <WKind K>
constexpr int64_t elem_bytes() {
  return K == WKind::kF32 ? 4 : 2;
}

// GEMV. x is prepared per 16-chunk: for bf16 W the 8 even elements then the 8 odd ones (a
// 32-byte piece of a row widens with one shift and one mask), else in natural order.
void prepare_x(const float* x, int64_t m, int64_t k, bool deinterleave, float* out) {
  const int64_t kp = (k + 31) / 32 * 32;
  for (int64_t i = 0; i < m; ++i) {
    const float* src = x + i * k;
    float* dst = out + i * kp;
    for (int64_t c = 0; c < kp; c += 16) {
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        const float v = c + j < k ? src[c + j] : 0.0f;
        dst[c + (deinterleave ? (j & 1) * 8 + j / 2 : j)] = v;
      }
    }
  }
}

template <WKind K>
inline void load16(const void* row, int64_t c, __m256& lo, __m256& hi) {
  if constexpr (K == WKind::kF32) {
    const float* p = static_cast<const float*>(row) + c;
    lo = _mm256_loadu_ps(p);
    hi = _mm256_loadu_ps(p + 8);
  } else {
    const uint16_t* p = static_cast<const uint16_t*>(row) + c;
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (K == WKind::kBf16) {
      lo = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
      hi = _mm256_castsi256_ps(
          _mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
    } else {
      lo = _mm256_cvtph_ps(_mm256_castsi256_si128(v));
      hi = _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1));
    }
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R rows of W, `stride` rows apart, against M rows of x; a row's sum has one order whatever
// rows it is read with (as in matmul_avx512.cpp).
template <WKind K, int M, int R>
void gemv_rows(const MatmulProblem& p, const float* xp, int64_t kp, int64_t j0, int64_t stride = 1) {
  const int64_t k = p.k;
  const char* rows[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    rows[r] = static_cast<const char*>(p.w) + (j0 + r * stride) * k * elem_bytes<K>();
  __m256 acc[R][M][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[r][i][0] = acc[r][i][1] = _mm256_setzero_ps();
  auto step = [&](const void* const* src, int64_t c, int64_t xc) {
    __m256 xlo[M], xhi[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      xlo[i] = _mm256_load_ps(xp + i * kp + xc);
      xhi[i] = _mm256_load_ps(xp + i * kp + xc + 8);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      __m256 lo, hi;
      load16<K>(src[r], c, lo, hi);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) {
        acc[r][i][0] = _mm256_fmadd_ps(lo, xlo[i], acc[r][i][0]);
        acc[r][i][1] = _mm256_fmadd_ps(hi, xhi[i], acc[r][i][1]);
      }
    }
  };
  const int64_t full = k / 16 * 16;
  const void* src[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) src[r] = rows[r];
  // L2 prefetch, as in matmul_avx512.cpp (short rows starve the prefetcher): ~16 KB ahead of
  // a block of neighbouring rows, ~4 KB ahead in each of `stride`-apart streams.
  const int64_t row_bytes = k * elem_bytes<K>();
  const int64_t ahead = stride == 1 ? std::max<int64_t>((16384 / row_bytes + R - 1) / R * R, R)
                                    : std::max<int64_t>(4096 / row_bytes, 1);
  const char* pf = static_cast<const char*>(p.w) + (j0 + ahead) * row_bytes;
  const char* pf_end = static_cast<const char*>(p.w) + p.n * row_bytes;
  for (int64_t c = 0; c < full; c += 16) {
    if ((c & 31) == 0) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const char* a = pf + r * stride * row_bytes + c * elem_bytes<K>();
        if (a < pf_end) _mm_prefetch(a, _MM_HINT_T1);
      }
    }
    step(src, c, c);
  }
  if (full < k) {
    // The tail goes through a zero-padded copy: AVX2 has no masked 16-bit loads.
    alignas(32) uint8_t tail[R][64] = {};
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const int64_t bytes = (k - full) * elem_bytes<K>();
      for (int64_t b = 0; b < bytes; ++b)
        tail[r][b] = reinterpret_cast<const uint8_t*>(rows[r])[full * elem_bytes<K>() + b];
      src[r] = tail[r];
    }
    step(src, 0, full);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const int64_t j = j0 + r * stride;
    const float b = p.bias != nullptr ? p.bias[j] : 0.0f;
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i)
      p.y[i * p.n + j] = hsum(_mm256_add_ps(acc[r][i][0], acc[r][i][1])) + b;
  }
}

template <WKind K, int M>
void gemv_range(const MatmulProblem& p, int64_t n_begin, int64_t n_end, const float* xp) {
  const int64_t kp = (p.k + 31) / 32 * 32;
  constexpr int kRows = M <= 2 ? 4 : 2;
  if constexpr (M <= 2) {
    // kRows streams far apart, one from each part of the range (matmul_avx512.cpp says why).
    const int64_t sub = (n_end - n_begin) / kRows;
    if (sub >= 4) {
      for (int64_t j = n_begin; j < n_begin + sub; ++j) gemv_rows<K, M, kRows>(p, xp, kp, j, sub);
      for (int64_t j = n_begin + kRows * sub; j < n_end; ++j) gemv_rows<K, M, 1>(p, xp, kp, j);
      return;
    }
  }
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
    default:
      gemv_range<K, 4>(p, n_begin, n_end, xp);
      break;
  }
}

// GEMM: k blocks of kKc → panels of 16 columns packed [kc][16] f32 → micro-tiles of up to 6
// rows in 6 x 2 ymm accumulators.
constexpr int kNr = 16;
constexpr int kMr = 6;
constexpr int64_t kKc = 256;

float widen(const void* w, DType dtype, int64_t index) {
  if (dtype == DType::kF32) return static_cast<const float*>(w)[index];
  const uint16_t h = static_cast<const uint16_t*>(w)[index];
  if (dtype == DType::kF16) return _cvtsh_ss(h);
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

void pack_panel_f32(const MatmulProblem& p, int64_t n0, int64_t k0, int64_t kc, float* wp) {
#pragma GCC unroll 16
  for (int c = 0; c < kNr; ++c) {
    const int64_t row = n0 + c;
    for (int64_t kk = 0; kk < kc; ++kk)
      wp[kk * kNr + c] = row < p.n ? widen(p.w, p.w_dtype, row * p.k + k0 + kk) : 0.0f;
  }
}

template <int MR>
void micro_f32(const float* x, int64_t ldx, const float* wp, int64_t kc, float* y, int64_t ldy,
               int cols, bool first, const float* bias) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < kc; ++kk) {
    const __m256 b0 = _mm256_load_ps(wp + kk * kNr);
    const __m256 b1 = _mm256_load_ps(wp + kk * kNr + 8);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256 a = _mm256_broadcast_ss(x + i * ldx + kk);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    alignas(32) float out[16];
    _mm256_store_ps(out, c0[i]);
    _mm256_store_ps(out + 8, c1[i]);
    float* row = y + i * ldy;
    for (int c = 0; c < cols; ++c)
      row[c] = out[c] + (first ? (bias != nullptr ? bias[c] : 0.0f) : row[c]);
  }
}

using MicroF32 = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, int, bool,
                          const float*);

template <int... I>
constexpr auto make_micro_table(std::integer_sequence<int, I...>) {
  return std::array<MicroF32, sizeof...(I)>{&micro_f32<I + 1>...};
}

}  // namespace

void gemv_avx2(const MatmulProblem& p, int64_t n_begin, int64_t n_end, void* scratch) {
  // Up to 4 rows of x per pass (16 ymm registers); more rows take a second pass over W.
  for (int64_t i0 = 0; i0 < p.m; i0 += 4) {
    MatmulProblem part = p;
    part.x = p.x + i0 * p.k;
    part.y = p.y + i0 * p.n;
    part.m = p.m - i0 < 4 ? p.m - i0 : 4;
    auto* xp =
        reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
    prepare_x(part.x, part.m, part.k, part.w_dtype == DType::kBF16, xp);
    switch (part.w_dtype) {
      case DType::kBF16:
        gemv_kind<WKind::kBf16>(part, n_begin, n_end, xp);
        break;
      case DType::kF16:
        gemv_kind<WKind::kF16>(part, n_begin, n_end, xp);
        break;
      default:
        gemv_kind<WKind::kF32>(part, n_begin, n_end, xp);
        break;
    }
  }
}

size_t gemm_f32_avx2_scratch_bytes() {
  return kKc * kNr * sizeof(float) + 64;
}

void gemm_f32_avx2(const MatmulProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin,
                   int64_t n_end, void* scratch) {
  static constexpr auto kMicro = make_micro_table(std::make_integer_sequence<int, kMr>{});
  auto* wp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  for (int64_t k0 = 0; k0 < p.k; k0 += kKc) {
    const int64_t kc = min64(kKc, p.k - k0);
    for (int64_t n0 = n_begin; n0 < n_end; n0 += kNr) {
      pack_panel_f32(p, n0, k0, kc, wp);
      const int cols = static_cast<int>(min64(kNr, n_end - n0));
      const float* bias = p.bias != nullptr ? p.bias + n0 : nullptr;
      for (int64_t i0 = m_begin; i0 < m_end; i0 += kMr) {
        const int rows = static_cast<int>(min64(kMr, m_end - i0));
        kMicro[static_cast<size_t>(rows - 1)](p.x + i0 * p.k + k0, p.k, wp, kc, p.y + i0 * p.n + n0,
                                              p.n, cols, k0 == 0, bias);
      }
    }
  }
}

}  // namespace agentserve::cpu::detail
