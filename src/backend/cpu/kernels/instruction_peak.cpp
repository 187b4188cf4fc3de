#include "backend/cpu/kernels/instruction_peak.h"

#include "backend/cpu/kernels/instruction_peak_internal.h"
#include "base/check.h"
#include "base/cpu_features.h"

namespace agentserve::cpu {

const char* peak_instruction_name(PeakInstruction instruction) {
  switch (instruction) {
    case PeakInstruction::kFmaYmm:
      return "vfmadd231ps ymm (AVX2)";
    case PeakInstruction::kFmaZmm:
      return "vfmadd231ps zmm (AVX-512)";
    case PeakInstruction::kDpbf16:
      return "vdpbf16ps zmm (AVX512_BF16)";
    case PeakInstruction::kDpbf16SameOperands:
      return "vdpbf16ps zmm, one operand pair";
    case PeakInstruction::kAmxBf16:
      return "tdpbf16ps (AMX-BF16)";
  }
  return "?";
}

bool peak_instruction_available(PeakInstruction instruction) {
  const CpuTier tier = active_cpu_tier();
  switch (instruction) {
    case PeakInstruction::kFmaYmm:
      return tier >= CpuTier::kAvx2;
    case PeakInstruction::kFmaZmm:
      return tier >= CpuTier::kAvx512;
    case PeakInstruction::kDpbf16:
    case PeakInstruction::kDpbf16SameOperands:
      return tier >= CpuTier::kAvx512Bf16;
    case PeakInstruction::kAmxBf16:
      return tier >= CpuTier::kAmx;
  }
  return false;
}

double run_peak_loop(PeakInstruction instruction, int64_t iterations) {
  AS_CHECK(peak_instruction_available(instruction));
  const double chains = detail::kPeakChains;
  volatile float sink = 0;
  switch (instruction) {
    case PeakInstruction::kFmaYmm:
      sink = detail::peak_fma_ymm(iterations);
      return static_cast<double>(iterations) * detail::kPeakChainsYmm * 16;
    case PeakInstruction::kFmaZmm:
      sink = detail::peak_fma_zmm(iterations);
      return static_cast<double>(iterations) * chains * 32;
    case PeakInstruction::kDpbf16:
    case PeakInstruction::kDpbf16SameOperands:
      sink = detail::peak_dpbf16(iterations, instruction == PeakInstruction::kDpbf16);
      return static_cast<double>(iterations) * chains * 64;
    case PeakInstruction::kAmxBf16:
      sink = detail::peak_amx_bf16(iterations);
      return static_cast<double>(iterations) * 4 * 16 * 16 * 32 * 2;
  }
  (void)sink;
  return 0;
}

}  // namespace agentserve::cpu
