// rope (contract in rope.h). One path for every tier: the rotation loop is plain arithmetic
// the compiler vectorises, and cos/sin are computed once per (token, frequency) and shared by
// all heads, so libm's correctly rounded cosf/sinf (what HF's f32 cos matches) cost
// D/2 calls per token, not per head.
#include "backend/cpu/kernels/rope.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/kernels/scratch.h"
#include "base/check.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

void check_args(int64_t num_heads, int64_t head_dim) {
  AS_CHECK_GE(num_heads, 1);
  AS_CHECK_GE(head_dim, 2);
  AS_CHECK_EQ(head_dim % 2, 0);
}

void rotate_tokens(float* x, int64_t t0, int64_t t1, int64_t num_heads, int64_t head_dim,
                   const int32_t* positions, const float* inv_freq) {
  const int64_t half = head_dim / 2;
  auto* cs = static_cast<float*>(
      thread_scratch(kScratchAux, static_cast<size_t>(head_dim) * sizeof(float)));
  float* cos_t = cs;
  float* sin_t = cs + half;
  for (int64_t t = t0; t < t1; ++t) {
    const float pos = static_cast<float>(positions[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float angle = pos * inv_freq[i];
      cos_t[i] = std::cos(angle);
      sin_t[i] = std::sin(angle);
    }
    for (int64_t h = 0; h < num_heads; ++h) {
      float* x1 = x + (t * num_heads + h) * head_dim;
      float* x2 = x1 + half;
      for (int64_t i = 0; i < half; ++i) {
        const float a = x1[i], b = x2[i];
        x1[i] = a * cos_t[i] - b * sin_t[i];
        x2[i] = b * cos_t[i] + a * sin_t[i];
      }
    }
  }
}

}  // namespace

void rope(ThreadPool& pool, float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, const float* inv_freq) {
  check_args(num_heads, head_dim);
  if (num_tokens <= 0) return;
  // A token costs D/2 sincos plus H*D multiply-adds; fork only for a few of them at least.
  if (num_tokens < 4) {
    rotate_tokens(x, 0, num_tokens, num_heads, head_dim, positions, inv_freq);
    return;
  }
  pool.parallel_for(num_tokens, 1, [&](int64_t t0, int64_t t1) {
    rotate_tokens(x, t0, t1, num_heads, head_dim, positions, inv_freq);
  });
}

void rope_reference(ThreadPool&, float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
                    const int32_t* positions, const float* inv_freq) {
  check_args(num_heads, head_dim);
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < num_tokens; ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(positions[t]) * inv_freq[i];
      const double c = static_cast<float>(std::cos(static_cast<double>(angle)));
      const double s = static_cast<float>(std::sin(static_cast<double>(angle)));
      for (int64_t h = 0; h < num_heads; ++h) {
        float* v = x + (t * num_heads + h) * head_dim;
        const double a = v[i], b = v[i + half];
        v[i] = static_cast<float>(a * c - b * s);
        v[i + half] = static_cast<float>(b * c + a * s);
      }
    }
  }
}

}  // namespace agentserve::cpu
