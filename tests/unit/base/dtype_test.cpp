#include <gtest/gtest.h>

#include <cmath>
#include <bit>
#include <cstring>
#include <limits>
#include <random>

#include "tensor/dtype.h"

namespace agentserve {
namespace {

TEST(DType, Bf16RoundTripIsExactForBf16Values) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_bf16(f), h) << std::hex << h;
  }
}

TEST(DType, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 lies exactly between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), f32_to_bf16(1.0f));
  // Just above the midpoint rounds up.
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)),
            f32_to_bf16(1.0f + std::ldexp(1.0f, -7)));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DType, F16MatchesHardwareConversionOnAllHalves) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    const _Float16 hw = std::bit_cast<_Float16>(static_cast<uint16_t>(h));
    const float expected = static_cast<float>(hw);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    EXPECT_EQ(std::bit_cast<uint32_t>(f), std::bit_cast<uint32_t>(expected)) << std::hex << h;
  }
}

TEST(DType, F16NarrowingMatchesCompilerRounding) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2'000'000; ++i) {
    uint32_t b = bits(rng);
    // Concentrate on the half range (exponents 100..150) where rounding matters most.
    b = (b & 0x807fffffu) | ((100u + (b >> 23) % 51u) << 23);
    const float f = std::bit_cast<float>(b);
    const uint16_t expected = std::bit_cast<uint16_t>(static_cast<_Float16>(f));
    ASSERT_EQ(f32_to_f16(f), expected) << f;
  }
}

}  // namespace
}  // namespace agentserve
