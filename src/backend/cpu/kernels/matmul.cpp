// Dispatcher, portable path and reference twin of the matmul family (contract in matmul.h).
// The portable path is for machines without AVX2 and for checking the fast paths; it is not
// tuned.
#include "backend/cpu/kernels/matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels/matmul_internal.h"
#include "backend/cpu/kernels/scratch.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

using detail::MatmulProblem;
using detail::PackedActivations;

int64_t round_up(int64_t a, int64_t b) {
  return (a + b - 1) / b * b;
}

void check_args(const float* x, int64_t m, int64_t k, const TensorView& w, float* y) {
  AS_CHECK(x != nullptr && y != nullptr && w.data != nullptr);
  AS_CHECK_EQ(w.rank, 2);
  AS_CHECK_EQ(w.dim(1), k);
  AS_CHECK_GE(m, 1);
  AS_CHECK_GE(k, 1);
  AS_CHECK_GE(w.dim(0), 1);
  AS_CHECK_MSG(w.dtype == DType::kBF16 || w.dtype == DType::kF16 || w.dtype == DType::kF32,
               std::string("matmul: unsupported weight dtype ") + dtype_name(w.dtype));
}

float weight_at(const void* w, DType dtype, int64_t index) {
  switch (dtype) {
    case DType::kBF16:
      return bf16_to_f32(static_cast<const uint16_t*>(w)[index]);
    case DType::kF16:
      return f16_to_f32(static_cast<const uint16_t*>(w)[index]);
    default:
      return static_cast<const float*>(w)[index];
  }
}

// The value of x as it enters the products in `precision` (see MatmulPrecision).
inline float activation_as(float v, MatmulPrecision precision) {
  if (precision == MatmulPrecision::kF32) return v;
  const float hi = bf16_to_f32(f32_to_bf16(v));
  if (precision == MatmulPrecision::kBf16) return hi;
  return hi + bf16_to_f32(f32_to_bf16(v - hi));  // exact: the sum fits in 24 bits
}

// Eight independent partial sums: the loop vectorises without reassociation flags.
float dot_portable(const float* a, const float* b, int64_t k) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= k; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  for (; i < k; ++i) acc[0] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

void matmul_portable(ThreadPool& pool, const MatmulProblem& p) {
  pool.parallel_for(p.n, 8, [&](int64_t n_begin, int64_t n_end) {
    auto* row = static_cast<float*>(thread_scratch(kScratchMatmulThread, p.k * sizeof(float)));
    for (int64_t j = n_begin; j < n_end; ++j) {
      for (int64_t c = 0; c < p.k; ++c) row[c] = weight_at(p.w, p.w_dtype, j * p.k + c);
      const float b = p.bias != nullptr ? p.bias[j] : 0.0f;
      for (int64_t i = 0; i < p.m; ++i)
        p.y[i * p.n + j] = dot_portable(p.x + i * p.k, row, p.k) + b;
    }
  });
}

// Splits the [m, n] output over threads: columns first (each thread then packs only its own
// weight panels), rows when there are too few columns to go round.
struct Grid {
  int n_parts = 1, m_parts = 1;
};

Grid choose_grid(int num_threads, int64_t m, int64_t n, int64_t panel, int64_t row_unit) {
  Grid g;
  const int64_t panels = (n + panel - 1) / panel;
  const int64_t row_units = (m + row_unit - 1) / row_unit;
  g.n_parts = static_cast<int>(std::min<int64_t>(panels, num_threads));
  g.m_parts = static_cast<int>(std::min<int64_t>(num_threads / g.n_parts, row_units));
  return g;
}

// Runs block(m_begin, m_end, n_begin, n_end) for each thread's share of the output.
template <class Block>
void run_grid(ThreadPool& pool, int64_t m, int64_t n, int64_t panel, int64_t row_unit,
              Block&& block) {
  const Grid g = choose_grid(pool.num_threads(), m, n, panel, row_unit);
  const int64_t panels = (n + panel - 1) / panel;
  const int64_t row_units = (m + row_unit - 1) / row_unit;
  auto body = [&](int t, int) {
    if (t >= g.n_parts * g.m_parts) return;
    const int tn = t % g.n_parts, tm = t / g.n_parts;
    const int64_t n_begin = std::min(n, panels * tn / g.n_parts * panel);
    const int64_t n_end = std::min(n, panels * (tn + 1) / g.n_parts * panel);
    const int64_t m_begin = std::min(m, row_units * tm / g.m_parts * row_unit);
    const int64_t m_end = std::min(m, row_units * (tm + 1) / g.m_parts * row_unit);
    if (n_begin < n_end && m_begin < m_end) block(m_begin, m_end, n_begin, n_end);
  };
  if (g.n_parts * g.m_parts == 1) {
    body(0, 1);
  } else {
    pool.run(body);
  }
}

