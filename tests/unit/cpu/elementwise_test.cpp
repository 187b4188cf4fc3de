// Element-wise kernels against their reference twins on every CPU tier.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "backend/cpu/kernels/elementwise.h"
#include "test_util.h"

namespace agentserve::cpu {
namespace {

using testing::Rng;

class ElementwiseTest : public testing::TierTest {};

std::vector<int64_t> sizes(Rng& rng) {
  return {1, 15, 16, 17, 1000, 4099, 70001, rng.integer(1, 200000)};
}

TensorView view_of(DType dtype, const std::vector<uint16_t>& half, const std::vector<float>& full,
                   std::initializer_list<int64_t> shape) {
  TensorView v;
  v.dtype = dtype;
  v.rank = static_cast<int>(shape.size());
  int i = 0;
  for (int64_t d : shape) v.shape[static_cast<size_t>(i++)] = d;
  v.data = dtype == DType::kF32 ? static_cast<const void*>(full.data()) : half.data();
  v.num_bytes = static_cast<size_t>(v.num_elements()) * dtype_size(dtype);
  return v;
}

void fill_random(Rng& rng, DType dtype, size_t count, std::vector<uint16_t>* half,
                 std::vector<float>* full) {
  full->clear();
  half->clear();
  if (dtype == DType::kF32) {
    *full = rng.normals(count);
    return;
  }
  half->resize(count);
  for (auto& h : *half)
    h = dtype == DType::kBF16 ? f32_to_bf16(rng.normal()) : f32_to_f16(rng.normal());
}

TEST_P(ElementwiseTest, AddMatchesReference) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  for (int64_t n : sizes(rng)) {
    const std::vector<float> y = rng.normals(static_cast<size_t>(n));
    std::vector<float> x = rng.normals(static_cast<size_t>(n)), ref = x;
    add(*pool, x.data(), y.data(), n);
    add_reference(*pool, ref.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(x[static_cast<size_t>(i)], ref[static_cast<size_t>(i)]) << "n=" << n << " i=" << i;
  }
}

TEST_P(ElementwiseTest, AddBiasMatchesReference) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    for (int64_t rows : {int64_t{1}, int64_t{3}, rng.integer(1, 300)}) {
      const int64_t n = rng.integer(1, 3000);
      std::vector<uint16_t> half;
      std::vector<float> full;
      fill_random(rng, dtype, static_cast<size_t>(n), &half, &full);
      const TensorView bias = view_of(dtype, half, full, {n});
      std::vector<float> y = rng.normals(static_cast<size_t>(rows * n)), ref = y;
      add_bias(*pool, y.data(), rows, n, bias);
      add_bias_reference(*pool, ref.data(), rows, n, bias);
      ASSERT_EQ(y, ref) << dtype_name(dtype) << " rows=" << rows << " n=" << n;
    }
  }
}

// Bound: |out - ref| <= 1e-6 |ref| + 1e-35: the fast exp is within ~2 ulp, the division and
// product add one rounding each; for gate < -88.7 exp(-gate) overflows f32 and the result
// (|out| < 1e-36) becomes 0, as it does in PyTorch's f32 silu.
TEST_P(ElementwiseTest, SiluMulMatchesReference) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  double worst = 0;
  for (int64_t n : sizes(rng)) {
    std::vector<float> gate(static_cast<size_t>(n)), up = rng.normals(static_cast<size_t>(n));
    for (auto& g : gate)
      g = rng.integer(0, 9) == 0 ? rng.uniform(-120.0f, 120.0f) : rng.normal(3.0f);
    gate[0] = 0.0f;
    std::vector<float> out(gate.size()), ref(gate.size());
    testing::poison(out);
    silu_mul(*pool, gate.data(), up.data(), out.data(), n);
    silu_mul_reference(*pool, gate.data(), up.data(), ref.data(), n);
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_TRUE(std::isfinite(out[i])) << "n=" << n << " i=" << i << " gate=" << gate[i];
      const double err = std::fabs(static_cast<double>(out[i]) - ref[i]);
      ASSERT_LE(err, 1e-6 * std::fabs(ref[i]) + 1e-35) << "gate=" << gate[i] << " up=" << up[i];
      if (std::fabs(ref[i]) > 1e-30) worst = std::max(worst, err / std::fabs(ref[i]));
    }
    // In place over gate.
    std::vector<float> inplace = gate;
    silu_mul(*pool, inplace.data(), up.data(), inplace.data(), n);
    ASSERT_EQ(inplace, out);
  }
  std::printf("[ tier %s ] silu_mul max relative error %.2e (bound 1e-6)\n",
              cpu_tier_name(GetParam()), worst);
}

TEST_P(ElementwiseTest, EmbedCopiesRowsExactly) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    const int64_t vocab = rng.integer(1, 500), hidden = rng.integer(1, 700);
    std::vector<uint16_t> half;
    std::vector<float> full;
    fill_random(rng, dtype, static_cast<size_t>(vocab * hidden), &half, &full);
    const TensorView table = view_of(dtype, half, full, {vocab, hidden});
    for (int64_t n : {int64_t{1}, int64_t{7}, rng.integer(1, 400)}) {
      std::vector<int32_t> ids(static_cast<size_t>(n));
      for (auto& id : ids) id = static_cast<int32_t>(rng.integer(0, vocab - 1));
      std::vector<float> out(static_cast<size_t>(n * hidden)), ref(out.size());
      testing::poison(out);
      embed(*pool, table, ids.data(), n, out.data());
      embed_reference(*pool, table, ids.data(), n, ref.data());
      ASSERT_EQ(0, std::memcmp(out.data(), ref.data(), out.size() * sizeof(float)))
          << dtype_name(dtype) << " vocab=" << vocab << " hidden=" << hidden << " n=" << n;
    }
  }
}

// Random bit patterns: normals, denormals, infinities and NaNs all round as f32_to_bf16.
TEST_P(ElementwiseTest, Bf16RoundingIsBitExact) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto pool = testing::make_pool();
  for (int64_t n : sizes(rng)) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) {
      const uint32_t bits = static_cast<uint32_t>(rng.integer(0, 0xffffffffLL));
      v = std::bit_cast<float>(rng.integer(0, 3) == 0 ? (bits & 0x807fffffu) : bits);
    }
    std::vector<uint16_t> out(x.size(), 0xdead), ref(x.size());
    f32_to_bf16_array(x.data(), n, out.data());
    f32_to_bf16_array_reference(x.data(), n, ref.data());
    ASSERT_EQ(out, ref) << "n=" << n;
    std::vector<float> r = x, rr = x;
    round_to_bf16(*pool, r.data(), n);
    round_to_bf16_reference(*pool, rr.data(), n);
    ASSERT_EQ(0, std::memcmp(r.data(), rr.data(), r.size() * sizeof(float))) << "n=" << n;
  }
}

AS_INSTANTIATE_ALL_TIERS(ElementwiseTest);

}  // namespace
}  // namespace agentserve::cpu
