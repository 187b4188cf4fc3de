// AVX-512 kernel of paged_attention for one work item (contract in attention.h, item in
// attention_internal.h).
//
// Keys go in chunks of up to 16 that never cross a page; bf16 chunks are widened once into
// f32 buffers shared by all rows of the item. At each page the K and V blocks of this head a
// few pages ahead are prefetched: one head's block of a page is a few KB, the next page's is
// elsewhere in the pool, and the hardware prefetchers would restart at every page.
//
// Per row and chunk: 16 dot products over head_dim (one accumulator per key, then a
// transpose-add that leaves the 16 scores in the lanes of one vector), the online-softmax
// update in those lanes, and the probability-weighted sum of V rows into an accumulator kept
// in registers (head_dim / 16 vectors, a template parameter).
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <array>
#include <cmath>
#include <utility>

#include "backend/cpu/kernels/attention_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int kChunk = 16;
constexpr int32_t kPagesAhead = 4;

// Lane j of the result = sum of the lanes of v[j].
inline __m512 sum_lanes_16(const __m512 v[16]) {
  __m512 x[8], y[4];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i)
    x[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                         _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(x[2 * i]), b = _mm512_castps_pd(x[2 * i + 1]);
    y[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  auto lanes = [](__m512 a, __m512 b, const int imm) {
    return _mm512_castsi512_ps(
        simd::shuffle_lanes(_mm512_castps_si512(a), _mm512_castps_si512(b), imm));
  };
  const __m512 w01 = _mm512_add_ps(lanes(y[0], y[1], 0x88), lanes(y[0], y[1], 0xdd));
  const __m512 w23 = _mm512_add_ps(lanes(y[2], y[3], 0x88), lanes(y[2], y[3], 0xdd));
  return _mm512_add_ps(lanes(w01, w23, 0x88), lanes(w01, w23, 0xdd));
}

// Pointer to the f32 rows of `count` keys starting at slot `slot` of `page`, widening bf16
// into `buf` ([kChunk][D]). Unrolled by rows: with two query heads per kv head (decode) the
// widening is a third of the work, and a loop of one vector per iteration doubled it.
template <int ND>
inline const float* chunk_rows(const AttentionTask& t, size_t offset, int32_t page, int32_t slot,
                               int count, float* buf) {
  constexpr int D = ND * 16;
  const size_t index =
      static_cast<size_t>(page) * t.page_stride + offset + static_cast<size_t>(slot) * D;
  if (!t.bf16) return reinterpret_cast<const float*>(t.pool) + index;
  const uint16_t* src = reinterpret_cast<const uint16_t*>(t.pool) + index;
  for (int j = 0; j < count; ++j) {
#pragma GCC unroll 16
    for (int c = 0; c < ND; ++c)
      _mm512_store_ps(buf + j * D + c * 16,
                      simd::bf16x16_to_f32(_mm256_loadu_si256(
                          reinterpret_cast<const __m256i*>(src + j * D + c * 16))));
  }
  return buf;
}

template <int ND>
void run_task(const AttentionTask& t, float* scratch) {
  constexpr int D = ND * 16;
  const int R = t.num_rows;
  float* qs = scratch;           // [R][D] scaled queries
  float* acc = qs + R * D;       // [R][D]
  float* row_max = acc + R * D;  // [R]
  float* row_sum = row_max + R;  // [R]
  float* kbuf =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(row_sum + R) + 63) & ~uintptr_t{63});
  float* vbuf = kbuf + kChunk * D;
  float* zero = vbuf + kChunk * D;  // [D]
  float* probs = zero + D;          // [kChunk]

  const __m512 scale = _mm512_set1_ps(t.scale);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const float* src = t.q + (r / t.group) * t.token_stride + (r % t.group) * D;
#pragma GCC unroll 16
    for (int c = 0; c < ND; ++c)
      _mm512_storeu_ps(qs + r * D + c * 16, _mm512_mul_ps(_mm512_loadu_ps(src + c * 16), scale));
#pragma GCC unroll 16
    for (int c = 0; c < ND; ++c) _mm512_storeu_ps(acc + r * D + c * 16, _mm512_setzero_ps());
    row_max[r] = -INFINITY;
    row_sum[r] = 0.0f;
  }
