// AMX kernel of paged_attention for prefill items: bf16 K/V, head_dim a multiple of 32 (at
// most 256), one kv head, rows normalised into `out` (no partial state). Contract of the item
// in attention_internal.h.
//
// Why: with a long cached context, prefill is attention — at 30k keys a token's scores and
// weighted sum cost ~8x its matmuls on a Qwen3-0.6B shape — and the AVX-512 kernel runs it in
// f32 FMAs. Here both products run on the tiles, flash-attention style, per block of 32 keys:
//   S = Q Kᵀ    A: Q rows (bf16, pre-scaled), 16 rows x 32 dims per tile; B: Kᵀ, built once
//               per block by a 16 x 16 dword transpose of 16 keys' rows (VNNI pairs of dims)
//   online softmax of S's rows in AVX-512 (f32), P rounded to bf16
//   O = O·α + P V   A: P, 16 rows x 32 keys; B: V, pairs of key rows interleaved (VNNI)
// O stays in f32 in scratch (16 x head_dim per row block: more than the tiles hold), read and
// written by tile loads/stores; rows whose max did not move skip the rescale. The K/V tiles of
// a block are shared by every row block of the item, so items are larger than the AVX-512
// kernel's (kAmxRowsPerItem in attention.cpp).
//
// Rounding: q and P are bf16 here (K and V are bf16 already); accumulation is f32. That is
// the precision of flash attention on GPUs and of transformers' bf16 SDPA; the AVX-512 kernel
// keeps q and P in f32. The tests hold each kernel to its own bound against the f64 twin.
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <array>
#include <cmath>
#include <utility>

#include "backend/cpu/kernels/amx_tiles.h"
#include "backend/cpu/kernels/attention_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int kBlockKeys = 32;   // keys per block: the k of one P·V tile product
constexpr int kTileElems = 512;  // bf16 elements of a 16 x 64-byte tile

template <class T>
T* align64(void* p) {
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
}

// Scratch, each part 64-byte aligned; NC = head_dim / 32, RB = row blocks of 16.
struct Layout {
  size_t qt, kt, vt, pt, s, o, ml, zero, total;  // byte offsets
  Layout(int rb, int nc) {
    size_t at = 0;
    auto take = [&at](size_t bytes) {
      const size_t here = at;
      at += (bytes + 63) / 64 * 64;
      return here;
    };
    qt = take(static_cast<size_t>(rb) * nc * kTileElems * 2);  // Q tiles [rb][c]
    kt = take(static_cast<size_t>(nc) * 2 * kTileElems * 2);   // Kᵀ tiles [c][key half]
    vt = take(static_cast<size_t>(nc) * 2 * kTileElems * 2);   // V tiles [16-dim block]
    pt = take(kTileElems * 2);                                 // P tile
    s = take(16 * kBlockKeys * sizeof(float));                 // S of a row block
    o = take(static_cast<size_t>(rb) * 16 * nc * 32 * sizeof(float));
    ml = take(static_cast<size_t>(rb) * 16 * 3 * sizeof(float));  // max, sum, alpha
    zero = take(static_cast<size_t>(nc) * 64);                    // a zero key row
    total = at + 64;                                              // + alignment of the base
  }
};

