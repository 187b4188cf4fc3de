// bf16-product GEMM of matmul on AMX tiles (TDPBF16PS); contract in matmul.h.
//
// Roles: x is the A operand (16 rows of m x 32 k, packed once per call by the dispatcher),
// W is the B operand, which AMX wants pair-interleaved ("VNNI": row q of a B tile holds
// W[n, 2q] and W[n, 2q+1] for 16 n), so each thread repacks 32-column panels of W, all of k,
// with one 16x16 dword transpose per 16 rows x 32 k. C tiles are 16 m x 16 n f32.
//
// Loops per thread: groups of W panels packed together (<= 512 KB, L2-resident) → m chunks
// of packed x (<= 1 MB, L2-resident) → each panel of the group → 32 x 32 blocks of y: 2 x 2
// C tiles fed by 2 A tiles and 2 B tiles (all eight tile registers), accumulated over the
// whole of k and stored to y once.
//
// Measured on the 2-core Sapphire Rapids VM (best of many runs; the host adds up to 2x
// noise): with both operands streaming from L2 and C kept in tiles over all of k the tile
// loop reaches ~70% of the TDPBF16PS rate; blocking k so that one operand stays in L1
// reached ~85% in isolation but its C round trips (load + store per k block) cost more than
// that won; tile loads from addresses not 64-byte aligned run at a third of the rate (all
// buffers here are aligned); packing W costs ~10-20%, and interleaving it with the tile
// loops (to overlap the shuffles with the AMX unit) measured 8% slower than packing a group
// of panels before using it. Writing y costs ~25% (the kernel with its stores redirected
// reached ~1170 GFLOP/s on one thread against ~880); non-temporal stores won back ~10% here
// but would send y to DRAM just before the next operation reads it, so they are not used.
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cstring>

#include "backend/cpu/kernels/amx_tiles.h"
#include "backend/cpu/kernels/matmul_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int64_t kXChunkBytes = 1 << 20;        // packed x per m chunk (L2 is 2 MB)
constexpr int64_t kPanelGroupBytes = 512 << 10;  // packed W panels per group
constexpr int64_t kTileElems = 512;              // bf16 elements in one 16 x 64-byte tile

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// One unit of a W panel: rows n0 + 16 nt .. + 15 of W, k in [32 kb, 32 kb + 32), transposed
// into the B tile at wp + (kb * 2 + nt) * 512: element [q * 32 + c * 2 + e] = W[n0 + 16 nt + c,
// 32 kb + 2q + e]; zero past n and past k. A panel (32 columns, all of k) is 2 * kbs units.
void pack_unit(const MatmulProblem& p, int64_t n0, int64_t unit, uint16_t* wp) {
  const auto* w = static_cast<const uint16_t*>(p.w);
  const int64_t kb = unit / 2, nt = unit % 2;
  const int64_t kk = kb * 32;
  const int64_t valid = min64(32, p.k - kk);
  const __mmask32 mask = valid >= 32  ? ~__mmask32{0}
                         : valid <= 0 ? __mmask32{0}
                                      : static_cast<__mmask32>((1ull << valid) - 1);
  __m512i r[16];
#pragma GCC unroll 16
  for (int c = 0; c < 16; ++c) {
    const int64_t row = n0 + nt * 16 + c;
    r[c] = row < p.n ? _mm512_maskz_loadu_epi16(mask, w + row * p.k + kk) : _mm512_setzero_si512();
  }
#pragma GCC unroll 16
  // The same unit of the next panel: into L2 now, so that packing it does not stall on
  // memory (measured: packing from DRAM took twice as long).
  for (int c = 0; c < 16; ++c) {
    const int64_t row = n0 + 32 + nt * 16 + c;
    if (row < p.n && valid > 0)
      _mm_prefetch(reinterpret_cast<const char*>(w + row * p.k + kk), _MM_HINT_T1);
  }
  simd::transpose16x16_epi32(r);
  uint16_t* dst = wp + unit * kTileElems;
#pragma GCC unroll 16
  for (int q = 0; q < 16; ++q) _mm512_store_si512(reinterpret_cast<__m512i*>(dst + q * 32), r[q]);
}

// Where a C tile comes from and goes to. load == null means start from zero.
struct CTile {
  const void* load = nullptr;
  int64_t load_stride = 0;  // bytes; 0 broadcasts one row (the bias)
  void* store = nullptr;
  int64_t store_stride = 0;
};