// One job over the concatenated rows of several problems that share x (see
// matmul_shared_input). Every problem's row count must be a multiple of 16, so that share
// boundaries fall on 16-row blocks inside each matrix.
void run_gemv_group(ThreadPool& pool, std::span<const MatmulProblem> problems, CpuTier tier) {
  auto* kernel = tier >= CpuTier::kAvx512 ? detail::gemv_avx512 : detail::gemv_avx2;
  int64_t total = 0;
  for (const MatmulProblem& p : problems) total += p.n;
  const int parts = static_cast<int>(std::min<int64_t>(pool.num_threads(), total / 16));
  const int64_t share = ((total + parts - 1) / parts + 15) / 16 * 16;
  auto body = [&](int t, int) {
    const int64_t begin = std::min(total, t * share), end = std::min(total, (t + 1) * share);
    int64_t offset = 0;  // first concatenated row of the current problem
    for (const MatmulProblem& p : problems) {
      const int64_t lo = std::max(begin, offset) - offset;
      const int64_t hi = std::min(end, offset + p.n) - offset;
      if (lo < hi) {
        void* scratch = thread_scratch(kScratchMatmulThread, detail::gemv_scratch_bytes(p.m, p.k));
        kernel(p, lo, hi, scratch);
      }
      offset += p.n;
    }
  };
  if (parts <= 1) {
    body(0, 1);
  } else {
    pool.run(body);
  }
}

void run_gemv(ThreadPool& pool, const MatmulProblem& p, CpuTier tier) {
  if (tier < CpuTier::kAvx2) {
    matmul_portable(pool, p);
    return;
  }
  auto* kernel = tier >= CpuTier::kAvx512 ? detail::gemv_avx512 : detail::gemv_avx2;
  // One contiguous share of W per thread (a whole number of 16 rows): each streams one long
  // region, which the prefetchers follow best (finer chunks measured a few % slower).
  const int parts = static_cast<int>(std::min<int64_t>(pool.num_threads(), (p.n + 15) / 16));
  const int64_t share = ((p.n + parts - 1) / parts + 15) / 16 * 16;
  auto body = [&](int t, int) {
    const int64_t n_begin = std::min(p.n, t * share), n_end = std::min(p.n, (t + 1) * share);
    if (n_begin >= n_end) return;
    void* scratch = thread_scratch(kScratchMatmulThread, detail::gemv_scratch_bytes(p.m, p.k));
    kernel(p, n_begin, n_end, scratch);
  };
  if (parts <= 1) {
    body(0, 1);
  } else {
    pool.run(body);
  }
}

void run_gemm_f32(ThreadPool& pool, const MatmulProblem& p, CpuTier tier) {
  if (tier < CpuTier::kAvx2) {
    matmul_portable(pool, p);
    return;
  }
  const bool avx512 = tier >= CpuTier::kAvx512;
  const size_t scratch_bytes =
      avx512 ? detail::gemm_f32_avx512_scratch_bytes() : detail::gemm_f32_avx2_scratch_bytes();
  auto* kernel = avx512 ? detail::gemm_f32_avx512 : detail::gemm_f32_avx2;
  run_grid(pool, p.m, p.n, 64, 16, [&](int64_t mb, int64_t me, int64_t nb, int64_t ne) {
    kernel(p, mb, me, nb, ne, thread_scratch(kScratchMatmulThread, scratch_bytes));
  });
}

void run_gemm_bf16(ThreadPool& pool, const MatmulProblem& p, MatmulPrecision precision,
                   CpuTier tier) {
  const bool split = precision == MatmulPrecision::kBf16Split;
  const bool amx = tier >= CpuTier::kAmx;
  PackedActivations xa;
  xa.k_padded = round_up(p.k, amx ? 32 : 2);
  const int64_t rows = amx ? round_up(p.m, 16) : p.m;
  const size_t elems = static_cast<size_t>(rows * xa.k_padded);
  auto* buf = static_cast<uint16_t*>(
      thread_scratch(kScratchMatmulShared, elems * sizeof(uint16_t) * (split ? 2 : 1)));
  xa.hi = buf;
  xa.lo = split ? buf + elems : nullptr;
  uint16_t* hi = buf;
  uint16_t* lo = split ? buf + elems : nullptr;
  if (amx) {
    pool.parallel_for(rows / 16, 1, [&](int64_t b, int64_t e) {
      detail::pack_x_tiles_avx512(p.x, p.m, p.k, xa.k_padded, b, e, hi, lo);
    });
    run_grid(pool, p.m, p.n, 32, 32, [&](int64_t mb, int64_t me, int64_t nb, int64_t ne) {
      detail::gemm_bf16_amx(
          p, xa, mb, me, nb, ne,
          thread_scratch(kScratchMatmulThread, detail::gemm_bf16_amx_scratch_bytes(xa.k_padded)));
    });
  } else {
    pool.parallel_for(p.m, 1, [&](int64_t b, int64_t e) {
      detail::pack_x_rows_avx512(p.x, p.k, xa.k_padded, b, e, hi, lo);
    });
    run_grid(pool, p.m, p.n, 32, 16, [&](int64_t mb, int64_t me, int64_t nb, int64_t ne) {
      detail::gemm_bf16_avx512bf16(
          p, xa, mb, me, nb, ne,
          thread_scratch(kScratchMatmulThread, detail::gemm_bf16_avx512bf16_scratch_bytes()));
    });
  }
}

}  // namespace