template <int NC>
void run(const AttentionTask& t, void* scratch_raw) {
  constexpr int D = NC * 32;
  constexpr int ND16 = NC * 2;  // 16-dim blocks of O
  const int R = t.num_rows;
  const int RB = (R + 15) / 16;
  const Layout lay(RB, NC);
  auto* base = align64<uint8_t>(scratch_raw);
  auto* qt = reinterpret_cast<uint16_t*>(base + lay.qt);
  auto* kt = reinterpret_cast<uint16_t*>(base + lay.kt);
  auto* vt = reinterpret_cast<uint16_t*>(base + lay.vt);
  auto* pt = reinterpret_cast<uint16_t*>(base + lay.pt);
  auto* s = reinterpret_cast<float*>(base + lay.s);
  auto* o = reinterpret_cast<float*>(base + lay.o);
  float* row_max = reinterpret_cast<float*>(base + lay.ml);
  float* row_sum = row_max + RB * 16;
  float* alpha = row_sum + RB * 16;
  auto* zero = reinterpret_cast<uint16_t*>(base + lay.zero);
  for (int c = 0; c < NC; ++c)
    _mm512_store_si512(reinterpret_cast<__m512i*>(zero + c * 32), _mm512_setzero_si512());

  // Q tiles: row i of tile (rb, c) = q row rb * 16 + i, dims 32c .. 32c + 31, scaled, bf16.
  const __m512 scale = _mm512_set1_ps(t.scale);
  for (int r = 0; r < RB * 16; ++r) {
    uint16_t* dst = qt + (static_cast<size_t>(r / 16) * NC) * kTileElems + (r % 16) * 32;
    if (r >= R) {
      for (int c = 0; c < NC; ++c)
        _mm512_store_si512(reinterpret_cast<__m512i*>(dst + c * kTileElems),
                           _mm512_setzero_si512());
      continue;
    }
    const float* src = t.q + (r / t.group) * t.token_stride + (r % t.group) * D;
    for (int c = 0; c < NC; ++c) {
      const __m512 lo = _mm512_mul_ps(_mm512_loadu_ps(src + c * 32), scale);
      const __m512 hi = _mm512_mul_ps(_mm512_loadu_ps(src + c * 32 + 16), scale);
      _mm512_store_si512(reinterpret_cast<__m512i*>(dst + c * kTileElems),
                         reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
    }
  }
  for (int i = 0; i < RB * 16 * D; i += 16) _mm512_store_ps(o + i, _mm512_setzero_ps());
  for (int r = 0; r < RB * 16; ++r) {
    row_max[r] = -INFINITY;
    row_sum[r] = 0.0f;
  }

  // Interleaves the 16-bit elements of two 16-element rows: a0 b0 a1 b1 ... a15 b15.
  const __m512i pair_idx = [] {
    alignas(64) int16_t idx[32];
    for (int c = 0; c < 16; ++c) {
      idx[2 * c] = static_cast<int16_t>(c);
      idx[2 * c + 1] = static_cast<int16_t>(32 + c);
    }
    return _mm512_load_si512(idx);
  }();
  const __m512i lane_index =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

  configure_amx_tiles_16x64();
  const int32_t last_pos = t.first_pos + (R - 1) / t.group;
  const int32_t key_end = t.key_end < last_pos + 1 ? t.key_end : last_pos + 1;
  const auto* pool = reinterpret_cast<const uint16_t*>(t.pool);
  for (int32_t j0 = t.key_begin; j0 < key_end; j0 += kBlockKeys) {
    const int nk = key_end - j0 < kBlockKeys ? key_end - j0 : kBlockKeys;
    const uint16_t* krow[kBlockKeys];
    const uint16_t* vrow[kBlockKeys];
    for (int j = 0; j < kBlockKeys; ++j) {
      if (j >= nk) {
        krow[j] = vrow[j] = zero;  // V rows past the keys must be finite: P is 0 there
        continue;
      }
      const int32_t pos = j0 + j;
      const size_t at = static_cast<size_t>(t.pages[pos / t.page_size]) * t.page_stride +
                        static_cast<size_t>(pos % t.page_size) * D;
      krow[j] = pool + at + t.k_offset;
      vrow[j] = pool + at + t.v_offset;
    }
    // The K and V rows of the block after next into L2: a cached conversation's pages lie
    // anywhere in the pool, where the hardware prefetchers lose the stream at every page.
    // (Measured, same run, alternating: 32k-token prefill of the tiny model 2.5-2.7 s against
    // 3.6-3.8 s without; 4k tokens of the Qwen3-0.6B shape 9.4-11.4 s against 10.8-12.2 s.)
    const int32_t ahead = j0 + 2 * kBlockKeys;
    for (int32_t pos = ahead; pos < ahead + kBlockKeys && pos < key_end; ++pos) {
      const size_t at = static_cast<size_t>(t.pages[pos / t.page_size]) * t.page_stride +
                        static_cast<size_t>(pos % t.page_size) * D;
      for (int c = 0; c < NC * 64; c += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(pool + at + t.k_offset) + c, _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(pool + at + t.v_offset) + c, _MM_HINT_T1);
      }
    }
    // Kᵀ tiles: row q of tile (c, h) holds dims 32c + 2q, 2q + 1 of keys 16h .. 16h + 15.
    for (int c = 0; c < NC; ++c) {
      for (int h = 0; h < 2; ++h) {
        __m512i r[16];
        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(krow[h * 16 + i] + c * 32);
        simd::transpose16x16_epi32(r);
        uint16_t* dst = kt + (c * 2 + h) * kTileElems;
        for (int q = 0; q < 16; ++q)
          _mm512_store_si512(reinterpret_cast<__m512i*>(dst + q * 32), r[q]);
      }
    }
    // V tiles: row q of tile n holds keys 2q, 2q + 1 of dims 16n .. 16n + 15, interleaved.
    for (int n = 0; n < ND16; ++n) {
      uint16_t* dst = vt + n * kTileElems;
      for (int q = 0; q < 16; ++q) {
        const __m512i a = _mm512_castsi256_si512(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow[2 * q] + n * 16)));
        const __m512i b = _mm512_castsi256_si512(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(vrow[2 * q + 1] + n * 16)));
        _mm512_store_si512(reinterpret_cast<__m512i*>(dst + q * 32),
                           _mm512_permutex2var_epi16(a, pair_idx, b));
      }
    }
    // Rows before j0's position see none of the block (rows are in position order).
    const int first_row = j0 > t.first_pos ? (j0 - t.first_pos) * t.group : 0;
    for (int rb = first_row / 16; rb < RB; ++rb) {
      _tile_zero(0);
      _tile_zero(1);
      for (int c = 0; c < NC; ++c) {
        _tile_loadd(4, qt + (static_cast<size_t>(rb) * NC + c) * kTileElems, 64);
        _tile_loadd(6, kt + (c * 2) * kTileElems, 64);
        _tile_loadd(7, kt + (c * 2 + 1) * kTileElems, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
      }
      _tile_stored(0, s, kBlockKeys * sizeof(float));
      _tile_stored(1, s + 16, kBlockKeys * sizeof(float));

      bool rescale = false;
      for (int i = 0; i < 16; ++i) {
        const int r = rb * 16 + i;
        uint16_t* prow = pt + i * 32;
        const int valid = r < R ? std::min(nk, t.first_pos + r / t.group - j0 + 1) : 0;
        alpha[i] = 1.0f;
        if (valid <= 0) {
          _mm512_store_si512(reinterpret_cast<__m512i*>(prow), _mm512_setzero_si512());
          continue;
        }
        const __mmask16 live0 = _mm512_cmplt_epi32_mask(lane_index, _mm512_set1_epi32(valid));
        const __mmask16 live1 = _mm512_cmplt_epi32_mask(lane_index, _mm512_set1_epi32(valid - 16));
        const __m512 ninf = _mm512_set1_ps(-INFINITY);
        const __m512 s0 = _mm512_mask_mov_ps(ninf, live0, _mm512_load_ps(s + i * kBlockKeys));
        const __m512 s1 = _mm512_mask_mov_ps(ninf, live1, _mm512_load_ps(s + i * kBlockKeys + 16));
        const float block_max = _mm512_reduce_max_ps(_mm512_max_ps(s0, s1));
        const float old_max = row_max[r];
        const float new_max = block_max > old_max ? block_max : old_max;
        const __m512 m = _mm512_set1_ps(new_max);
        const __m512 p0 = _mm512_maskz_mov_ps(live0, simd::exp_ps(_mm512_sub_ps(s0, m)));
        const __m512 p1 = _mm512_maskz_mov_ps(live1, simd::exp_ps(_mm512_sub_ps(s1, m)));
        if (new_max != old_max) {
          // exp(-inf) = 0 for the first block: O and the sum are zero anyway.
          alpha[i] = _mm512_cvtss_f32(simd::exp_ps(_mm512_set1_ps(old_max - new_max)));
          rescale = true;
        }
        row_max[r] = new_max;
        row_sum[r] = row_sum[r] * alpha[i] + _mm512_reduce_add_ps(_mm512_add_ps(p0, p1));
        _mm512_store_si512(reinterpret_cast<__m512i*>(prow),
                           reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(p1, p0)));
      }
      float* ob = o + static_cast<size_t>(rb) * 16 * D;
      if (rescale) {
        for (int i = 0; i < 16; ++i) {
          if (alpha[i] == 1.0f) continue;
          const __m512 a = _mm512_set1_ps(alpha[i]);
          for (int v = 0; v < D; v += 16)
            _mm512_store_ps(ob + i * D + v, _mm512_mul_ps(a, _mm512_load_ps(ob + i * D + v)));
        }
      }
      _tile_loadd(4, pt, 64);
      for (int n = 0; n < ND16; n += 2) {
        _tile_loadd(0, ob + n * 16, D * sizeof(float));
        _tile_loadd(1, ob + (n + 1) * 16, D * sizeof(float));
        _tile_loadd(6, vt + n * kTileElems, 64);
        _tile_loadd(7, vt + (n + 1) * kTileElems, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_stored(0, ob + n * 16, D * sizeof(float));
        _tile_stored(1, ob + (n + 1) * 16, D * sizeof(float));
      }
    }
  }
  _tile_release();

  for (int r = 0; r < R; ++r) {
    float* dst = t.out + (r / t.group) * t.token_stride + (r % t.group) * D;
    const __m512 inv = _mm512_set1_ps(1.0f / row_sum[r]);
    for (int v = 0; v < D; v += 16)
      _mm512_storeu_ps(dst + v, _mm512_mul_ps(inv, _mm512_load_ps(o + r * D + v)));
  }
}

using TaskFn = void (*)(const AttentionTask&, void*);

template <int... I>
constexpr std::array<TaskFn, sizeof...(I)> make_table(std::integer_sequence<int, I...>) {
  return {&run<I + 1>...};
}

}  // namespace

size_t attention_amx_scratch_bytes(int32_t num_rows, int32_t head_dim) {
  return Layout((num_rows + 15) / 16, head_dim / 32).total;
}

void attention_task_amx(const AttentionTask& task, void* scratch) {
  static constexpr auto kTable = make_table(std::make_integer_sequence<int, 8>{});
  kTable[static_cast<size_t>(task.head_dim / 32 - 1)](task, scratch);
}

}  // namespace agentserve::cpu::detail
