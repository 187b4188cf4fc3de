// Private to sampler_exp*.cpp: the per-ISA passes and the scalar exponential they share. The
// ISA files see only raw pointers (no std:: templates or inline library functions, which the
// linker could otherwise pick up compiled with AVX-512 flags for baseline code); everything
// defined here has internal linkage for the same reason.
#pragma once

#include <cstdint>

namespace agentserve::sampling::detail {
namespace {

// exp_neg's constants, shared by every version. e^x = 2^n * e^r with n = round(x log2 e) and
// r = x - n ln2 in [-ln2/2, ln2/2]; e^r by a degree-7 polynomial (Taylor's leading terms, the
// rest fitted by Cephes' expf, minimax on that interval).
constexpr float kExpMin = -87.0f;  // below, e^x < 1.7e-38: 0 (and 2^n stays a normal number)
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kShifter = 0x1.8p23f;  // x log2e + 1.5*2^23 rounds x log2e to an integer
constexpr float kLn2Hi = 0x1.62e43p-1f;  // 21 significant bits: x - n*kLn2Hi is exact
constexpr float kLn2Lo = -1.904654323148236e-09f;  // ln2 - kLn2Hi
constexpr float kP7 = 1.9875691500e-4f;
constexpr float kP6 = 1.3981999507e-3f;
constexpr float kP5 = 8.3334519073e-3f;
constexpr float kP4 = 4.1665795894e-2f;
constexpr float kP3 = 1.6666665459e-1f;
constexpr float kP2 = 5.0000001201e-1f;

// The reference sequence: each SIMD version performs exactly these operations, lane by lane.
// __builtin_fmaf is one correctly rounded fused multiply-add whatever the target (an fma
// instruction where the file has FMA, glibc's exact fmaf otherwise).
static inline float exp_neg_scalar(float x) {
  x = x > 0.0f ? 0.0f : x;
  if (!(x >= kExpMin)) return 0.0f;  // also NaN and -inf
  const float z = __builtin_fmaf(x, kLog2e, kShifter);
  const float n = z - kShifter;  // exact: an integer in [-126, 0]
  float r = __builtin_fmaf(n, -kLn2Hi, x);
  r = __builtin_fmaf(n, -kLn2Lo, r);
  float p = kP7;
  p = __builtin_fmaf(p, r, kP6);
  p = __builtin_fmaf(p, r, kP5);
  p = __builtin_fmaf(p, r, kP4);
  p = __builtin_fmaf(p, r, kP3);
  p = __builtin_fmaf(p, r, kP2);
  p = __builtin_fmaf(p, r, 1.0f);
  p = __builtin_fmaf(p, r, 1.0f);
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, bits);  // exact: a power of two, result normal
}

static inline uint64_t fixed_weight_scalar(float w) {
  return static_cast<uint64_t>(w * 0x1p45f);
}

}  // namespace

float max_with_blocks_avx512(const float* x, int64_t n, float* block_max);
uint64_t exp_weights_avx512(const float* x, int64_t n, float shift, float scale, float* w,
                            uint64_t* block_sum);
int64_t collect_at_least_avx512(const float* x, int64_t n, float threshold, int32_t* out);

float max_with_blocks_avx2(const float* x, int64_t n, float* block_max);
uint64_t exp_weights_avx2(const float* x, int64_t n, float shift, float scale, float* w,
                          uint64_t* block_sum);
int64_t collect_at_least_avx2(const float* x, int64_t n, float threshold, int32_t* out);

}  // namespace agentserve::sampling::detail
