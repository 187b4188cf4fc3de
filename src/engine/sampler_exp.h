// The sampler's vector passes over a row of logits: max (with per-block maxima), weights
// exp((x - shift) * scale) with their fixed-point sums, and collection of tokens at or above
// a threshold. Each pass picks AVX-512, AVX2 or portable code from active_cpu_tier().
//
// Determinism across machines: a seeded request must draw the same token on every machine,
// so the weights must not depend on the code path. The exponential is our own (exp_neg
// below), written as one fixed sequence of fused multiply-adds; the scalar and SIMD versions
// run the same IEEE operations in the same order and so agree bit for bit (no std::exp, whose
// result differs between libm versions, and no -ffast-math). Sums for the draw are taken in
// fixed point (integers), so they are exact and independent of summation order and width.
#pragma once

#include <cstdint>

namespace agentserve::sampling {

// Tokens per block for block maxima and block sums (the draw finds its block first).
constexpr int64_t kBlock = 64;

// Fixed-point weight for the draw: floor(w * 2^45). Weights are at most 1 and a vocabulary
// has fewer than 2^18 tokens, so a row's sum fits in 64 bits; truncating at 2^-45 of the
// largest weight changes a token's probability by less than 3e-14.
constexpr int kFixedBits = 45;
inline uint64_t fixed_weight(float w) { return static_cast<uint64_t>(w * 0x1p45f); }
inline double fixed_to_double(uint64_t f) { return static_cast<double>(f) * 0x1p-45; }

// e^x for x <= 0 (x > 0 is taken as 0, NaN and x < -87 give 0). Relative error below 2e-7
// where the result is above 0; exp_neg(0) == 1 exactly. The scalar reference every tier matches.
float exp_neg(float x);

// max over x[0, n) (at least -inf); when block_max is given, block_max[b] = max of block b.
float max_with_blocks(const float* x, int64_t n, float* block_max);

// w[i] = exp_neg((x[i] - shift) * scale) (w may be null). Returns the sum of
// fixed_weight(w[i]); when block_sum is given, block_sum[b] is that sum over block b.
uint64_t exp_weights(const float* x, int64_t n, float shift, float scale, float* w,
                     uint64_t* block_sum);

// Writes, in increasing order, every i with x[i] >= threshold and x[i] > -inf; returns how
// many. `out` must have room for n + 16 entries (vector stores run past the count).
int64_t collect_at_least(const float* x, int64_t n, float threshold, int32_t* out);

}  // namespace agentserve::sampling