const char* matmul_precision_name(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::kF32:
      return "f32";
    case MatmulPrecision::kBf16:
      return "bf16";
    case MatmulPrecision::kBf16Split:
      return "bf16x2";
  }
  return "?";
}

void matmul_shared_input(ThreadPool& pool, const float* x, int64_t m, int64_t k,
                         std::span<const MatmulTarget> targets, MatmulPrecision precision) {
  const CpuTier tier = active_cpu_tier();
  bool fusable = m <= kGemvMaxRows && tier >= CpuTier::kAvx2 && targets.size() > 1;
  for (const MatmulTarget& t : targets) fusable = fusable && t.w->dim(0) % 16 == 0;
  if (!fusable) {
    for (const MatmulTarget& t : targets) matmul(pool, x, m, k, *t.w, t.bias, t.y, precision);
    return;
  }
  std::vector<MatmulProblem> problems;
  problems.reserve(targets.size());
  for (const MatmulTarget& t : targets) {
    check_args(x, m, k, *t.w, t.y);
    MatmulProblem p;
    p.x = x;
    p.m = m;
    p.k = k;
    p.n = t.w->dim(0);
    p.w = t.w->data;
    p.w_dtype = t.w->dtype;
    p.bias = t.bias;
    p.y = t.y;
    problems.push_back(p);
  }
  run_gemv_group(pool, problems, tier);
}

void matmul(ThreadPool& pool, const float* x, int64_t m, int64_t k, const TensorView& w,
            const float* bias, float* y, MatmulPrecision precision) {
  check_args(x, m, k, w, y);
  MatmulProblem p;
  p.x = x;
  p.m = m;
  p.k = k;
  p.n = w.dim(0);
  p.w = w.data;
  p.w_dtype = w.dtype;
  p.bias = bias;
  p.y = y;
  const CpuTier tier = active_cpu_tier();
  if (m <= kGemvMaxRows) {
    run_gemv(pool, p, tier);
    return;
  }
  // f16/f32 weights are not exact in bf16: they always take the f32 path.
  const bool bf16_products = precision != MatmulPrecision::kF32 && w.dtype == DType::kBF16;
  if (bf16_products && tier >= CpuTier::kAvx512Bf16) {
    run_gemm_bf16(pool, p, precision, tier);
    return;
  }
  if (bf16_products) {
    // No bf16 instructions: round x as the mode says and multiply in f32, which gives the
    // same products (bf16 x bf16 is exact in f32) in another summation order.
    auto* xr = static_cast<float*>(thread_scratch(kScratchMatmulShared, m * k * sizeof(float)));
    pool.parallel_for(m * k, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) xr[i] = activation_as(x[i], precision);
    });
    p.x = xr;
  }
  run_gemm_f32(pool, p, tier);
}

void matmul_reference(ThreadPool& pool, const float* x, int64_t m, int64_t k, const TensorView& w,
                      const float* bias, float* y, MatmulPrecision precision) {
  check_args(x, m, k, w, y);
  const int64_t n = w.dim(0);
  const bool round_x = w.dtype == DType::kBF16;  // f16/f32 weights always use f32 math
  pool.parallel_for(n, 1, [&](int64_t n_begin, int64_t n_end) {
    for (int64_t j = n_begin; j < n_end; ++j) {
      for (int64_t i = 0; i < m; ++i) {
        double acc = bias != nullptr ? bias[j] : 0.0;
        for (int64_t c = 0; c < k; ++c) {
          const float xv = round_x ? activation_as(x[i * k + c], precision) : x[i * k + c];
          acc +=
              static_cast<double>(xv) * static_cast<double>(weight_at(w.data, w.dtype, j * k + c));
        }
        y[i * n + j] = static_cast<float>(acc);
      }
    }
  });
}

}  // namespace agentserve::cpu
