// The machine's best-case streaming read bandwidth, measured: the ceiling that decode (a
// memory-bound GEMV over every weight per token) is compared with.
#pragma once

#include <cstddef>

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

// Reads a buffer of `buffer_bytes` (>= 1 GiB by default, far past any cache) that was
// first touched by the same threads, all threads streaming their own contiguous share with
// the widest loads the CPU tier allows, and sums it so the loads cannot be dropped. Returns
// the best of several runs, in GB/s (1e9 bytes per second). Takes about a second.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30);

}  // namespace agentserve::cpu
