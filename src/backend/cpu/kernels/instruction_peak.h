// Register- and tile-only loops that keep one arithmetic instruction at its maximum issue
// rate, no memory traffic: the ceilings that bench/gemm_peak.cpp measures the matmul kernels
// against ("% of peak" means % of what these loops reach on the same threads).
#pragma once

#include <cstdint>

namespace agentserve::cpu {

enum class PeakInstruction {
  kFmaYmm,              // AVX2 vfmadd231ps ymm: 16 flops
  kFmaZmm,              // AVX-512 vfmadd231ps zmm: 32 flops
  kDpbf16,              // AVX512_BF16 vdpbf16ps zmm: 64 flops (32 bf16 products + sums), a distinct
                        // operand register per accumulator as in a GEMM (the rate a GEMM can reach)
  kDpbf16SameOperands,  // the same with one operand pair (Sapphire Rapids: ~4x faster, and
                        // no GEMM can use it)
  kAmxBf16,             // AMX tdpbf16ps on 16x16 f32 += 16x32 bf16 · 32x16 bf16: 16384 flops
};

const char* peak_instruction_name(PeakInstruction instruction);
// Whether the CPU (and the active tier) can run it.
bool peak_instruction_available(PeakInstruction instruction);
// Runs the loop for `iterations` on the calling thread; returns the flops it performed.
double run_peak_loop(PeakInstruction instruction, int64_t iterations);

}  // namespace agentserve::cpu
