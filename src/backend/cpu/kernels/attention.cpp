// Paged KV store and attention: driver (work items, threads, scratch), portable kernel and
// reference twin. Contracts in attention.h; the AVX-512 kernel is attention_avx512.cpp.
#include "backend/cpu/kernels/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
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
// few enough that a prefill chunk still splits into many items.
constexpr int32_t kRowsPerItem = 16;

void check_geometry(const KvPoolView& kv, int32_t layer) {
  const KvGeometry& g = kv.geometry;
  AS_CHECK(kv.base != nullptr);
  AS_CHECK(g.dtype == DType::kF32 || g.dtype == DType::kBF16);
  AS_CHECK_GE(g.page_size, 1);
  AS_CHECK_GE(g.head_dim, 1);
  AS_CHECK_GE(g.num_kv_heads, 1);
  AS_CHECK(layer >= 0 && layer < g.num_layers);
}

// Element index of (page, layer, kv, head, slot, d = 0).
size_t kv_index(const KvGeometry& g, int32_t page, int32_t layer, int kv, int32_t head,
                int32_t slot) {
  return ((((static_cast<size_t>(page) * g.num_layers + layer) * 2 + kv) * g.num_kv_heads + head) *
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
  auto load = [&](size_t index) {
    return t.bf16 ? bf16_to_f32(reinterpret_cast<const uint16_t*>(t.pool)[index])
                  : reinterpret_cast<const float*>(t.pool)[index];
  };
  for (int32_t j0 = 0; j0 <= last_pos; j0 += t.page_size) {
    const size_t page_base = static_cast<size_t>(t.pages[j0 / t.page_size]) * t.page_stride;
    for (int r = 0; r < R; ++r) {
      const int32_t pos = t.first_pos + r / t.group;
      if (pos < j0) continue;
      const int count = std::min(t.page_size, pos - j0 + 1);
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
  int32_t kv_head;
  int32_t last_pos;  // cost estimate: keys the item reads
};

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
  const int32_t tokens_per_item = std::max<int32_t>(1, kRowsPerItem / group);

  // Heaviest items (most keys) first, so the dynamic schedule ends evenly.
  // The caller's list: workers must not name the thread_local (they would see their own).
  static thread_local std::vector<WorkItem> items_storage;
  std::vector<WorkItem>& items = items_storage;
  items.clear();
  for (int32_t s = 0; s < batch.num_sequences(); ++s) {
    const BatchSequence& seq = batch.sequences[static_cast<size_t>(s)];
    for (int32_t t0 = 0; t0 < seq.num_tokens; t0 += tokens_per_item) {
      const int32_t nt = std::min(tokens_per_item, seq.num_tokens - t0);
      const int32_t first = seq.first_token + t0;
      const int32_t last_pos = batch.positions[static_cast<size_t>(first + nt - 1)];
      for (int32_t h = 0; h < g.num_kv_heads; ++h) items.push_back({s, first, nt, h, last_pos});
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return a.last_pos > b.last_pos; });

  const bool avx512 =
      active_cpu_tier() >= CpuTier::kAvx512 && g.head_dim % 16 == 0 && g.head_dim <= 256;
  const size_t page_stride = kv_index(g, 1, 0, 0, 0, 0);
  const int32_t max_rows = tokens_per_item * group;
  const size_t scratch_floats =
      detail::attention_scratch_floats(max_rows, g.head_dim) + static_cast<size_t>(g.page_size);
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
      task.group = group;
      task.head_dim = g.head_dim;
      task.first_pos = batch.positions[static_cast<size_t>(w.first_token)];
      task.scale = scale;
      task.pages =
          batch.page_table.data() + static_cast<size_t>(seq.page_row) * batch.page_table_stride;
      for (int32_t p = 0; p <= w.last_pos / g.page_size; ++p)
        AS_CHECK_MSG(task.pages[p] >= 0 && task.pages[p] < g.num_pages,
                     "sequence " + std::to_string(w.sequence) + " page " + std::to_string(p) +
                         " is " + std::to_string(task.pages[p]));
      task.page_size = g.page_size;
      task.pool = kv.base;
      task.bf16 = g.dtype == DType::kBF16;
      task.page_stride = page_stride;
      task.k_offset = kv_index(g, 0, layer, 0, w.kv_head, 0);
      task.v_offset = kv_index(g, 0, layer, 1, w.kv_head, 0);
      if (avx512) {
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