#define AS_LOAD_C(T, c)                          \
  do {                                           \
    if ((c).load == nullptr)                     \
      _tile_zero(T);                             \
    else                                         \
      _tile_loadd(T, (c).load, (c).load_stride); \
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

// Panels (of 32 columns x all of k) packed together.
int64_t panels_per_group(int64_t k_padded) {
  const int64_t panel_bytes = 32 * k_padded * static_cast<int64_t>(sizeof(uint16_t));
  return kPanelGroupBytes / panel_bytes > 1 ? kPanelGroupBytes / panel_bytes : 1;
}

size_t gemm_bf16_amx_scratch_bytes(int64_t k_padded) {
  const size_t panels = static_cast<size_t>(panels_per_group(k_padded)) * 32 *
                        static_cast<size_t>(k_padded) * sizeof(uint16_t);
  const size_t bias_and_edges = (2 + 4) * 256 * sizeof(float);
  return panels + bias_and_edges + 128;
}

void gemm_bf16_amx(const MatmulProblem& p, const PackedActivations& xa, int64_t m_begin,
                   int64_t m_end, int64_t n_begin, int64_t n_end, void* scratch) {
  const int64_t kbs = xa.k_padded / 32;
  const bool split = xa.lo != nullptr;
  // Rows per m chunk: its packed x (hi and lo) stays within kXChunkBytes, a multiple of 32.
  int64_t chunk_rows = kXChunkBytes / (xa.k_padded * 2 * (split ? 2 : 1)) / 32 * 32;
  if (chunk_rows < 32) chunk_rows = 32;
  const int64_t group = panels_per_group(xa.k_padded);
  const int64_t panel_elems = 32 * xa.k_padded;

  auto* wp =
      reinterpret_cast<uint16_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  float* bias_tiles = reinterpret_cast<float*>(wp + group * panel_elems);  // 2 tiles of bias rows
  float* edge = bias_tiles + 2 * 256;                                      // 4 tiles for edges
  const int64_t ldy = p.n * static_cast<int64_t>(sizeof(float));
  configure_amx_tiles_16x64();
  for (int64_t g0 = n_begin; g0 < n_end; g0 += group * 32) {
    const int64_t g1 = min64(g0 + group * 32, n_end);
    for (int64_t n0 = g0; n0 < g1; n0 += 32)
      for (int64_t u = 0; u < 2 * kbs; ++u)
        pack_unit(p, n0, u, wp + ((n0 - g0) / 32) * panel_elems);
    for (int64_t mc0 = m_begin; mc0 < m_end; mc0 += chunk_rows) {
      const int64_t mc1 = min64(mc0 + chunk_rows, m_end);
      for (int64_t n0 = g0; n0 < g1; n0 += 32) {
        const uint16_t* panel = wp + ((n0 - g0) / 32) * panel_elems;
        const int nts = n_end - n0 > 16 ? 2 : 1;
        if (p.bias != nullptr) {
          for (int64_t c = 0; c < 32; ++c) {
            const float b = n0 + c < n_end ? p.bias[n0 + c] : 0.0f;
            for (int r = 0; r < 16; ++r) bias_tiles[(c / 16) * 256 + r * 16 + c % 16] = b;
          }
        }
        for (int64_t m0 = mc0; m0 < mc1; m0 += 32) {
          const int mts = mc1 - m0 > 16 ? 2 : 1;
          CTile c[4];
          for (int mi = 0; mi < mts; ++mi) {
            for (int ni = 0; ni < nts; ++ni) {
              const int t = mi * 2 + ni;
              if (p.bias != nullptr) {
                c[t].load = bias_tiles + ni * 256;
                c[t].load_stride = 64;
              }
              const int64_t row = m0 + mi * 16, col = n0 + ni * 16;
              if (row + 16 <= m_end && col + 16 <= n_end) {
                c[t].store = p.y + row * p.n + col;
                c[t].store_stride = ldy;
              } else {
                c[t].store = edge + t * 256;  // overhangs m or this thread's columns
                c[t].store_stride = 64;
              }
            }
          }
          const int64_t a0 = (m0 / 16) * kbs * kTileElems;
          const int64_t a1 = a0 + kbs * kTileElems;
          const TileBlock block = split ? pick_block<true>(mts, nts) : pick_block<false>(mts, nts);
          block(xa.hi + a0, xa.hi + a1, split ? xa.lo + a0 : nullptr, split ? xa.lo + a1 : nullptr,
                panel, kbs, c);
          for (int t = 0; t < 4; ++t) {
            if (c[t].store != edge + t * 256) continue;
            const int64_t row = m0 + (t / 2) * 16, col = n0 + (t % 2) * 16;
            const int64_t rows = min64(16, m_end - row), cols = min64(16, n_end - col);
            for (int64_t r = 0; r < rows; ++r)
              std::memcpy(p.y + (row + r) * p.n + col, edge + t * 256 + r * 16,
                          static_cast<size_t>(cols) * sizeof(float));
          }
        }
      }
    }
  }
  _tile_release();
}

}  // namespace agentserve::cpu::detail
