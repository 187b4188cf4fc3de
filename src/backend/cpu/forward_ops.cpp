#include "backend/cpu/forward_ops.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace agentserve::cpu {
namespace {

inline float load(const TensorView& w, int64_t i) {
  switch (w.dtype) {
    case DType::kBF16: return bf16_to_f32(w.as<uint16_t>()[i]);
    case DType::kF16: return f16_to_f32(w.as<uint16_t>()[i]);
    case DType::kF32: return w.as<float>()[i];
    default: AS_CHECK_MSG(false, "unsupported weight dtype"); return 0.0f;
  }
}

// Element offset of (page, layer, kv, head, slot) in the pool, in elements.
inline size_t kv_offset(const KvGeometry& g, int32_t page, int32_t layer, int kv, int64_t head,
                        int32_t slot) {
  return ((((static_cast<size_t>(page) * g.num_layers + layer) * 2 + kv) * g.num_kv_heads +
           static_cast<size_t>(head)) * g.page_size + slot) * g.head_dim;
}

inline int32_t page_of(const Batch& b, const BatchSequence& s, int32_t pos, int32_t page_size) {
  return b.page_table[static_cast<size_t>(s.page_row) * b.page_table_stride + pos / page_size];
}

}  // namespace

void rms_norm(ThreadPool& pool, const float* x, int64_t rows, int64_t n, const TensorView& w,
              float eps, float* out) {
  pool.parallel_for(rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * n;
      float* o = out + r * n;
      float sum = 0.0f;
      for (int64_t i = 0; i < n; ++i) sum += xr[i] * xr[i];
      const float inv = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
      for (int64_t i = 0; i < n; ++i) o[i] = load(w, i) * (xr[i] * inv);
    }
  });
}

void rope(ThreadPool& pool, float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, const float* inv_freq) {
  const int64_t half = head_dim / 2;
  pool.parallel_for(num_tokens, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
    for (int64_t t = begin; t < end; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const float angle = static_cast<float>(positions[t]) * inv_freq[i];
        c[static_cast<size_t>(i)] = std::cos(angle);
        s[static_cast<size_t>(i)] = std::sin(angle);
      }
      for (int64_t h = 0; h < num_heads; ++h) {
        float* v = x + (t * num_heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = v[i], x2 = v[i + half];
          v[i] = x1 * c[static_cast<size_t>(i)] - x2 * s[static_cast<size_t>(i)];
          v[i + half] = x2 * c[static_cast<size_t>(i)] + x1 * s[static_cast<size_t>(i)];
        }
      }
    }
  });
}

void add(ThreadPool& pool, float* x, const float* y, int64_t n) {
  pool.parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) x[i] += y[i];
  });
}

void add_bias(ThreadPool& pool, float* y, int64_t rows, int64_t n, const TensorView& bias) {
  std::vector<float> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) b[static_cast<size_t>(i)] = load(bias, i);
  pool.parallel_for(rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t i = 0; i < n; ++i) y[r * n + i] += b[static_cast<size_t>(i)];
  });
}

void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n) {
  pool.parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float g = gate[i];
      out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  });
}

void embed(ThreadPool& pool, const TensorView& table, const int32_t* ids, int64_t n, float* out) {
  const int64_t hidden = table.dim(1);
  pool.parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      for (int64_t i = 0; i < hidden; ++i) out[t * hidden + i] = load(table, ids[t] * hidden + i);
  });
}

void kv_store(const Batch& batch, int32_t layer, const float* k, const float* v, KvPoolView kv) {
  const KvGeometry& g = kv.geometry;
  for (int32_t t = 0; t < batch.num_tokens(); ++t) {
    const BatchSequence& s = batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
    const int32_t pos = batch.positions[static_cast<size_t>(t)];
    const int32_t page = page_of(batch, s, pos, g.page_size);
    for (int64_t h = 0; h < g.num_kv_heads; ++h) {
      for (int which = 0; which < 2; ++which) {
        const float* src = (which == 0 ? k : v) + (static_cast<int64_t>(t) * g.num_kv_heads + h) * g.head_dim;
        const size_t off = kv_offset(g, page, layer, which, h, pos % g.page_size);
        if (g.dtype == DType::kF32) {
          std::memcpy(reinterpret_cast<float*>(kv.base) + off, src, static_cast<size_t>(g.head_dim) * 4);
        } else {
          uint16_t* dst = reinterpret_cast<uint16_t*>(kv.base) + off;
          for (int32_t d = 0; d < g.head_dim; ++d) dst[d] = f32_to_bf16(src[d]);
        }
      }
    }
  }
}

void paged_attention(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                     int64_t num_heads, float scale, KvPoolView kv, float* out) {
  const KvGeometry& g = kv.geometry;
  const int64_t group = num_heads / g.num_kv_heads;
  const int64_t d = g.head_dim;
  auto key = [&](int32_t page, int which, int64_t h, int32_t slot, int64_t i) {
    const size_t off = kv_offset(g, page, layer, which, h, slot) + static_cast<size_t>(i);
    return g.dtype == DType::kF32 ? reinterpret_cast<const float*>(kv.base)[off]
                                  : bf16_to_f32(reinterpret_cast<const uint16_t*>(kv.base)[off]);
  };
  const int64_t items = static_cast<int64_t>(batch.num_tokens()) * num_heads;
  pool.parallel_for(items, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    std::vector<float> acc(static_cast<size_t>(d));
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item / num_heads, h = item % num_heads, kvh = h / group;
      const BatchSequence& s = batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
      const int32_t pos = batch.positions[static_cast<size_t>(t)];
      const float* qv = q + (t * num_heads + h) * d;
      scores.resize(static_cast<size_t>(pos) + 1);
      float max_score = -INFINITY;
      for (int32_t p = 0; p <= pos; ++p) {
        const int32_t page = page_of(batch, s, p, g.page_size);
        float dot = 0.0f;
        for (int64_t i = 0; i < d; ++i) dot += qv[i] * key(page, 0, kvh, p % g.page_size, i);
        scores[static_cast<size_t>(p)] = dot * scale;
        max_score = std::max(max_score, scores[static_cast<size_t>(p)]);
      }
      float denom = 0.0f;
      for (float& sc : scores) denom += (sc = std::exp(sc - max_score));
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int32_t p = 0; p <= pos; ++p) {
        const int32_t page = page_of(batch, s, p, g.page_size);
        const float w = scores[static_cast<size_t>(p)] / denom;
        for (int64_t i = 0; i < d; ++i) acc[static_cast<size_t>(i)] += w * key(page, 1, kvh, p % g.page_size, i);
      }
      std::memcpy(out + (t * num_heads + h) * d, acc.data(), static_cast<size_t>(d) * 4);
    }
  });
}

}  // namespace agentserve::cpu
