// rms_norm: dispatch, portable rows and reference twin (contract in rms_norm.h).
#include "backend/cpu/kernels/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "backend/cpu/kernels/rms_norm_internal.h"
#include "backend/cpu/kernels/scratch.h"
#include "base/check.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

constexpr int64_t kParallelElements = 1 << 15;

void check_args(int64_t n, const TensorView& w) {
  AS_CHECK_GE(n, 1);
  AS_CHECK(w.data != nullptr);
  AS_CHECK_EQ(w.num_elements(), n);
  AS_CHECK_MSG(w.dtype == DType::kBF16 || w.dtype == DType::kF16 || w.dtype == DType::kF32,
               std::string("rms_norm: unsupported weight dtype ") + dtype_name(w.dtype));
}

float weight_at(const TensorView& w, int64_t i) {
  switch (w.dtype) {
    case DType::kBF16:
      return bf16_to_f32(w.as<uint16_t>()[i]);
    case DType::kF16:
      return f16_to_f32(w.as<uint16_t>()[i]);
    default:
      return w.as<float>()[i];
  }
}

void rows_portable(const float* x, int64_t row_begin, int64_t row_end, int64_t n,
                   const TensorView& w, float eps, float* out) {
  auto* wf =
      static_cast<float*>(thread_scratch(kScratchAux, static_cast<size_t>(n) * sizeof(float)));
  for (int64_t i = 0; i < n; ++i) wf[i] = weight_at(w, i);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const float* xr = x + r * n;
    float acc[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) acc[j] += xr[i + j] * xr[i + j];
    for (; i < n; ++i) acc[0] += xr[i] * xr[i];
    const float sum =
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    const float scale = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
    float* o = out + r * n;
    for (i = 0; i < n; ++i) o[i] = (xr[i] * scale) * wf[i];
  }
}

}  // namespace

void rms_norm(ThreadPool& pool, const float* x, int64_t rows, int64_t n, const TensorView& w,
              float eps, float* out) {
  check_args(n, w);
  const bool avx512 = active_cpu_tier() >= CpuTier::kAvx512;
  auto body = [&](int64_t r0, int64_t r1) {
    if (avx512) {
      detail::rms_norm_rows_avx512(x, r0, r1, n, w.data, w.dtype, eps, out);
    } else {
      rows_portable(x, r0, r1, n, w, eps, out);
    }
  };
  if (rows * n <= kParallelElements) {
    if (rows > 0) body(0, rows);
    return;
  }
  pool.parallel_for(rows, std::max<int64_t>(1, kParallelElements / 4 / n), body);
}

void rms_norm_reference(ThreadPool&, const float* x, int64_t rows, int64_t n, const TensorView& w,
                        float eps, float* out) {
  check_args(n, w);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[r * n + i]) * x[r * n + i];
    const double scale = 1.0 / std::sqrt(sum / static_cast<double>(n) + static_cast<double>(eps));
    for (int64_t i = 0; i < n; ++i)
      out[r * n + i] = static_cast<float>(x[r * n + i] * scale * weight_at(w, i));
  }
}

}  // namespace agentserve::cpu
