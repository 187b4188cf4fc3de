// The bandwidth probe's read loops sum exactly what the portable loop sums, on every tier the
// CPU has, with and without prefetch (a loop that skipped or repeated lines would read a wrong
// amount and report a wrong bandwidth).
#include "backend/cpu/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "base/cpu_features.h"

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

}  // namespace
}  // namespace agentserve::cpu