#pragma GCC unroll 16
  for (int c = 0; c < ND; ++c) _mm512_storeu_ps(zero + c * 16, _mm512_setzero_ps());

  const int32_t last_pos = t.first_pos + (R - 1) / t.group;
  const int32_t key_end = t.key_end < last_pos + 1 ? t.key_end : last_pos + 1;
  const __m512i lane_index =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const size_t elem_bytes = t.bf16 ? 2 : 4;
  const size_t block_bytes = static_cast<size_t>(t.page_size) * D * elem_bytes;
  auto prefetch_page = [&](int32_t page_index) {
    if (page_index * t.page_size >= key_end) return;
    const int32_t page = t.pages[page_index];
    const uint8_t* k = t.pool + (static_cast<size_t>(page) * t.page_stride + t.k_offset) * elem_bytes;
    const uint8_t* v = t.pool + (static_cast<size_t>(page) * t.page_stride + t.v_offset) * elem_bytes;
    for (size_t b = 0; b < block_bytes; b += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(k + b), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(v + b), _MM_HINT_T1);
    }
  };
  for (int32_t a = 1; a <= kPagesAhead; ++a) prefetch_page(t.key_begin / t.page_size + a);
  for (int32_t j0 = t.key_begin; j0 < key_end;) {
    const int32_t page = t.pages[j0 / t.page_size];
    const int32_t slot = j0 % t.page_size;
    if (slot == 0) prefetch_page(j0 / t.page_size + kPagesAhead);
    int count = t.page_size - slot;
    if (count > kChunk) count = kChunk;
    if (count > key_end - j0) count = key_end - j0;
    const float* kr = chunk_rows<ND>(t, t.k_offset, page, slot, count, kbuf);
    const float* vr = chunk_rows<ND>(t, t.v_offset, page, slot, count, vbuf);
    const float* krow[kChunk];
#pragma GCC unroll 16
    for (int j = 0; j < kChunk; ++j) krow[j] = j < count ? kr + j * D : zero;

// Rows of a prefill block whose position precedes the chunk see none of it; the others
// see a prefix of it (the lane mask).
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const int32_t pos = t.first_pos + r / t.group;
      if (pos < j0) continue;
      const float* qr = qs + r * D;
      __m512 dot[kChunk];
#pragma GCC unroll 16
      for (int j = 0; j < kChunk; ++j) dot[j] = _mm512_setzero_ps();
#pragma GCC unroll 16
      for (int c = 0; c < ND; ++c) {
        const __m512 qv = _mm512_loadu_ps(qr + c * 16);
#pragma GCC unroll 16
        for (int j = 0; j < kChunk; ++j)
          dot[j] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(krow[j] + c * 16), dot[j]);
      }
      int valid = pos - j0 + 1;
      if (valid > count) valid = count;
      const __mmask16 live = _mm512_cmplt_epi32_mask(lane_index, _mm512_set1_epi32(valid));
      const __m512 s = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), live, sum_lanes_16(dot));
      const float chunk_max = _mm512_reduce_max_ps(s);
      const float old_max = row_max[r];
      const float new_max = chunk_max > old_max ? chunk_max : old_max;
      const __m512 p =
          _mm512_maskz_mov_ps(live, simd::exp_ps(_mm512_sub_ps(s, _mm512_set1_ps(new_max))));
      // exp(-inf) for the first chunk: the old sum and accumulator are zero anyway.
      const float correction =
          old_max == -INFINITY ? 0.0f
                               : _mm512_cvtss_f32(simd::exp_ps(_mm512_set1_ps(old_max - new_max)));
      row_max[r] = new_max;
      row_sum[r] = row_sum[r] * correction + _mm512_reduce_add_ps(p);
      _mm512_store_ps(probs, p);
      __m512 a[ND];
      const __m512 corr = _mm512_set1_ps(correction);
#pragma GCC unroll 16
      for (int c = 0; c < ND; ++c)
        a[c] = _mm512_mul_ps(_mm512_loadu_ps(acc + r * D + c * 16), corr);
      for (int j = 0; j < valid; ++j) {
        const __m512 pj = _mm512_set1_ps(probs[j]);
#pragma GCC unroll 16
        for (int c = 0; c < ND; ++c)
          a[c] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(vr + j * D + c * 16), a[c]);
      }
