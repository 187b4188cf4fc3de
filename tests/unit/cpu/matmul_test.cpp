// matmul against its reference twin on every CPU tier, random shapes and data each run.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <vector>

#include "backend/cpu/kernels/matmul.h"
#include "base/thread_pool.h"
#include "test_util.h"

namespace agentserve::cpu {
namespace {

using testing::Rng;

struct Weights {
  DType dtype;
  int64_t n, k;
  std::vector<uint16_t> half;  // bf16 or f16 bits
  std::vector<float> full;     // f32
  TensorView view() const {
    TensorView v;
    v.dtype = dtype;
    v.rank = 2;
    v.shape = {n, k, 0, 0};
    v.data = dtype == DType::kF32 ? static_cast<const void*>(full.data()) : half.data();
    v.num_bytes = static_cast<size_t>(n * k) * dtype_size(dtype);
    return v;
  }
  float at(int64_t i) const {
    if (dtype == DType::kF32) return full[static_cast<size_t>(i)];
    if (dtype == DType::kBF16) return bf16_to_f32(half[static_cast<size_t>(i)]);
    return f16_to_f32(half[static_cast<size_t>(i)]);
  }
};

Weights random_weights(Rng& rng, DType dtype, int64_t n, int64_t k, float stddev) {
  Weights w{dtype, n, k, {}, {}};
  const size_t count = static_cast<size_t>(n * k);
  if (dtype == DType::kF32) {
    w.full = rng.normals(count, stddev);
  } else {
    w.half.resize(count);
    for (auto& h : w.half) {
      const float f = rng.normal(stddev);
      h = dtype == DType::kBF16 ? f32_to_bf16(f) : f32_to_f16(f);
    }
  }
  return w;
}

// Error of one output relative to the scale of its own sum: |y - ref| / (sum |x_c w_c| + |b|),
// the quantity a floating-point dot product bounds.
struct ErrorStats {
  double max_scaled = 0.0;
  int64_t unwritten = 0;
};

ErrorStats compare(const std::vector<float>& x, const Weights& w, const std::vector<float>& bias,
                   int64_t m, const std::vector<float>& y, const std::vector<float>& ref) {
  ErrorStats s;
  const int64_t n = w.n, k = w.k;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const float v = y[static_cast<size_t>(i * n + j)];
      if (!std::isfinite(v)) {
        ++s.unwritten;
        continue;
      }
      double scale = bias.empty() ? 0.0 : std::fabs(bias[static_cast<size_t>(j)]);
      for (int64_t c = 0; c < k; ++c)
        scale +=
            std::fabs(static_cast<double>(x[static_cast<size_t>(i * k + c)]) * w.at(j * k + c));
      const double err = std::fabs(v - static_cast<double>(ref[static_cast<size_t>(i * n + j)]));
      s.max_scaled = std::max(s.max_scaled, scale > 0 ? err / scale : err);
    }
  }
  return s;
}

class MatmulTest : public testing::TierTest {};

// Bounds on |y - twin| / (sum |x w| + |b|). The twin rounds x as the mode says; f32
// accumulation over k <= 1100 stays far below 3e-5 on random data. GEMV computes in f32
// whatever the mode, so against a bf16-rounding twin it may differ by x's rounding: 2^-8.
constexpr double kAccumulationBound = 3e-5;
constexpr double kGemvInBf16ModeBound = 1.0 / 256;

