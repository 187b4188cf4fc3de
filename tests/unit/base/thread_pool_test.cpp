#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "base/thread_pool.h"

namespace agentserve {
namespace {

TEST(ThreadPool, EveryThreadRunsEveryRegion) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int region = 0; region < 2000; ++region) {
      std::vector<int> hits(static_cast<size_t>(threads), 0);
      pool.run([&](int t, int n) {
        EXPECT_EQ(n, threads);
        hits[static_cast<size_t>(t)]++;
      });
      for (int h : hits) ASSERT_EQ(h, 1);
    }
  }
}

// Gaps between regions longer than the spin phase make workers and the caller sleep on their
// futexes: a lost wake-up would hang here (the test has a timeout in CTest).
TEST(ThreadPool, SurvivesSleepingBetweenRegions) {
  ThreadPool pool(3);
  std::mt19937 rng(std::random_device{}());
  std::atomic<int64_t> total{0};
  int64_t expected = 0;
  for (int region = 0; region < 300; ++region) {
    const int gap_us = static_cast<int>(rng() % 400);
    const int work_us = static_cast<int>(rng() % 300);
    std::this_thread::sleep_for(std::chrono::microseconds(gap_us));
    pool.run([&](int t, int) {
      if (t == static_cast<int>(region % 3))
        std::this_thread::sleep_for(std::chrono::microseconds(work_us));
      total += t + 1;
    });
    expected += 6;
  }
  EXPECT_EQ(total.load(), expected);
}

TEST(ThreadPool, ParallelForCoversTheRangeOnceInGrainMultiples) {
  ThreadPool pool(4);
  for (int64_t n : {0, 1, 7, 64, 1000, 4097}) {
    for (int64_t grain : {1, 3, 16, 5000}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
        EXPECT_TRUE(b % grain == 0) << b;
        for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)]++;
      });
      for (auto& s : seen) ASSERT_EQ(s.load(), 1);
    }
  }
}

}  // namespace
}  // namespace agentserve
