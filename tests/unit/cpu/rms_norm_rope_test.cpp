// rms_norm and rope against their reference twins on every CPU tier.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "backend/cpu/kernels/rms_norm.h"
#include "backend/cpu/kernels/rope.h"
#include "test_util.h"

namespace agentserve::cpu {
namespace {

using testing::Rng;

class RmsNormTest : public testing::TierTest {};
class RopeTest : public testing::TierTest {};

// Bound: |out - ref| <= 2e-6 |ref| + 1e-6 * rms-scaled weight: f32 sum of squares (relative
// error ~ sqrt(n) 2^-24), rsqrt and two products.
TEST_P(RmsNormTest, MatchesReference) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  double worst = 0;
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{16}, int64_t{64}, int64_t{128}, int64_t{1000},
                      int64_t{1024}, int64_t{4099}, rng.integer(1, 3000)}) {
      const int64_t rows = rng.integer(1, 40) * (rng.integer(0, 3) == 0 ? 40 : 1);
      std::vector<uint16_t> half(static_cast<size_t>(n));
      std::vector<float> full;
      if (dtype == DType::kF32) {
        full = rng.normals(static_cast<size_t>(n));
      } else {
        for (auto& h : half) {
          const float f = 1.0f + rng.normal(0.3f);
          h = dtype == DType::kBF16 ? f32_to_bf16(f) : f32_to_f16(f);
        }
      }
      TensorView w;
      w.dtype = dtype;
      w.rank = 1;
      w.shape = {n, 0, 0, 0};
      w.data = dtype == DType::kF32 ? static_cast<const void*>(full.data()) : half.data();
      const float stddev = rng.uniform(0.01f, 30.0f);
      const std::vector<float> x = rng.normals(static_cast<size_t>(rows * n), stddev);
      std::vector<float> out(x.size()), ref(x.size());
      testing::poison(out);
      const float eps = 1e-6f;
      rms_norm(*pool, x.data(), rows, n, w, eps, out.data());
      rms_norm_reference(*pool, x.data(), rows, n, w, eps, ref.data());
      for (size_t i = 0; i < out.size(); ++i) {
        ASSERT_TRUE(std::isfinite(out[i])) << "unwritten or non-finite at " << i;
        const double err = std::fabs(static_cast<double>(out[i]) - ref[i]);
        ASSERT_LE(err, 2e-6 * std::fabs(ref[i]) + 1e-30)
            << dtype_name(dtype) << " rows=" << rows << " n=" << n << " i=" << i;
        if (ref[i] != 0) worst = std::max(worst, err / std::fabs(ref[i]));
      }
      std::vector<float> inplace = x;
      rms_norm(*pool, inplace.data(), rows, n, w, eps, inplace.data());
      ASSERT_EQ(inplace, out) << "in place differs";
    }
  }
  std::printf("[ tier %s ] rms_norm max relative error %.2e (bound 2e-6)\n",
              cpu_tier_name(GetParam()), worst);
}

// Bound: |out - ref| <= 5e-7 (|x1| + |x2|): cos/sin within an ulp of the rounded value, two
// products and a sum in f32.
TEST_P(RopeTest, MatchesReference) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  double worst = 0;
  for (int64_t head_dim : {2, 6, 64, 128, 80}) {
    for (int64_t tokens : {int64_t{1}, int64_t{3}, rng.integer(4, 70)}) {
      const int64_t heads = rng.integer(1, 9);
      std::vector<float> inv_freq(static_cast<size_t>(head_dim / 2));
      const float base = rng.integer(0, 1) ? 10000.0f : 1000000.0f;
      for (int64_t i = 0; i < head_dim / 2; ++i)
        inv_freq[static_cast<size_t>(i)] =
            1.0f / std::pow(base, static_cast<float>(2 * i) / head_dim);
      std::vector<int32_t> positions(static_cast<size_t>(tokens));
      const int32_t start =
          static_cast<int32_t>(rng.integer(0, 1) ? rng.integer(0, 100) : rng.integer(0, 130000));
      for (int64_t t = 0; t < tokens; ++t)
        positions[static_cast<size_t>(t)] = start + static_cast<int32_t>(t);
      const std::vector<float> x = rng.normals(static_cast<size_t>(tokens * heads * head_dim));
      std::vector<float> out = x, ref = x;
      rope(*pool, out.data(), tokens, heads, head_dim, positions.data(), inv_freq.data());
      rope_reference(*pool, ref.data(), tokens, heads, head_dim, positions.data(), inv_freq.data());
      const int64_t half = head_dim / 2;
      for (int64_t row = 0; row < tokens * heads; ++row) {
        for (int64_t i = 0; i < half; ++i) {
          const size_t a = static_cast<size_t>(row * head_dim + i),
                       b = a + static_cast<size_t>(half);
          const double scale = std::fabs(x[a]) + std::fabs(x[b]);
          for (size_t e : {a, b}) {
            const double err = std::fabs(static_cast<double>(out[e]) - ref[e]);
            ASSERT_LE(err, 5e-7 * scale)
                << "D=" << head_dim << " pos=" << positions[static_cast<size_t>(row / heads)]
                << " i=" << i;
            worst = std::max(worst, err / scale);
          }
        }
      }
    }
  }
  std::printf("[ tier %s ] rope max error / (|x1|+|x2|) %.2e (bound 5e-7)\n",
              cpu_tier_name(GetParam()), worst);
}

AS_INSTANTIATE_ALL_TIERS(RmsNormTest);
AS_INSTANTIATE_ALL_TIERS(RopeTest);

}  // namespace
}  // namespace agentserve::cpu
