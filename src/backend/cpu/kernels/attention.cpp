// Paged KV store and attention: driver (work items, threads, scratch), portable kernel and
// reference twin. Contracts in attention.h; the AVX-512 kernel is attention_avx512.cpp.
#include "backend/cpu/kernels/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/kernels/attention_internal.h"
#include "backend/cpu/kernels/elementwise.h"
#include "backend/cpu/kernels/scratch.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

using detail::AttentionTask;

// Rows (token x query head pairs) per work item: enough to share each widened K/V chunk,
// few enough that a prefill chunk still splits into many items. The AMX kernel builds tiles
// of each 32-key block for all rows of its item, so it takes more rows per item.
constexpr int32_t kRowsPerItem = 16;
constexpr int32_t kAmxRowsPerItem = 64;

void check_geometry(const KvPoolView& kv, int32_t layer) {
  const KvGeometry& g = kv.geometry;
  AS_CHECK(kv.base != nullptr);
  AS_CHECK(g.dtype == DType::kF32 || g.dtype == DType::kBF16);
  AS_CHECK_GE(g.page_size, 1);
  AS_CHECK_GE(g.head_dim, 1);
  AS_CHECK_GE(g.num_kv_heads, 1);
  AS_CHECK(layer >= 0 && layer < g.num_layers);
}

// Element index of (layer, page, kv, head, slot, d = 0).
size_t kv_index(const KvGeometry& g, int32_t page, int32_t layer, int kv, int32_t head,
                int32_t slot) {
  return ((((static_cast<size_t>(layer) * g.num_pages + page) * 2 + kv) * g.num_kv_heads + head) *
              g.page_size +
          slot) *
         g.head_dim;
}

int32_t page_of(const Batch& batch, const KvGeometry& g, int32_t row, int32_t pos) {
  const int32_t page =
      batch.page_table[static_cast<size_t>(row) * batch.page_table_stride + pos / g.page_size];
  AS_CHECK_MSG(page >= 0 && page < g.num_pages, "position " + std::to_string(pos) +
                                                    " of page row " + std::to_string(row) +
                                                    " maps to page " + std::to_string(page));
  return page;
}

float kv_at(const KvPoolView& kv, size_t index) {
  if (kv.geometry.dtype == DType::kF32) return reinterpret_cast<const float*>(kv.base)[index];
  return bf16_to_f32(reinterpret_cast<const uint16_t*>(kv.base)[index]);
}