#pragma GCC unroll 16
      for (int c = 0; c < ND; ++c) _mm512_storeu_ps(acc + r * D + c * 16, a[c]);
    }
    j0 += count;
  }
  if (t.partial != nullptr) {
    for (int r = 0; r < R; ++r) {
      float* dst = t.partial + static_cast<size_t>(r) * (D + 2);
      dst[0] = row_max[r];
      dst[1] = row_sum[r];
#pragma GCC unroll 16
      for (int c = 0; c < ND; ++c)
        _mm512_storeu_ps(dst + 2 + c * 16, _mm512_loadu_ps(acc + r * D + c * 16));
    }
    return;
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* dst = t.out + (r / t.group) * t.token_stride + (r % t.group) * D;
    const __m512 inv = _mm512_set1_ps(1.0f / row_sum[r]);
#pragma GCC unroll 16
    for (int c = 0; c < ND; ++c)
      _mm512_storeu_ps(dst + c * 16, _mm512_mul_ps(_mm512_loadu_ps(acc + r * D + c * 16), inv));
  }
}

// ---------------------------------------------------------------------------------------------
// bf16 K/V, head_dim % 32 == 0: rows go in pairs and K/V are never widened into a buffer.
// A 64-byte piece of a K or V row holds 32 dims as bf16 pairs; the even dims widen with a
// shift and the odd ones with a mask (as in the GEMV), so queries and accumulators are kept
// deinterleaved per 32 dims ([even 16][odd 16]) and re-interleaved at the end. Both rows of a
// pair share every load and widening: per key and row pair, D/32 loads and D/16 widening ops
// each for K and V, against 4 * D/16 FMAs. Dots go 8 keys x 2 rows at a time (16
// accumulators), reduced by one transpose-add.
//
// An item may cover several kv heads (task.num_kv_heads, decode): then the keys are walked
// page by page and, within a page, head by head, so the item streams each page's layer block
// (all heads, K then V) front to back, which the hardware prefetchers follow; one head's
// blocks alone are a few KB scattered over the pool (measured on the 2-core VM: a plain read
// of the per-head pattern reaches ~78% of the bandwidth probe, the page-major one ~85%).
// ---------------------------------------------------------------------------------------------

inline void prefetch_l2(const void* p, size_t bytes) {
  for (size_t b = 0; b < bytes; b += 64)
    _mm_prefetch(static_cast<const char*>(p) + b, _MM_HINT_T1);
}

inline __m512 bf16_even(__m512i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)); }
inline __m512 bf16_odd(__m512i v) {
  return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
}

// The running state of one kv head's rows, in scratch.
template <int NC>
struct PairState {
  static constexpr int D = NC * 32;
  int R = 0, RP = 0;  // rows, rows rounded up to pairs
  float* qs;          // [RP][NC][even 16, odd 16], scaled
  float* acc;         // [RP][NC][even 16, odd 16]
  float* row_max;     // [RP]
  float* row_sum;     // [RP]
  float* probs;       // [RP][16] the current chunk's probabilities, 64-byte aligned
  float* correction;  // [RP] the current chunk's factor for acc
  int* valid_max;     // [RP / 2] keys of the current chunk the pair sees

  static size_t floats(int rows) {
    return static_cast<size_t>((rows + 1) / 2 * 2) * (2 * D + 2 + 16 + 2) + 16;
  }

