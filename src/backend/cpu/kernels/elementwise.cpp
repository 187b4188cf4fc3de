// Element-wise kernels: dispatch, portable paths (plain loops the compiler vectorises) and
// reference twins. Contracts in elementwise.h.
#include "backend/cpu/kernels/elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "backend/cpu/kernels/elementwise_internal.h"
#include "backend/cpu/kernels/scratch.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

// Below this many elements one thread finishes before a fork-join would.
constexpr int64_t kParallelGrain = 1 << 15;

template <class F>
void for_ranges(ThreadPool& pool, int64_t n, F&& fn) {
  if (n <= kParallelGrain) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  pool.parallel_for(n, kParallelGrain / 4, fn);
}

void widen(const TensorView& t, int64_t offset, int64_t count, float* out) {
  switch (t.dtype) {
    case DType::kBF16: {
      const uint16_t* src = t.as<uint16_t>() + offset;
      for (int64_t i = 0; i < count; ++i) {
        const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
        std::memcpy(out + i, &bits, 4);
      }
      break;
    }
    case DType::kF16: {
      const uint16_t* src = t.as<uint16_t>() + offset;
      for (int64_t i = 0; i < count; ++i) out[i] = f16_to_f32(src[i]);
      break;
    }
    case DType::kF32:
      std::memcpy(out, t.as<float>() + offset, static_cast<size_t>(count) * 4);
      break;
    default:
      AS_CHECK_MSG(false, std::string("unsupported dtype ") + dtype_name(t.dtype));
  }
}

float element(const TensorView& t, int64_t i) {
  switch (t.dtype) {
    case DType::kBF16:
      return bf16_to_f32(t.as<uint16_t>()[i]);
    case DType::kF16:
      return f16_to_f32(t.as<uint16_t>()[i]);
    case DType::kF32:
      return t.as<float>()[i];
    default:
      AS_CHECK_MSG(false, std::string("unsupported dtype ") + dtype_name(t.dtype));
  }
  return 0.0f;
}

void check_embed(const TensorView& table, const int32_t* ids, int64_t n) {
  AS_CHECK_EQ(table.rank, 2);
  const int64_t vocab = table.dim(0);
  for (int64_t t = 0; t < n; ++t) {
    AS_CHECK_MSG(
        ids[t] >= 0 && ids[t] < vocab,
        "token id " + std::to_string(ids[t]) + " outside vocabulary of " + std::to_string(vocab));
  }
}

void check_bias(const TensorView& bias, int64_t n) {
  AS_CHECK(bias.data != nullptr);
  AS_CHECK_EQ(bias.num_elements(), n);
}

}  // namespace

void add(ThreadPool& pool, float* x, const float* y, int64_t n) {
  for_ranges(pool, n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] += y[i];
  });
}

void add_reference(ThreadPool&, float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<double>(x[i]) + y[i]);
}

void add_bias(ThreadPool& pool, float* y, int64_t rows, int64_t n, const TensorView& bias) {
  check_bias(bias, n);
  const float* b = bias.as<float>();
  if (bias.dtype != DType::kF32) {
    // Widen once per call, on the caller's thread, before the rows fan out.
    auto* wide =
        static_cast<float*>(thread_scratch(kScratchAux, static_cast<size_t>(n) * sizeof(float)));
    widen(bias, 0, n, wide);
    b = wide;
  }
  const int64_t row_grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(n, 1));
  auto body = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = y + r * n;
      for (int64_t c = 0; c < n; ++c) row[c] += b[c];
    }
  };
  if (rows <= row_grain) {
    body(0, rows);
  } else {
    pool.parallel_for(rows, row_grain, body);
  }
}

void add_bias_reference(ThreadPool&, float* y, int64_t rows, int64_t n, const TensorView& bias) {
  check_bias(bias, n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < n; ++c)
      y[r * n + c] = static_cast<float>(static_cast<double>(y[r * n + c]) + element(bias, c));
}

void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n) {
  const bool avx512 = active_cpu_tier() >= CpuTier::kAvx512;
  for_ranges(pool, n, [&](int64_t b, int64_t e) {
    if (avx512) {
      detail::silu_mul_avx512(gate + b, up + b, out + b, e - b);
      return;
    }
    for (int64_t i = b; i < e; ++i) {
      const float g = gate[i];
      out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  });
}

void silu_mul_reference(ThreadPool&, const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void embed(ThreadPool& pool, const TensorView& table, const int32_t* ids, int64_t n, float* out) {
  check_embed(table, ids, n);
  const int64_t hidden = table.dim(1);
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(hidden, 1));
  auto body = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) widen(table, ids[t] * hidden, hidden, out + t * hidden);
  };
  if (n <= grain) {
    body(0, n);
  } else {
    pool.parallel_for(n, grain, body);
  }
}

void embed_reference(ThreadPool&, const TensorView& table, const int32_t* ids, int64_t n,
                     float* out) {
  check_embed(table, ids, n);
  const int64_t hidden = table.dim(1);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < hidden; ++c) out[t * hidden + c] = element(table, ids[t] * hidden + c);
}

void f32_to_bf16_array(const float* x, int64_t n, uint16_t* out) {
  if (active_cpu_tier() >= CpuTier::kAvx512) {
    detail::f32_to_bf16_avx512(x, n, out);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

void f32_to_bf16_array_reference(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

void round_to_bf16(ThreadPool& pool, float* x, int64_t n) {
  const bool avx512 = active_cpu_tier() >= CpuTier::kAvx512;
  for_ranges(pool, n, [&](int64_t b, int64_t e) {
    if (avx512) {
      detail::round_to_bf16_avx512(x + b, e - b);
      return;
    }
    for (int64_t i = b; i < e; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
  });
}

void round_to_bf16_reference(ThreadPool&, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

}  // namespace agentserve::cpu
