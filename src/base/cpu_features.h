// What this CPU can run, read once at start. Kernels pick their tier from here at run time,
// so one binary runs on any x86-64 and uses AVX-512 / AVX512-BF16 / AMX where present.
#pragma once

#include <string>

namespace agentserve {

// Ordered: each tier implies the ones below it.
enum class CpuTier {
  kPortable = 0,   // plain C++
  kAvx2 = 1,       // AVX2 + FMA + F16C
  kAvx512 = 2,     // AVX-512 F/BW/VL/DQ
  kAvx512Bf16 = 3, // + AVX512_BF16 (vdpbf16ps)
  kAmx = 4,        // + AMX-BF16 tiles, permission granted by the kernel
};

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false;
  bool amx_bf16 = false;  // CPU flag, OS state and arch_prctl permission all present
  CpuTier best = CpuTier::kPortable;
};

// Detected features (cached after the first call).
const CpuFeatures& cpu_features();

// The tier kernels use: the best detected one, lowered by AGENTSERVE_CPU_TIER
// (portable|avx2|avx512|avx512bf16|amx) or by set_cpu_tier() (tests use it to run every path).
CpuTier active_cpu_tier();
void set_cpu_tier(CpuTier tier);  // clamped to what the CPU supports
const char* cpu_tier_name(CpuTier tier);
bool parse_cpu_tier(const std::string& name, CpuTier* out);

}  // namespace agentserve