TEST_P(MatmulTest, MatchesReferenceOnRandomShapes) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool_owner = testing::make_pool();
  ThreadPool& pool = *pool_owner;
  struct Shape {
    int64_t m, n, k;
  };
  std::vector<Shape> shapes = {{1, 1, 1},     {1, 37, 45},    {2, 67, 100},   {3, 129, 33},
                               {4, 16, 64},   {5, 31, 17},    {13, 45, 300},  {17, 65, 1000},
                               {37, 97, 531}, {64, 128, 256}, {33, 70, 1030}, {200, 20, 64},
                               {96, 3, 77},
                               // Decode rows long enough that each thread reads 8 separate streams
                               // (matmul_avx512.cpp), with a remainder and a masked k tail.
                               {1, 517, 1030}, {1, 1000, 64},  {1, 263, 45},   {1, 4096, 128},
                               {2, 700, 300},  {3, 517, 1030}, {4, 900, 64}};
  for (int i = 0; i < 4; ++i)
    shapes.push_back({rng.integer(1, 80), rng.integer(1, 150), rng.integer(1, 700)});
  double worst[3] = {};
  for (const Shape& s : shapes) {
    for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
      const Weights w = random_weights(rng, dtype, s.n, s.k, 0.05f);
      const std::vector<float> x = rng.normals(static_cast<size_t>(s.m * s.k));
      const bool with_bias = rng.integer(0, 1) == 1;
      const std::vector<float> bias =
          with_bias ? rng.normals(static_cast<size_t>(s.n)) : std::vector<float>{};
      for (MatmulPrecision prec :
           {MatmulPrecision::kF32, MatmulPrecision::kBf16, MatmulPrecision::kBf16Split}) {
        SCOPED_TRACE(::testing::Message()
                     << "m=" << s.m << " n=" << s.n << " k=" << s.k << " w=" << dtype_name(dtype)
                     << " mode=" << matmul_precision_name(prec) << (with_bias ? " bias" : ""));
        std::vector<float> y(static_cast<size_t>(s.m * s.n)), ref(y.size());
        testing::poison(y);
        const float* b = with_bias ? bias.data() : nullptr;
        matmul(pool, x.data(), s.m, s.k, w.view(), b, y.data(), prec);
        matmul_reference(pool, x.data(), s.m, s.k, w.view(), b, ref.data(), prec);
        const ErrorStats e = compare(x, w, bias, s.m, y, ref);
        EXPECT_EQ(e.unwritten, 0);
        const bool gemv_bf16 =
            prec == MatmulPrecision::kBf16 && s.m <= kGemvMaxRows && dtype == DType::kBF16;
        EXPECT_LE(e.max_scaled, gemv_bf16 ? kGemvInBf16ModeBound : kAccumulationBound);
        if (!gemv_bf16)
          worst[static_cast<int>(prec)] = std::max(worst[static_cast<int>(prec)], e.max_scaled);
      }
    }
  }
  std::printf(
      "[ tier %s ] max |y - twin| / sum|x w|: f32 %.2e, bf16 %.2e, bf16x2 %.2e (bound %.0e)\n",
      cpu_tier_name(GetParam()), worst[0], worst[1], worst[2], kAccumulationBound);
}

// Accuracy of each mode against the exact product of the unrounded inputs, on data shaped like
// a transformer's (activations ~ N(0, 1), bf16 weights ~ N(0, 0.02)).
TEST_P(MatmulTest, ModesReachTheirStatedAccuracy) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool_owner = testing::make_pool();
  ThreadPool& pool = *pool_owner;
  const int64_t m = 48, n = 96;
  for (int64_t k : {1024, 2048, 3072}) {
    const Weights w = random_weights(rng, DType::kBF16, n, k, 0.02f);
    const std::vector<float> x = rng.normals(static_cast<size_t>(m * k));
    std::vector<float> exact(static_cast<size_t>(m * n));
    matmul_reference(pool, x.data(), m, k, w.view(), nullptr, exact.data(), MatmulPrecision::kF32);
    // ||y - exact|| / ||exact||. f32: the AVX-512 GEMM accumulates up to 1024 products per
    // register before adding to y (~6e-7 measured); bf16: x's rounding (2^-9 per element);
    // bf16x2: lo's rounding (~2^-17 per element).
    const double bounds[3] = {1.5e-6, 5e-3, 2e-5};
    for (MatmulPrecision prec :
         {MatmulPrecision::kF32, MatmulPrecision::kBf16, MatmulPrecision::kBf16Split}) {
      std::vector<float> y(exact.size());
      testing::poison(y);
      matmul(pool, x.data(), m, k, w.view(), nullptr, y.data(), prec);
      double num = 0, den = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        num += (static_cast<double>(y[i]) - exact[i]) * (static_cast<double>(y[i]) - exact[i]);
        den += static_cast<double>(exact[i]) * exact[i];
      }
      const double rel = std::sqrt(num / den);
      std::printf("[ tier %s ] k=%lld mode %-6s relative error %.2e (bound %.1e)\n",
                  cpu_tier_name(GetParam()), static_cast<long long>(k), matmul_precision_name(prec),
                  rel, bounds[static_cast<int>(prec)]);
      EXPECT_LE(rel, bounds[static_cast<int>(prec)]) << matmul_precision_name(prec) << " k=" << k;
    }
  }
}

