// Private to the element-wise family: per-ISA entry points over index ranges (no std:: types,
// no thread pool: see matmul_internal.h for why).
#pragma once

#include <cstdint>

namespace agentserve::cpu::detail {

void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n);
void f32_to_bf16_avx512(const float* x, int64_t n, uint16_t* out);
void round_to_bf16_avx512(float* x, int64_t n);

}  // namespace agentserve::cpu::detail
