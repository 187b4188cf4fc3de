// Sampler passes: dispatch and the portable versions (contract in sampler_exp.h).
#include "engine/sampler_exp.h"

#include "base/cpu_features.h"
#include "engine/sampler_exp_internal.h"

namespace agentserve::sampling {
namespace {

constexpr float kNegInf = -__builtin_inff();

float max_portable(const float* x, int64_t n, float* block_max) {
  float m = kNegInf;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    float bm = kNegInf;
    for (int64_t i = b; i < end; ++i) bm = x[i] > bm ? x[i] : bm;
    if (block_max != nullptr) block_max[b / kBlock] = bm;
    m = bm > m ? bm : m;
  }
  return m;
}

uint64_t exp_weights_portable(const float* x, int64_t n, float shift, float scale, float* w,
                              uint64_t* block_sum) {
  uint64_t total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    uint64_t sum = 0;
    for (int64_t i = b; i < end; ++i) {
      const float e = detail::exp_neg_scalar((x[i] - shift) * scale);
      if (w != nullptr) w[i] = e;
      sum += detail::fixed_weight_scalar(e);
    }
    if (block_sum != nullptr) block_sum[b / kBlock] = sum;
    total += sum;
  }
  return total;
}

int64_t collect_portable(const float* x, int64_t n, float threshold, int32_t* out) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i)
    if (x[i] >= threshold && x[i] > kNegInf) out[count++] = static_cast<int32_t>(i);
  return count;
}

}  // namespace

float exp_neg(float x) { return detail::exp_neg_scalar(x); }

float max_with_blocks(const float* x, int64_t n, float* block_max) {
  const CpuTier tier = active_cpu_tier();
  if (tier >= CpuTier::kAvx512) return detail::max_with_blocks_avx512(x, n, block_max);
  if (tier >= CpuTier::kAvx2) return detail::max_with_blocks_avx2(x, n, block_max);
  return max_portable(x, n, block_max);
}

uint64_t exp_weights(const float* x, int64_t n, float shift, float scale, float* w,
                     uint64_t* block_sum) {
  const CpuTier tier = active_cpu_tier();
  if (tier >= CpuTier::kAvx512) return detail::exp_weights_avx512(x, n, shift, scale, w, block_sum);
  if (tier >= CpuTier::kAvx2) return detail::exp_weights_avx2(x, n, shift, scale, w, block_sum);
  return exp_weights_portable(x, n, shift, scale, w, block_sum);
}

int64_t collect_at_least(const float* x, int64_t n, float threshold, int32_t* out) {
  const CpuTier tier = active_cpu_tier();
  if (tier >= CpuTier::kAvx512) return detail::collect_at_least_avx512(x, n, threshold, out);
  if (tier >= CpuTier::kAvx2) return detail::collect_at_least_avx2(x, n, threshold, out);
  return collect_portable(x, n, threshold, out);
}

}  // namespace agentserve::sampling