// Portable kernel: the same chunked online softmax as the AVX-512 one, in scalar f32.
void attention_task_portable(const AttentionTask& t, float* scratch) {
  const int R = t.num_rows, D = t.head_dim;
  float* acc = scratch;          // [R][D]
  float* row_max = acc + R * D;  // [R]
  float* row_sum = row_max + R;  // [R]
  float* scores = row_sum + R;   // [page_size]
  std::fill(acc, acc + R * D, 0.0f);
  std::fill(row_max, row_max + R, -INFINITY);
  std::fill(row_sum, row_sum + R, 0.0f);
  const int32_t last_pos = t.first_pos + (R - 1) / t.group;
  const int32_t key_end = std::min(t.key_end, last_pos + 1);
  auto load = [&](size_t index) {
    return t.bf16 ? bf16_to_f32(reinterpret_cast<const uint16_t*>(t.pool)[index])
                  : reinterpret_cast<const float*>(t.pool)[index];
  };
  for (int32_t j0 = t.key_begin; j0 < key_end;) {
    const int32_t slot = j0 % t.page_size;
    const int32_t in_page = std::min(t.page_size - slot, key_end - j0);
    const size_t page_base = static_cast<size_t>(t.pages[j0 / t.page_size]) * t.page_stride +
                             static_cast<size_t>(slot) * D;
    for (int r = 0; r < R; ++r) {
      const int32_t pos = t.first_pos + r / t.group;
      if (pos < j0) continue;
      const int count = std::min(in_page, pos - j0 + 1);
      const float* qr = t.q + (r / t.group) * t.token_stride + (r % t.group) * D;
      float chunk_max = -INFINITY;
      for (int j = 0; j < count; ++j) {
        const size_t k = page_base + t.k_offset + static_cast<size_t>(j) * D;
        float dot = 0.0f;
        for (int d = 0; d < D; ++d) dot += qr[d] * load(k + d);
        scores[j] = dot * t.scale;
        chunk_max = std::max(chunk_max, scores[j]);
      }
      const float new_max = std::max(row_max[r], chunk_max);
      const float correction = row_max[r] == -INFINITY ? 0.0f : std::exp(row_max[r] - new_max);
      row_max[r] = new_max;
      float* a = acc + r * D;
      for (int d = 0; d < D; ++d) a[d] *= correction;
      float sum = 0.0f;
      for (int j = 0; j < count; ++j) {
        const float p = std::exp(scores[j] - new_max);
        sum += p;
        const size_t v = page_base + t.v_offset + static_cast<size_t>(j) * D;
        for (int d = 0; d < D; ++d) a[d] += p * load(v + d);
      }
      row_sum[r] = row_sum[r] * correction + sum;
    }
    j0 += in_page;
  }
  if (t.partial != nullptr) {
    for (int r = 0; r < R; ++r) {
      float* dst = t.partial + static_cast<size_t>(r) * (D + 2);
      dst[0] = row_max[r];
      dst[1] = row_sum[r];
      std::copy(acc + r * D, acc + (r + 1) * D, dst + 2);
    }
    return;
  }
  for (int r = 0; r < R; ++r) {
    float* dst = t.out + (r / t.group) * t.token_stride + (r % t.group) * D;
    const float inv = 1.0f / row_sum[r];
    for (int d = 0; d < D; ++d) dst[d] = acc[r * D + d] * inv;
  }
}

struct WorkItem {
  int32_t sequence;
  int32_t first_token;  // index into the batch
  int32_t num_tokens;
  int32_t kv_head;             // the first of num_heads consecutive kv heads
  int32_t num_heads;
  int32_t key_begin, key_end;  // keys [key_begin, key_end) of the rows' causal range
  int32_t partial_index;       // -1: normalised output; else its rows' partial states start at
                               // partials[partial_index * group * (head_dim + 2)]
  int32_t cost;                // keys x rows the item reads, for ordering
};

// A decode token's keys (a sequence with one token in the step) split into spans of whole
// pages, each its own work item, merged afterwards: one token alone would leave threads idle.
// The split depends on the context length only, so a sequence's result does not depend on
// the batch it runs in or on the number of threads.
constexpr int32_t kDecodeSpanKeys = 128;

struct SpanSplit {
  int32_t span_keys = 0;  // a multiple of page_size
  int32_t num_spans = 1;
};

SpanSplit decode_split(int32_t context_len, int32_t page_size) {
  int32_t spans = (context_len + kDecodeSpanKeys - 1) / kDecodeSpanKeys;
  if (context_len > 32) spans = std::max(spans, 2);
  const int32_t pages = (context_len + page_size - 1) / page_size;
  spans = std::max(1, std::min(spans, pages));
  SpanSplit s;
  s.span_keys = (pages + spans - 1) / spans * page_size;
  s.num_spans = (context_len + s.span_keys - 1) / s.span_keys;
  return s;
}

// out = Σ_c exp(max_c - M) acc_c / Σ_c exp(max_c - M) sum_c over the spans' partial states
// ([num_spans][head_dim + 2] with stride `span_stride` floats), M = max_c max_c.
void merge_partials(const float* partials, int32_t num_spans, size_t span_stride,
                    int32_t head_dim, float* out) {
  float m = -INFINITY;
  for (int32_t c = 0; c < num_spans; ++c) m = std::max(m, partials[c * span_stride]);
  float sum = 0.0f;
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t c = 0; c < num_spans; ++c) {
    const float* p = partials + c * span_stride;
    if (p[0] == -INFINITY) continue;
    const float w = std::exp(p[0] - m);
    sum += w * p[1];
    for (int32_t d = 0; d < head_dim; ++d) out[d] += w * p[2 + d];
  }
  const float inv = 1.0f / sum;
  for (int32_t d = 0; d < head_dim; ++d) out[d] *= inv;
}

}  // namespace

