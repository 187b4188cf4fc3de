// The AVX2 read loop of measure_read_bandwidth_gbps (memory_bandwidth.h), for machines without
// AVX-512. Without it those machines were probed by a portable scalar loop that read well below
// what the AVX2 GEMV streams (cpu-2c at the AVX2 tier: 17-19 GB/s against ~28-35 from the
// AVX-512 loop), so `agentserve bench` printed decode above 100 % of "measured bandwidth".
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "backend/cpu/memory_bandwidth.h"

namespace agentserve::cpu::detail {

// Sum of the 64-bit words of [data, data + bytes); data 32-byte aligned, bytes % 512 == 0.
// Eight independent accumulators; with `prefetch`, lines 16 KB ahead are requested into L2 as
// the AVX2 GEMV does, so the probe is no weaker than the kernel it is the ceiling for.
uint64_t read_sum_avx2(const void* data, size_t bytes, bool prefetch) {
  const auto* p = static_cast<const __m256i*>(data);
  const size_t vectors = bytes / 32;
  constexpr size_t kAhead = 16384 / 32;
  __m256i acc[8];
#pragma GCC unroll 16
  for (auto& a : acc) a = _mm256_setzero_si256();
  for (size_t i = 0; i < vectors; i += 16) {
    if (prefetch) {
#pragma GCC unroll 16
      for (size_t j = 0; j < 16; j += 2)
        if (i + j + kAhead < vectors)
          _mm_prefetch(reinterpret_cast<const char*>(p + i + j + kAhead), _MM_HINT_T1);
    }
#pragma GCC unroll 16
    for (int j = 0; j < 8; ++j) {
      acc[j] = _mm256_add_epi64(acc[j], _mm256_load_si256(p + i + 2 * j));
      acc[j] = _mm256_add_epi64(acc[j], _mm256_load_si256(p + i + 2 * j + 1));
    }
  }
#pragma GCC unroll 16
  for (int j = 1; j < 8; ++j) acc[0] = _mm256_add_epi64(acc[0], acc[j]);
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[0]);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace agentserve::cpu::detail
