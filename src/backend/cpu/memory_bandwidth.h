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

// The same probe kept ready for repeated short measurements (agentserve bench interleaves
// them with decode steps, so that each stretch of decode is compared with the bandwidth of
// the same second on a machine whose bandwidth moves). The buffer is allocated and touched
// once, here.
class ReadBandwidthProbe {
 public:
  explicit ReadBandwidthProbe(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  // One read of the whole buffer by all threads, in GB/s; `prefetch` adds L2 software
  // prefetch to the loop.
  double pass(bool prefetch);
  // The best of `passes` passes, alternating plain and prefetched (whichever the CPU favours).
  double best_of(int passes);
  // The sum of every 64-bit word read by all passes so far (so the loads are not dead, and
  // so a test can check what was read). Thread t's share holds bytes of value t + 1.
  uint64_t checksum() const { return checksum_; }
  size_t bytes_per_thread() const { return share_; }

 private:
  ThreadPool& pool_;
  size_t share_ = 0;  // bytes per thread, a whole number of 512-byte blocks
  uint8_t* bytes_ = nullptr;
  uint64_t checksum_ = 0;
};

namespace detail {
// The read loops per CPU tier: the sum of the 64-bit words of [data, data + bytes), data
// 64-byte aligned and bytes a multiple of 512. `prefetch`: also request lines 16 KB ahead.
uint64_t read_sum_portable(const void* data, size_t bytes);
uint64_t read_sum_avx2(const void* data, size_t bytes, bool prefetch);
uint64_t read_sum_avx512(const void* data, size_t bytes, bool prefetch);
}  // namespace detail

}  // namespace agentserve::cpu
