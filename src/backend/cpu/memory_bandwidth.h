// The machine's best-case streaming read bandwidth, measured: the ceiling that decode (a
// memory-bound GEMV over every weight per token) is compared with.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

// Reads a buffer of `buffer_bytes` (>= 1 GiB by default, far past any cache) that was
// first touched by the same threads, all threads streaming their own contiguous share with
// the widest loads the CPU tier allows, and sums it so the loads cannot be dropped. Returns
// the best of several runs, in GB/s (1e9 bytes per second). Takes about a second.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30);

namespace detail {
// The read loops per CPU tier: the sum of the 64-bit words of [data, data + bytes), data
// 64-byte aligned and bytes a multiple of 512. `prefetch`: also request lines 16 KB ahead.
uint64_t read_sum_portable(const void* data, size_t bytes);
uint64_t read_sum_avx2(const void* data, size_t bytes, bool prefetch);
uint64_t read_sum_avx512(const void* data, size_t bytes, bool prefetch);
}  // namespace detail

}  // namespace agentserve::cpu