void kv_store(const Batch& batch, int32_t layer, const float* k, const float* v, KvPoolView kv) {
  check_geometry(kv, layer);
  const KvGeometry& g = kv.geometry;
  const int32_t num_tokens = batch.num_tokens();
  for (int32_t t = 0; t < num_tokens; ++t) {
    const BatchSequence& s =
        batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
    const int32_t pos = batch.positions[static_cast<size_t>(t)];
    const int32_t page = page_of(batch, g, s.page_row, pos);
    const int32_t slot = pos % g.page_size;
    for (int32_t h = 0; h < g.num_kv_heads; ++h) {
      const float* src[2] = {k + (static_cast<size_t>(t) * g.num_kv_heads + h) * g.head_dim,
                             v + (static_cast<size_t>(t) * g.num_kv_heads + h) * g.head_dim};
      for (int kvi = 0; kvi < 2; ++kvi) {
        const size_t index = kv_index(g, page, layer, kvi, h, slot);
        if (g.dtype == DType::kF32) {
          std::memcpy(reinterpret_cast<float*>(kv.base) + index, src[kvi],
                      static_cast<size_t>(g.head_dim) * sizeof(float));
        } else {
          f32_to_bf16_array(src[kvi], g.head_dim, reinterpret_cast<uint16_t*>(kv.base) + index);
        }
      }
    }
  }
}

