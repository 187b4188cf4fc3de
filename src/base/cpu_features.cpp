#include "base/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "base/log.h"

namespace agentserve {
namespace {

uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

// Linux hands out the AMX tile state only to processes that ask for it.
bool request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid(1, a, b, c, d);
  const bool osxsave = (c >> 27) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (!osxsave) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = (xcr0 & 0xE6) == 0xE6;
  const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = os_avx && ((b >> 5) & 1);
  f.avx512f = os_avx512 && ((b >> 16) & 1);
  f.avx512dq = os_avx512 && ((b >> 17) & 1);
  f.avx512bw = os_avx512 && ((b >> 30) & 1);
  f.avx512vl = os_avx512 && ((b >> 31) & 1);
  const bool amx_bf16_flag = (d >> 22) & 1;
  const bool amx_tile_flag = (d >> 24) & 1;
  __cpuid_count(7, 1, a, b, c, d);
  f.avx512_bf16 = f.avx512f && ((a >> 5) & 1);
  f.amx_bf16 = os_amx && amx_bf16_flag && amx_tile_flag && request_amx_permission();

  if (f.avx2 && f.fma && f.f16c) f.best = CpuTier::kAvx2;
  if (f.best == CpuTier::kAvx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq)
    f.best = CpuTier::kAvx512;
  if (f.best == CpuTier::kAvx512 && f.avx512_bf16) f.best = CpuTier::kAvx512Bf16;
  if (f.best == CpuTier::kAvx512Bf16 && f.amx_bf16) f.best = CpuTier::kAmx;
  return f;
}

CpuTier initial_tier() {
  CpuTier tier = cpu_features().best;
  if (const char* env = std::getenv("AGENTSERVE_CPU_TIER"); env != nullptr && *env != '\0') {
    CpuTier wanted;
    if (parse_cpu_tier(env, &wanted)) {
      if (wanted < tier) tier = wanted;
    } else {
      AS_LOG_WARN("AGENTSERVE_CPU_TIER={} is not one of portable, avx2, avx512, avx512bf16, amx; "
                  "ignored", env);
    }
  }
  return tier;
}

std::atomic<int>& tier_storage() {
  static std::atomic<int> tier{static_cast<int>(initial_tier())};
  return tier;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

CpuTier active_cpu_tier() { return static_cast<CpuTier>(tier_storage().load(std::memory_order_relaxed)); }

void set_cpu_tier(CpuTier tier) {
  if (tier > cpu_features().best) tier = cpu_features().best;
  tier_storage().store(static_cast<int>(tier), std::memory_order_relaxed);
}

const char* cpu_tier_name(CpuTier tier) {
  switch (tier) {
    case CpuTier::kPortable: return "portable";
    case CpuTier::kAvx2: return "avx2";
    case CpuTier::kAvx512: return "avx512";
    case CpuTier::kAvx512Bf16: return "avx512bf16";
    case CpuTier::kAmx: return "amx";
  }
  return "?";
}

bool parse_cpu_tier(const std::string& name, CpuTier* out) {
  for (int t = 0; t <= static_cast<int>(CpuTier::kAmx); ++t) {
    if (name == cpu_tier_name(static_cast<CpuTier>(t))) {
      *out = static_cast<CpuTier>(t);
      return true;
    }
  }
  return false;
}

}  // namespace agentserve