AS_INSTANTIATE_ALL_TIERS(MatmulTest);

}  // namespace
}  // namespace agentserve::cpu

namespace agentserve::cpu {
namespace {

// matmul_shared_input gives exactly (bit for bit) what separate matmul() calls give, for the
// fused GEMV path and the per-matrix fallback, on every tier.
class MatmulSharedInputTest : public testing::TierTest {};

TEST_P(MatmulSharedInputTest, EqualsSeparateCallsBitForBit) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool_owner = testing::make_pool();
  ThreadPool& pool = *pool_owner;
  for (int round = 0; round < 12; ++round) {
    const int64_t m = round < 8 ? rng.integer(1, kGemvMaxRows) : rng.integer(kGemvMaxRows + 1, 40);
    const int64_t k = rng.integer(1, 300);
    const int num = static_cast<int>(rng.integer(1, 4));
    const DType dtype = round % 3 == 0 ? DType::kF16 : DType::kBF16;
    std::vector<Weights> ws;
    std::vector<std::vector<float>> biases, fused, separate;
    for (int i = 0; i < num; ++i) {
      // Multiples of 16 take the fused path; the last round mixes in an odd row count.
      const int64_t n = round == 11 && i == 0 ? rng.integer(1, 40) : 16 * rng.integer(1, 12);
      ws.push_back(random_weights(rng, dtype, n, k, 0.02f));
      biases.push_back(i % 2 == 0 ? rng.normals(static_cast<size_t>(n)) : std::vector<float>{});
      fused.emplace_back(static_cast<size_t>(m * n), std::nanf(""));
      separate.emplace_back(static_cast<size_t>(m * n), std::nanf(""));
    }
    const std::vector<float> x = rng.normals(static_cast<size_t>(m * k));
    std::vector<TensorView> views;
    for (const Weights& w : ws) views.push_back(w.view());
    std::vector<MatmulTarget> targets;
    for (int i = 0; i < num; ++i) {
      const float* b = biases[static_cast<size_t>(i)].empty() ? nullptr : biases[static_cast<size_t>(i)].data();
      targets.push_back({&views[static_cast<size_t>(i)], b, fused[static_cast<size_t>(i)].data()});
      matmul(pool, x.data(), m, k, views[static_cast<size_t>(i)], b,
             separate[static_cast<size_t>(i)].data(), MatmulPrecision::kBf16);
    }
    matmul_shared_input(pool, x.data(), m, k, targets, MatmulPrecision::kBf16);
    for (int i = 0; i < num; ++i) {
      const auto& a = fused[static_cast<size_t>(i)];
      const auto& b = separate[static_cast<size_t>(i)];
      for (size_t j = 0; j < a.size(); ++j) {
        ASSERT_TRUE(std::isfinite(a[j])) << "unwritten output " << j << " of matrix " << i;
        ASSERT_EQ(std::bit_cast<uint32_t>(a[j]), std::bit_cast<uint32_t>(b[j]))
            << "m " << m << " k " << k << " matrix " << i << " element " << j;
      }
    }
  }
}

AS_INSTANTIATE_ALL_TIERS(MatmulSharedInputTest);

}  // namespace
}  // namespace agentserve::cpu
