// bf16-product GEMM of matmul on AMX tiles (TDPBF16PS); contract in matmul.h.
//
// Roles: x is the A operand (16 rows of m x 32 k, packed once per call by the dispatcher),
// W is the B operand, which AMX wants pair-interleaved ("VNNI": row q of a B tile holds
// W[n, 2q] and W[n, 2q+1] for 16 n), so each thread repacks 32-column panels of W with one
// 16x16 dword transpose per 16 rows x 32 k. C tiles are 16 m x 16 n f32, i.e. rows of y, so
// they load and store straight from y (stride n), which also carries the sum between k blocks.
//
// Loops per thread: k blocks of kKc (outer) → m chunks of kMc (the packed x slice stays in
// L2) → 32-column W panels (repacked, L1-resident) → 32 x 32 blocks of y: 2 x 2 C tiles fed
// by 2 A tiles and 2 B tiles, all eight tile registers.
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cstring>

#include "backend/cpu/kernels/matmul_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int64_t kKc = 512;   // k per block: W panel = 2 x (kKc / 32) tiles = 32 KB
constexpr int64_t kMc = 512;   // rows per chunk: x slice = kMc x kKc bf16 = 512 KB
constexpr int64_t kTileElems = 512;  // bf16 elements in one 16 x 64-byte tile

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

void configure_tiles() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
}

// Columns n0..n0+31 (rows of W), k in [k0, k0 + kc), kc a multiple of 32, into B tiles:
// tile (kb, nt) at wp + (kb * 2 + nt) * 512, element [q * 32 + c * 2 + e] = W[n0 + 16 nt + c,
// k0 + 32 kb + 2q + e]; zero past n and past k.
void pack_panel_vnni(const MatmulProblem& p, int64_t n0, int64_t k0, int64_t kc, uint16_t* wp) {
  const auto* w = static_cast<const uint16_t*>(p.w);
  for (int64_t kb = 0; kb < kc / 32; ++kb) {
    const int64_t kk = k0 + kb * 32;
    const int64_t valid = min64(32, p.k - kk);
    const __mmask32 mask = valid >= 32 ? ~__mmask32{0}
                           : valid <= 0 ? __mmask32{0}
                                        : static_cast<__mmask32>((1ull << valid) - 1);
    for (int nt = 0; nt < 2; ++nt) {
      __m512i r[16];
      for (int c = 0; c < 16; ++c) {
        const int64_t row = n0 + nt * 16 + c;
        r[c] = row < p.n ? _mm512_maskz_loadu_epi16(mask, w + row * p.k + kk) : _mm512_setzero_si512();
      }
      simd::transpose16x16_epi32(r);
      uint16_t* dst = wp + (kb * 2 + nt) * kTileElems;
      for (int q = 0; q < 16; ++q) _mm512_store_si512(reinterpret_cast<__m512i*>(dst + q * 32), r[q]);
    }
  }
}

// Where a C tile comes from and goes to. load == null means start from zero.
struct CTile {
  const void* load = nullptr;
  int64_t load_stride = 0;  // bytes; 0 broadcasts one row (the bias)
  void* store = nullptr;
  int64_t store_stride = 0;
};

#define AS_LOAD_C(T, c)                                   \
  do {                                                    \
    if ((c).load == nullptr)                              \
      _tile_zero(T);                                      \
    else                                                  \
      _tile_loadd(T, (c).load, (c).load_stride);          \
  } while (0)