void paged_attention(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                     int64_t num_heads, float scale, KvPoolView kv, float* out) {
  check_geometry(kv, layer);
  const KvGeometry& g = kv.geometry;
  AS_CHECK_GE(num_heads, g.num_kv_heads);
  AS_CHECK_EQ(num_heads % g.num_kv_heads, 0);
  const int32_t group = static_cast<int32_t>(num_heads / g.num_kv_heads);
  const size_t partial_floats = static_cast<size_t>(g.head_dim) + 2;
  const bool avx512 =
      active_cpu_tier() >= CpuTier::kAvx512 && g.head_dim % 16 == 0 && g.head_dim <= 256;
  // Decode items cover every kv head of a span (page-major streaming) where the kernel can.
  const bool all_heads = avx512 && g.dtype == DType::kBF16 && g.head_dim % 32 == 0 &&
                         g.num_kv_heads <= detail::kMaxItemHeads;
  const int32_t item_heads = all_heads ? g.num_kv_heads : 1;
  // Prefill items on AMX tiles where the kernel applies (attention_amx.cpp).
  const bool amx = active_cpu_tier() >= CpuTier::kAmx && g.dtype == DType::kBF16 &&
                   g.head_dim % 32 == 0 && g.head_dim <= 256;
  const int32_t prefill_tokens_per_item =
      std::max<int32_t>(1, (amx ? kAmxRowsPerItem : kRowsPerItem) / group);

  // The caller's lists: workers must not name the thread_locals (they would see their own).
  static thread_local std::vector<WorkItem> items_storage;
  static thread_local std::vector<float> partials_storage;
  std::vector<WorkItem>& items = items_storage;
  items.clear();
  int32_t num_partials = 0;  // partial blocks of `group` rows (one per kv head and span)
  for (int32_t s = 0; s < batch.num_sequences(); ++s) {
    const BatchSequence& seq = batch.sequences[static_cast<size_t>(s)];
    if (seq.num_tokens == 1) {
      const SpanSplit split = decode_split(seq.context_len, g.page_size);
      for (int32_t c = 0; c < split.num_spans; ++c) {
        const int32_t k0 = c * split.span_keys;
        const int32_t k1 = std::min(seq.context_len, k0 + split.span_keys);
        for (int32_t h = 0; h < g.num_kv_heads; h += item_heads) {
          // Partial blocks are numbered [sequence][span][kv head].
          const int32_t partial = split.num_spans > 1 ? num_partials + h : -1;
          items.push_back({s, seq.first_token, 1, h, item_heads, k0, k1, partial,
                           (k1 - k0) * item_heads});
        }
        if (split.num_spans > 1) num_partials += g.num_kv_heads;
      }
      continue;
    }
    for (int32_t t0 = 0; t0 < seq.num_tokens; t0 += prefill_tokens_per_item) {
      const int32_t nt = std::min(prefill_tokens_per_item, seq.num_tokens - t0);
      const int32_t first = seq.first_token + t0;
      const int32_t last_pos = batch.positions[static_cast<size_t>(first + nt - 1)];
      for (int32_t h = 0; h < g.num_kv_heads; ++h)
        items.push_back({s, first, nt, h, 1, 0, last_pos + 1, -1, (last_pos + 1) * nt});
    }
  }
  // Heaviest items first, so the dynamic schedule ends evenly.
  std::stable_sort(items.begin(), items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.cost > b.cost; });
  std::vector<float>& partials = partials_storage;
  partials.resize(static_cast<size_t>(num_partials) * group * partial_floats);

  const size_t page_stride = kv_index(g, 1, 0, 0, 0, 0);
  const int32_t max_rows = std::max(prefill_tokens_per_item * group, group);
  size_t scratch_floats =
      std::max(detail::attention_scratch_floats(max_rows, g.head_dim),
               detail::attention_scratch_floats(group, g.head_dim, item_heads)) +
      static_cast<size_t>(g.page_size);
  if (amx)
    scratch_floats = std::max(scratch_floats, detail::attention_amx_scratch_bytes(
                                                  prefill_tokens_per_item * group, g.head_dim) /
                                                      sizeof(float) + 1);
  std::atomic<size_t> next{0};
  auto worker = [&](int, int) {
    auto* scratch =
        static_cast<float*>(thread_scratch(kScratchAttention, scratch_floats * sizeof(float)));
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < items.size();
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      const WorkItem& w = items[i];
      const BatchSequence& seq = batch.sequences[static_cast<size_t>(w.sequence)];
      AttentionTask task;
      task.token_stride = num_heads * g.head_dim;
      task.q = q + static_cast<size_t>(w.first_token) * task.token_stride +
               static_cast<size_t>(w.kv_head) * group * g.head_dim;
      task.out = out + (task.q - q);
      task.num_rows = w.num_tokens * group;
      task.num_kv_heads = w.num_heads;
      task.group = group;
      task.head_dim = g.head_dim;
      task.first_pos = batch.positions[static_cast<size_t>(w.first_token)];
      task.scale = scale;
      task.key_begin = w.key_begin;
      task.key_end = w.key_end;
      task.pages =
          batch.page_table.data() + static_cast<size_t>(seq.page_row) * batch.page_table_stride;
      for (int32_t p = w.key_begin / g.page_size; p <= (w.key_end - 1) / g.page_size; ++p)
        AS_CHECK_MSG(task.pages[p] >= 0 && task.pages[p] < g.num_pages,
                     "sequence " + std::to_string(w.sequence) + " page " + std::to_string(p) +
                         " is " + std::to_string(task.pages[p]));
      task.page_size = g.page_size;
      task.pool = kv.base;
      task.bf16 = g.dtype == DType::kBF16;
      task.page_stride = page_stride;
      task.k_offset = kv_index(g, 0, layer, 0, w.kv_head, 0);
      task.v_offset = kv_index(g, 0, layer, 1, w.kv_head, 0);
      if (w.partial_index >= 0)
        task.partial =
            partials.data() + static_cast<size_t>(w.partial_index) * group * partial_floats;
      if (amx && w.num_tokens > 1 && task.partial == nullptr && task.num_kv_heads == 1) {
        detail::attention_task_amx(task, scratch);
      } else if (avx512) {
        detail::attention_task_avx512(task, scratch);
      } else {
        attention_task_portable(task, scratch);
      }
    }
  };
  if (items.size() == 1) {
    worker(0, 1);
  } else {
    pool.run(worker);
  }
  if (num_partials == 0) return;

  // Merge the spans of each split decode token.
  std::vector<std::pair<int32_t, int32_t>> splits;  // (sequence, its first partial block)
  int32_t block = 0;
  for (int32_t s = 0; s < batch.num_sequences(); ++s) {
    const BatchSequence& seq = batch.sequences[static_cast<size_t>(s)];
    if (seq.num_tokens != 1) continue;
    const SpanSplit split = decode_split(seq.context_len, g.page_size);
    if (split.num_spans == 1) continue;
    splits.emplace_back(s, block);
    block += split.num_spans * g.num_kv_heads;
  }
  const auto merge = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const auto [s, first_block] = splits[static_cast<size_t>(i)];
      const BatchSequence& seq = batch.sequences[static_cast<size_t>(s)];
      const int32_t spans = decode_split(seq.context_len, g.page_size).num_spans;
      for (int32_t h = 0; h < g.num_kv_heads; ++h)
        for (int32_t r = 0; r < group; ++r) {
          const float* p = partials.data() +
                           (static_cast<size_t>(first_block + h) * group + r) * partial_floats;
          float* dst = out + static_cast<size_t>(seq.first_token) * num_heads * g.head_dim +
                       (static_cast<size_t>(h) * group + r) * g.head_dim;
          merge_partials(p, spans, static_cast<size_t>(g.num_kv_heads) * group * partial_floats,
                         g.head_dim, dst);
        }
    }
  };
  if (splits.size() > 1 && partials.size() > (1u << 16)) {
    pool.parallel_for(static_cast<int64_t>(splits.size()), 1, merge);
  } else {
    merge(0, static_cast<int64_t>(splits.size()));
  }
}

