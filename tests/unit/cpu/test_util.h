// Shared by the CPU kernel tests: fresh random seeds (printed on failure, reproducible with
// AGENTSERVE_TEST_SEED), a fixture that forces each CPU tier, NaN poisoning.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace agentserve::cpu::testing {

inline uint64_t fresh_seed() {
  if (const char* env = std::getenv("AGENTSERVE_TEST_SEED"); env != nullptr && *env != '\0')
    return std::strtoull(env, nullptr, 10);
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

struct Rng {
  uint64_t seed = fresh_seed();
  std::mt19937_64 gen{seed};

  float normal(float stddev = 1.0f) { return std::normal_distribution<float>(0.0f, stddev)(gen); }
  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen); }
  int64_t integer(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  }
  std::vector<float> normals(size_t n, float stddev = 1.0f) {
    std::vector<float> v(n);
    for (auto& x : v) x = normal(stddev);
    return v;
  }
  std::string trace() const {
    return "seed " + std::to_string(seed) +
           " (rerun with AGENTSERVE_TEST_SEED=" + std::to_string(seed) + ")";
  }
};

// The pool every test uses: two threads, as on the CI machine.
inline std::unique_ptr<ThreadPool> make_pool(int num_threads = 2) {
  return std::make_unique<ThreadPool>(num_threads);
}

inline void poison(std::vector<float>& v) {
  std::fill(v.begin(), v.end(), std::numeric_limits<float>::quiet_NaN());
}

// Parameterised over every tier; skips tiers this CPU lacks and restores the tier after.
class TierTest : public ::testing::TestWithParam<CpuTier> {
 protected:
  void SetUp() override {
    saved_ = active_cpu_tier();
    if (GetParam() > cpu_features().best) {
      GTEST_SKIP() << "this CPU lacks tier " << cpu_tier_name(GetParam()) << " (best is "
                   << cpu_tier_name(cpu_features().best) << ")";
    }
    set_cpu_tier(GetParam());
    ASSERT_EQ(active_cpu_tier(), GetParam());
  }
  void TearDown() override { set_cpu_tier(saved_); }

  CpuTier saved_ = CpuTier::kPortable;
};

inline std::string tier_param_name(const ::testing::TestParamInfo<CpuTier>& info) {
  return cpu_tier_name(info.param);
}

#define AS_INSTANTIATE_ALL_TIERS(suite)                                                            \
  INSTANTIATE_TEST_SUITE_P(AllTiers, suite,                                                        \
                           ::testing::Values(CpuTier::kPortable, CpuTier::kAvx2, CpuTier::kAvx512, \
                                             CpuTier::kAvx512Bf16, CpuTier::kAmx),                 \
                           ::agentserve::cpu::testing::tier_param_name)

}  // namespace agentserve::cpu::testing