// C[mi][ni] (tile 2 mi + ni) += A[mi] (tile 4 + mi) · B[ni] (tile 6 + ni) over kbs k blocks.
template <int MT, int NT, bool kSplit>
void tile_block(const uint16_t* a_hi0, const uint16_t* a_hi1, const uint16_t* a_lo0,
                const uint16_t* a_lo1, const uint16_t* wp, int64_t kbs, const CTile* c) {
  AS_LOAD_C(0, c[0]);
  if constexpr (NT == 2) AS_LOAD_C(1, c[1]);
  if constexpr (MT == 2) AS_LOAD_C(2, c[2]);
  if constexpr (MT == 2 && NT == 2) AS_LOAD_C(3, c[3]);
  for (int64_t kb = 0; kb < kbs; ++kb) {
    const uint16_t* b = wp + kb * 2 * kTileElems;
    _tile_loadd(6, b, 64);
    if constexpr (NT == 2) _tile_loadd(7, b + kTileElems, 64);
    _tile_loadd(4, a_hi0 + kb * kTileElems, 64);
    if constexpr (MT == 2) _tile_loadd(5, a_hi1 + kb * kTileElems, 64);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (NT == 2) _tile_dpbf16ps(1, 4, 7);
    if constexpr (MT == 2) _tile_dpbf16ps(2, 5, 6);
    if constexpr (MT == 2 && NT == 2) _tile_dpbf16ps(3, 5, 7);
    if constexpr (kSplit) {
      _tile_loadd(4, a_lo0 + kb * kTileElems, 64);
      if constexpr (MT == 2) _tile_loadd(5, a_lo1 + kb * kTileElems, 64);
      _tile_dpbf16ps(0, 4, 6);
      if constexpr (NT == 2) _tile_dpbf16ps(1, 4, 7);
      if constexpr (MT == 2) _tile_dpbf16ps(2, 5, 6);
      if constexpr (MT == 2 && NT == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, c[0].store, c[0].store_stride);
  if constexpr (NT == 2) _tile_stored(1, c[1].store, c[1].store_stride);
  if constexpr (MT == 2) _tile_stored(2, c[2].store, c[2].store_stride);
  if constexpr (MT == 2 && NT == 2) _tile_stored(3, c[3].store, c[3].store_stride);
}

#undef AS_LOAD_C

using TileBlock = void (*)(const uint16_t*, const uint16_t*, const uint16_t*, const uint16_t*,
                           const uint16_t*, int64_t, const CTile*);

template <bool kSplit>
TileBlock pick_block(int mt, int nt) {
  if (mt == 2) return nt == 2 ? &tile_block<2, 2, kSplit> : &tile_block<2, 1, kSplit>;
  return nt == 2 ? &tile_block<1, 2, kSplit> : &tile_block<1, 1, kSplit>;
}

}  // namespace

size_t gemm_bf16_amx_scratch_bytes() {
  return (kKc / 32) * 2 * kTileElems * sizeof(uint16_t) + 4 * 256 * sizeof(float) + 128;
}

void gemm_bf16_amx(const MatmulProblem& p, const PackedActivations& xa, int64_t m_begin,
                   int64_t m_end, int64_t n_begin, int64_t n_end, void* scratch) {
  auto* wp = reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  float* edge = reinterpret_cast<float*>(wp + (kKc / 32) * 2 * kTileElems);  // 4 tiles of 16 x 16
  const bool split = xa.lo != nullptr;
  const int64_t kbs_total = xa.k_padded / 32;
  const int64_t ldy = p.n * static_cast<int64_t>(sizeof(float));
  configure_tiles();
  for (int64_t k0 = 0; k0 < xa.k_padded; k0 += kKc) {
    const int64_t kc = min64(kKc, xa.k_padded - k0);
    const bool first = k0 == 0;
    for (int64_t mc0 = m_begin; mc0 < m_end; mc0 += kMc) {
      const int64_t mc1 = min64(mc0 + kMc, m_end);
      for (int64_t n0 = n_begin; n0 < n_end; n0 += 32) {
        pack_panel_vnni(p, n0, k0, kc, wp);
        const int nts = n_end - n0 > 16 ? 2 : 1;
        for (int64_t m0 = mc0; m0 < mc1; m0 += 32) {
          const int mts = mc1 - m0 > 16 ? 2 : 1;
          CTile c[4];
          bool is_edge[4] = {};
          for (int mi = 0; mi < mts; ++mi) {
            for (int ni = 0; ni < nts; ++ni) {
              const int t = mi * 2 + ni;
              const int64_t row = m0 + mi * 16, col = n0 + ni * 16;
              float* yt = p.y + row * p.n + col;
              const int64_t rows = min64(16, m_end - row), cols = min64(16, n_end - col);
              const float* bias = p.bias != nullptr ? p.bias + col : nullptr;
              if (rows == 16 && cols == 16) {
                c[t].store = yt;
                c[t].store_stride = ldy;
                if (!first) {
                  c[t].load = yt;
                  c[t].load_stride = ldy;
                } else if (bias != nullptr) {
                  c[t].load = bias;
                  c[t].load_stride = 0;
                }
                continue;
              }
              // A tile that overhangs m or this thread's columns goes through a buffer.
              is_edge[t] = true;
              float* buf = edge + t * 256;
              std::memset(buf, 0, 256 * sizeof(float));
              for (int64_t r = 0; r < rows; ++r)
                for (int64_t q = 0; q < cols; ++q)
                  buf[r * 16 + q] = !first ? yt[r * p.n + q] : bias != nullptr ? bias[q] : 0.0f;
              c[t].load = buf;
              c[t].load_stride = 64;
              c[t].store = buf;
              c[t].store_stride = 64;
            }
          }
          const int64_t mt0 = m0 / 16;
          const int64_t a0 = (mt0 * kbs_total + k0 / 32) * kTileElems;
          const int64_t a1 = a0 + kbs_total * kTileElems;
          const TileBlock block = split ? pick_block<true>(mts, nts) : pick_block<false>(mts, nts);
          block(xa.hi + a0, xa.hi + a1, split ? xa.lo + a0 : nullptr, split ? xa.lo + a1 : nullptr,
                wp, kc / 32, c);
          for (int t = 0; t < 4; ++t) {
            if (!is_edge[t]) continue;
            const int64_t row = m0 + (t / 2) * 16, col = n0 + (t % 2) * 16;
            const int64_t rows = min64(16, m_end - row), cols = min64(16, n_end - col);
            const float* buf = edge + t * 256;
            for (int64_t r = 0; r < rows; ++r)
              std::memcpy(p.y + (row + r) * p.n + col, buf + r * 16, static_cast<size_t>(cols) * 4);
          }
        }
      }
    }
  }
  _tile_release();
}

}  // namespace agentserve::cpu::detail