void paged_attention_reference(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                               int64_t num_heads, float scale, KvPoolView kv, float* out) {
  check_geometry(kv, layer);
  const KvGeometry& g = kv.geometry;
  AS_CHECK_EQ(num_heads % g.num_kv_heads, 0);
  const int64_t group = num_heads / g.num_kv_heads;
  const int64_t D = g.head_dim;
  pool.parallel_for(batch.num_tokens(), 1, [&](int64_t t0, int64_t t1) {
    std::vector<double> scores, acc(static_cast<size_t>(D));
    for (int64_t t = t0; t < t1; ++t) {
      const BatchSequence& s =
          batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
      const int32_t pos = batch.positions[static_cast<size_t>(t)];
      scores.resize(static_cast<size_t>(pos) + 1);
      for (int64_t h = 0; h < num_heads; ++h) {
        const int32_t kvh = static_cast<int32_t>(h / group);
        const float* qr = q + (t * num_heads + h) * D;
        double max_score = -INFINITY;
        for (int32_t j = 0; j <= pos; ++j) {
          const size_t k =
              kv_index(g, page_of(batch, g, s.page_row, j), layer, 0, kvh, j % g.page_size);
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += static_cast<double>(qr[d]) * kv_at(kv, k + static_cast<size_t>(d));
          scores[static_cast<size_t>(j)] = dot * scale;
          max_score = std::max(max_score, scores[static_cast<size_t>(j)]);
        }
        double sum = 0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int32_t j = 0; j <= pos; ++j) {
          const double p = std::exp(scores[static_cast<size_t>(j)] - max_score);
          sum += p;
          const size_t v =
              kv_index(g, page_of(batch, g, s.page_row, j), layer, 1, kvh, j % g.page_size);
          for (int64_t d = 0; d < D; ++d)
            acc[static_cast<size_t>(d)] += p * kv_at(kv, v + static_cast<size_t>(d));
        }
        for (int64_t d = 0; d < D; ++d)
          out[(t * num_heads + h) * D + d] = static_cast<float>(acc[static_cast<size_t>(d)] / sum);
      }
    }
  });
}

}  // namespace agentserve::cpu