  // q0: the head's first row (row r at q0 + (r / group) * token_stride + (r % group) * D).
  void init(const AttentionTask& t, const float* q0, float* mem) {
    R = t.num_rows;
    RP = (R + 1) / 2 * 2;
    qs = mem;
    acc = qs + RP * D;
    row_max = acc + RP * D;
    row_sum = row_max + RP;
    probs = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(row_sum + RP) + 63) &
                                     ~uintptr_t{63});
    correction = probs + RP * 16;
    valid_max = reinterpret_cast<int*>(correction + RP);
    const __m512i even_idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_add_epi32(even_idx, _mm512_set1_epi32(1));
    const __m512 scale = _mm512_set1_ps(t.scale);
    for (int r = 0; r < RP; ++r) {
      const int src_row = r < R ? r : R - 1;  // an odd last row pairs with a copy of itself
      const float* src = q0 + (src_row / t.group) * t.token_stride + (src_row % t.group) * D;
#pragma GCC unroll 8
      for (int c = 0; c < NC; ++c) {
        const __m512 a = _mm512_loadu_ps(src + c * 32), b = _mm512_loadu_ps(src + c * 32 + 16);
        _mm512_storeu_ps(qs + r * D + c * 32,
                         _mm512_mul_ps(_mm512_permutex2var_ps(a, even_idx, b), scale));
        _mm512_storeu_ps(qs + r * D + c * 32 + 16,
                         _mm512_mul_ps(_mm512_permutex2var_ps(a, odd_idx, b), scale));
        _mm512_storeu_ps(acc + r * D + c * 32, _mm512_setzero_ps());
        _mm512_storeu_ps(acc + r * D + c * 32 + 16, _mm512_setzero_ps());
      }
      row_max[r] = -INFINITY;
      row_sum[r] = 0.0f;
    }
  }

  int32_t row_pos(const AttentionTask& t, int r) const {
    return t.first_pos + (r < R ? r : R - 1) / t.group;
  }

  // Keys j0 .. j0 + count - 1 (count <= 16), rows krow[j] (zero rows past count): scores,
  // online-softmax update of max and sum, the chunk's probabilities into probs and the
  // accumulators' correction factors into correction, for pv() to apply.
  void qk(const AttentionTask& t, int32_t j0, int count, const uint16_t* const* krow) {
    const __m512i lane_index =
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int r0 = 0; r0 < RP; r0 += 2) {
      const int32_t pos[2] = {row_pos(t, r0), row_pos(t, r0 + 1)};
      valid_max[r0 / 2] = 0;
      if (pos[1] < j0) continue;  // rows are in position order: neither sees this chunk
      const float* q0 = qs + r0 * D;
      const float* q1 = q0 + D;
      __m512 half[2];
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m512 dot[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) dot[i] = _mm512_setzero_ps();
#pragma GCC unroll 8
        for (int c = 0; c < NC; ++c) {
          const __m512 q0e = _mm512_loadu_ps(q0 + c * 32), q0o = _mm512_loadu_ps(q0 + c * 32 + 16);
          const __m512 q1e = _mm512_loadu_ps(q1 + c * 32), q1o = _mm512_loadu_ps(q1 + c * 32 + 16);
#pragma GCC unroll 8
          for (int i = 0; i < 8; ++i) {
            const __m512i kv = _mm512_loadu_si512(krow[h * 8 + i] + c * 32);
            const __m512 ke = bf16_even(kv), ko = bf16_odd(kv);
            dot[i] = _mm512_fmadd_ps(q0o, ko, _mm512_fmadd_ps(q0e, ke, dot[i]));
            dot[8 + i] = _mm512_fmadd_ps(q1o, ko, _mm512_fmadd_ps(q1e, ke, dot[8 + i]));
          }
        }
        half[h] = sum_lanes_16(dot);  // lanes 0-7: row r0, keys 8h..8h+7; 8-15: row r0 + 1
      }
      const __m512 scores[2] = {_mm512_shuffle_f32x4(half[0], half[1], 0x44),
                                _mm512_shuffle_f32x4(half[0], half[1], 0xee)};
