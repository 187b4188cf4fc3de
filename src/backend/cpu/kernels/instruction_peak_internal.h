// Private to instruction_peak: one loop per ISA file. Each returns a value derived from its
// accumulators so the loop cannot be removed.
#pragma once

#include <cstdint>

namespace agentserve::cpu::detail {

constexpr int kPeakChains = 16;     // independent accumulators: > latency x issue width
constexpr int kPeakChainsYmm = 12;  // AVX2 has 16 ymm registers

float peak_fma_ymm(int64_t iterations);                         // kPeakChainsYmm FMAs per iteration
float peak_fma_zmm(int64_t iterations);                         // kPeakChains FMAs per iteration
float peak_dpbf16(int64_t iterations, bool distinct_operands);  // kPeakChains per iteration
float peak_amx_bf16(int64_t iterations);                        // 4 tdpbf16ps per iteration

}  // namespace agentserve::cpu::detail
