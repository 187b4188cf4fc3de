// The bandwidth probe's read loops sum exactly what the portable loop sums, on every tier the
// CPU has, with and without prefetch (a loop that skipped or repeated lines would read a wrong
// amount and report a wrong bandwidth).
#include "backend/cpu/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "base/cpu_features.h"
#include "base/thread_pool.h"

namespace agentserve::cpu {
namespace {

TEST(MemoryBandwidth, ReadLoopsSumEveryWordOnce) {
  std::mt19937_64 rng(3);
  for (size_t bytes : {size_t{512}, size_t{4096}, size_t{512} * 37, size_t{1} << 20,
                       (size_t{1} << 20) + 512 * 3}) {
    auto* data = static_cast<uint64_t*>(std::aligned_alloc(64, bytes));
    for (size_t i = 0; i < bytes / 8; ++i) data[i] = rng();
    uint64_t expected = 0;
    for (size_t i = 0; i < bytes / 8; ++i) expected += data[i];
    EXPECT_EQ(detail::read_sum_portable(data, bytes), expected) << bytes;
    const CpuTier best = cpu_features().best;
    for (bool prefetch : {false, true}) {
      if (best >= CpuTier::kAvx2) {
        EXPECT_EQ(detail::read_sum_avx2(data, bytes, prefetch), expected) << bytes;
      }
      if (best >= CpuTier::kAvx512) {
        EXPECT_EQ(detail::read_sum_avx512(data, bytes, prefetch), expected) << bytes;
      }
    }
    std::free(data);
  }
}

// The reusable probe (agentserve bench's paired run) reads each thread's whole share once per
// pass and reports a finite rate.
TEST(MemoryBandwidth, ProbeReadsEveryThreadsShareOncePerPass) {
  ThreadPool pool(2);
  ReadBandwidthProbe probe(pool, (size_t{8} << 20) + 1000);
  const size_t share = probe.bytes_per_thread();
  ASSERT_EQ(share % 512, 0u);
  ASSERT_GE(share * 2, (size_t{8} << 20) + 1000 - 1024);
  uint64_t per_pass = 0;
  for (uint64_t t = 0; t < 2; ++t) per_pass += (share / 8) * 0x0101010101010101ull * (t + 1);
  const double plain = probe.pass(false);
  EXPECT_EQ(probe.checksum(), per_pass);
  const double prefetched = probe.pass(true);
  EXPECT_EQ(probe.checksum(), 2 * per_pass);
  const double best = probe.best_of(3);
  EXPECT_EQ(probe.checksum(), 5 * per_pass);
  for (double gbps : {plain, prefetched, best}) {
    EXPECT_GT(gbps, 0.0);
    EXPECT_LT(gbps, 1e5);  // 100 TB/s: a timer or byte count gone wrong
  }
}

}  // namespace
}  // namespace agentserve::cpu
