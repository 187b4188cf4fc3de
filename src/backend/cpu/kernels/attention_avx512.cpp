// AVX-512 kernel of paged_attention for one work item (contract in attention.h, item in
// attention_internal.h).
//
// Keys go in chunks of up to 16 that never cross a page; bf16 chunks are widened once into
// f32 buffers shared by all rows of the item. Per row and chunk: 16 dot products over
// head_dim (one accumulator per key, then a transpose-add that leaves the 16 scores in the
// lanes of one vector), the online-softmax update in those lanes, and the probability-weighted
// sum of V rows into an accumulator kept in registers (head_dim / 16 vectors, a template
// parameter).
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <array>
#include <cmath>
#include <utility>

#include "backend/cpu/kernels/attention_internal.h"

namespace agentserve::cpu::detail {
namespace {

constexpr int kChunk = 16;

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
  const __m512i lane_index =
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int32_t j0 = 0; j0 <= last_pos;) {
    const int32_t page = t.pages[j0 / t.page_size];
    const int32_t slot = j0 % t.page_size;
    int count = t.page_size - slot;
    if (count > kChunk) count = kChunk;
    if (count > last_pos + 1 - j0) count = last_pos + 1 - j0;
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
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* dst = t.out + (r / t.group) * t.token_stride + (r % t.group) * D;
    const __m512 inv = _mm512_set1_ps(1.0f / row_sum[r]);
#pragma GCC unroll 16
    for (int c = 0; c < ND; ++c)
      _mm512_storeu_ps(dst + c * 16, _mm512_mul_ps(_mm512_loadu_ps(acc + r * D + c * 16), inv));
  }
}

using TaskFn = void (*)(const AttentionTask&, float*);

template <int... I>
constexpr std::array<TaskFn, sizeof...(I)> make_table(std::integer_sequence<int, I...>) {
  return {&run_task<I + 1>...};
}

}  // namespace

void attention_task_avx512(const AttentionTask& task, float* scratch) {
  static constexpr auto kTable = make_table(std::make_integer_sequence<int, 16>{});
  kTable[static_cast<size_t>(task.head_dim / 16 - 1)](task, scratch);
}

}  // namespace agentserve::cpu::detail
