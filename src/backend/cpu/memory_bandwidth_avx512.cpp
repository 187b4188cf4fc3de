// The AVX-512 read loop of measure_read_bandwidth_gbps (memory_bandwidth.h).
#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cstddef>
#include <cstdint>

#include "backend/cpu/memory_bandwidth.h"

namespace agentserve::cpu::detail {

// Sum of the 64-bit words of [data, data + bytes); data 64-byte aligned, bytes % 512 == 0.
// Eight independent accumulators keep the adds off the critical path. With `prefetch`, lines
// 16 KB ahead are requested into L2 as the GEMV does, so the probe is no weaker than the
// kernels it is the ceiling for.
uint64_t read_sum_avx512(const void* data, size_t bytes, bool prefetch) {
  const auto* p = static_cast<const __m512i*>(data);
  const size_t lines = bytes / 64;
  constexpr size_t kAhead = 16384 / 64;
  __m512i acc[8];
#pragma GCC unroll 16
  for (auto& a : acc) a = _mm512_setzero_si512();
  for (size_t i = 0; i < lines; i += 8) {
    if (prefetch) {
#pragma GCC unroll 16
      for (size_t j = 0; j < 8; ++j)
        if (i + j + kAhead < lines)
          _mm_prefetch(reinterpret_cast<const char*>(p + i + j + kAhead), _MM_HINT_T1);
    }
#pragma GCC unroll 16
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_add_epi64(acc[j], _mm512_load_si512(p + i + j));
  }
#pragma GCC unroll 16
  for (int j = 1; j < 8; ++j) acc[0] = _mm512_add_epi64(acc[0], acc[j]);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc[0]));
}

}  // namespace agentserve::cpu::detail