#pragma GCC unroll 2
      for (int e = 0; e < 2; ++e) {
        const int r = r0 + e;
        int valid = pos[e] - j0 + 1;
        if (valid > count) valid = count;
        if (valid <= 0) {
          correction[r] = 1.0f;
          _mm512_store_ps(probs + r * 16, _mm512_setzero_ps());
          continue;
        }
        if (valid > valid_max[r0 / 2]) valid_max[r0 / 2] = valid;
        const __mmask16 live = _mm512_cmplt_epi32_mask(lane_index, _mm512_set1_epi32(valid));
        const __m512 sv = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), live, scores[e]);
        const float chunk_max = _mm512_reduce_max_ps(sv);
        const float old_max = row_max[r];
        const float new_max = chunk_max > old_max ? chunk_max : old_max;
        const __m512 p =
            _mm512_maskz_mov_ps(live, simd::exp_ps(_mm512_sub_ps(sv, _mm512_set1_ps(new_max))));
        correction[r] = old_max == -INFINITY
                            ? 0.0f
                            : _mm512_cvtss_f32(simd::exp_ps(_mm512_set1_ps(old_max - new_max)));
        row_max[r] = new_max;
        row_sum[r] = row_sum[r] * correction[r] + _mm512_reduce_add_ps(p);
        _mm512_store_ps(probs + r * 16, p);
      }
    }
  }

  // acc = acc * correction + Σ_j probs[j] V[j] for the chunk qk() saw (rows vrow[j]).
  void pv(const uint16_t* const* vrow) {
    constexpr bool kPairPv = NC <= 4;  // both rows' accumulators fit in registers
    for (int r0 = 0; r0 < RP; r0 += 2) {
      const int valid = valid_max[r0 / 2];
      if (valid == 0) continue;
      const float* pr = probs + r0 * 16;
      if constexpr (kPairPv) {
        __m512 a0[2 * NC], a1[2 * NC];
        const __m512 c0 = _mm512_set1_ps(correction[r0]), c1 = _mm512_set1_ps(correction[r0 + 1]);
#pragma GCC unroll 8
        for (int c = 0; c < 2 * NC; ++c) {
          a0[c] = _mm512_mul_ps(_mm512_loadu_ps(acc + r0 * D + c * 16), c0);
          a1[c] = _mm512_mul_ps(_mm512_loadu_ps(acc + (r0 + 1) * D + c * 16), c1);
        }
        for (int j = 0; j < valid; ++j) {
          const __m512 p0 = _mm512_set1_ps(pr[j]), p1 = _mm512_set1_ps(pr[16 + j]);
#pragma GCC unroll 8
          for (int c = 0; c < NC; ++c) {
            const __m512i vv = _mm512_loadu_si512(vrow[j] + c * 32);
            const __m512 ve = bf16_even(vv), vo = bf16_odd(vv);
            a0[2 * c] = _mm512_fmadd_ps(p0, ve, a0[2 * c]);
            a0[2 * c + 1] = _mm512_fmadd_ps(p0, vo, a0[2 * c + 1]);
            a1[2 * c] = _mm512_fmadd_ps(p1, ve, a1[2 * c]);
            a1[2 * c + 1] = _mm512_fmadd_ps(p1, vo, a1[2 * c + 1]);
          }
        }
#pragma GCC unroll 8
        for (int c = 0; c < 2 * NC; ++c) {
          _mm512_storeu_ps(acc + r0 * D + c * 16, a0[c]);
          _mm512_storeu_ps(acc + (r0 + 1) * D + c * 16, a1[c]);
        }
      } else {
#pragma GCC unroll 2
        for (int e = 0; e < 2; ++e) {
          __m512 a[2 * NC];
          const __m512 ce = _mm512_set1_ps(correction[r0 + e]);
          float* ar = acc + (r0 + e) * D;
#pragma GCC unroll 16
          for (int c = 0; c < 2 * NC; ++c) a[c] = _mm512_mul_ps(_mm512_loadu_ps(ar + c * 16), ce);
          for (int j = 0; j < valid; ++j) {
            const __m512 pj = _mm512_set1_ps(pr[e * 16 + j]);
#pragma GCC unroll 8
            for (int c = 0; c < NC; ++c) {
              const __m512i vv = _mm512_loadu_si512(vrow[j] + c * 32);
              a[2 * c] = _mm512_fmadd_ps(pj, bf16_even(vv), a[2 * c]);
              a[2 * c + 1] = _mm512_fmadd_ps(pj, bf16_odd(vv), a[2 * c + 1]);
            }
          }
#pragma GCC unroll 16
          for (int c = 0; c < 2 * NC; ++c) _mm512_storeu_ps(ar + c * 16, a[c]);
        }
      }
    }
  }

  // Re-interleaves (even, odd) into dims order: normalised rows to out0 (the head's first
  // row, laid out as q), or the partial state to partial0 (see AttentionTask::partial).
  void finish(const AttentionTask& t, float* out0, float* partial0) const {
    const __m512i lo_idx =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    for (int r = 0; r < R; ++r) {
      const float* ar = acc + r * D;
      float* dst;
      __m512 mul;
      if (partial0 != nullptr) {
        dst = partial0 + static_cast<size_t>(r) * (D + 2);
        dst[0] = row_max[r];
        dst[1] = row_sum[r];
        dst += 2;
        mul = _mm512_set1_ps(1.0f);
      } else {
        dst = out0 + (r / t.group) * t.token_stride + (r % t.group) * D;
        mul = _mm512_set1_ps(1.0f / row_sum[r]);
      }
#pragma GCC unroll 8
      for (int c = 0; c < NC; ++c) {
        const __m512 e = _mm512_loadu_ps(ar + c * 32), o = _mm512_loadu_ps(ar + c * 32 + 16);
        _mm512_storeu_ps(dst + c * 32, _mm512_mul_ps(_mm512_permutex2var_ps(e, lo_idx, o), mul));
        _mm512_storeu_ps(dst + c * 32 + 16,
                         _mm512_mul_ps(_mm512_permutex2var_ps(e, hi_idx, o), mul));
      }
    }
  }
};

template <int NC>
void run_task_bf16_pairs(const AttentionTask& t, float* scratch) {
  constexpr int D = NC * 32;
  const int H = t.num_kv_heads;
  const size_t state_floats = PairState<NC>::floats(t.num_rows);
  auto* zero = reinterpret_cast<uint16_t*>(
      (reinterpret_cast<uintptr_t>(scratch + H * state_floats) + 63) & ~uintptr_t{63});  // [D]
#pragma GCC unroll 8
  for (int c = 0; c < NC; ++c)
    _mm512_store_si512(reinterpret_cast<__m512i*>(zero + c * 32), _mm512_setzero_si512());
  PairState<NC> state[kMaxItemHeads];
  for (int h = 0; h < H; ++h)
    state[h].init(t, t.q + static_cast<size_t>(h) * t.group * D, scratch + h * state_floats);

  const int32_t last_pos = t.first_pos + (t.num_rows - 1) / t.group;
  const int32_t key_end = t.key_end < last_pos + 1 ? t.key_end : last_pos + 1;
  const size_t head_block = static_cast<size_t>(t.page_size) * D;
  const auto* pool = reinterpret_cast<const uint16_t*>(t.pool);
  {
    const uint16_t* first = pool + static_cast<size_t>(t.pages[t.key_begin / t.page_size]) *
                                       t.page_stride;
    for (int h = 0; h < H; ++h) prefetch_l2(first + t.k_offset + h * head_block, head_block * 2);
  }
  for (int32_t j0 = t.key_begin; j0 < key_end;) {
    const int32_t slot = j0 % t.page_size;
    int count = t.page_size - slot;
    if (count > kChunk) count = kChunk;
    if (count > key_end - j0) count = key_end - j0;
    const size_t base = static_cast<size_t>(t.pages[j0 / t.page_size]) * t.page_stride +
                        static_cast<size_t>(slot) * D;
    // Every head's K block, then every head's V block: the page's layer block in order.
    // Software prefetch runs half a layer block ahead, spread over the work: while head h's
    // K is read, its V block (read next); while its V is read, its K of the next page.
    const int32_t next_index = (j0 + count + t.page_size - 1) / t.page_size;
    const uint16_t* next_page =
        next_index * t.page_size < key_end
            ? pool + static_cast<size_t>(t.pages[next_index]) * t.page_stride
            : nullptr;
    const size_t chunk_bytes = static_cast<size_t>(count) * D * 2;
    for (int h = 0; h < H; ++h) {
      const uint16_t* krow[kChunk];
      const uint16_t* k = pool + base + t.k_offset + h * head_block;
      prefetch_l2(pool + base + t.v_offset + h * head_block, chunk_bytes);
#pragma GCC unroll 16
      for (int j = 0; j < kChunk; ++j) krow[j] = j < count ? k + j * D : zero;
      state[h].qk(t, j0, count, krow);
    }
    for (int h = 0; h < H; ++h) {
      const uint16_t* vrow[kChunk];
      const uint16_t* v = pool + base + t.v_offset + h * head_block;
      if (next_page != nullptr) prefetch_l2(next_page + t.k_offset + h * head_block, chunk_bytes);
#pragma GCC unroll 16
      for (int j = 0; j < kChunk; ++j) vrow[j] = j < count ? v + j * D : zero;
      state[h].pv(vrow);
    }
    j0 += count;
  }
  for (int h = 0; h < H; ++h)
    state[h].finish(t, t.out + static_cast<size_t>(h) * t.group * D,
                    t.partial != nullptr
                        ? t.partial + static_cast<size_t>(h) * t.num_rows * (D + 2)
                        : nullptr);
}

using TaskFn = void (*)(const AttentionTask&, float*);

template <int... I>
constexpr std::array<TaskFn, sizeof...(I)> make_table(std::integer_sequence<int, I...>) {
  return {&run_task<I + 1>...};
}

template <int... I>
constexpr std::array<TaskFn, sizeof...(I)> make_pairs_table(std::integer_sequence<int, I...>) {
  return {&run_task_bf16_pairs<I + 1>...};
}

}  // namespace

void attention_task_avx512(const AttentionTask& task, float* scratch) {
  if (task.bf16 && task.head_dim % 32 == 0) {
    static constexpr auto kPairs = make_pairs_table(std::make_integer_sequence<int, 8>{});
    kPairs[static_cast<size_t>(task.head_dim / 32 - 1)](task, scratch);
    return;
  }
  static constexpr auto kTable = make_table(std::make_integer_sequence<int, 16>{});
  kTable[static_cast<size_t>(task.head_dim / 16 - 1)](task, scratch);
}

}  // namespace agentserve::cpu::detail
