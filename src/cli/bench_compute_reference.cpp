#include "cli/bench_compute_reference.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"
#include "tensor/tensor.h"

namespace agentserve::cli {

using Clock = std::chrono::steady_clock;

GemmReference::GemmReference(ThreadPool& pool, cpu::MatmulPrecision precision)
    : pool_(pool),
      precision_(precision),
      w_(static_cast<size_t>(kSize * kSize)),
      x_(static_cast<size_t>(kSize * kSize)),
      y_(static_cast<size_t>(kSize * kSize)) {
  // Values like a model's (the GEMM's speed does not depend on them, denormals aside).
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : w_) v = f32_to_bf16(0.02f * normal(rng));
  for (auto& v : x_) v = normal(rng);
}

double GemmReference::best_of(int runs) {
  struct Shape {
    int64_t m, n, k;
  };
  // Each fits the buffers (at most kSize x kSize elements of x, W and y).
  constexpr Shape kShapes[] = {{kSize, kSize, kSize}, {512, 3072, 1024}};
  double best = 0;
  for (const Shape& s : kShapes) {
    TensorView w;
    w.dtype = DType::kBF16;
    w.rank = 2;
    w.shape = {s.n, s.k, 0, 0};
    w.data = w_.data();
    w.num_bytes = static_cast<size_t>(s.n * s.k) * sizeof(uint16_t);
    for (int r = 0; r < runs; ++r) {
      const auto start = Clock::now();
      cpu::matmul(pool_, x_.data(), s.m, s.k, w, nullptr, y_.data(), precision_);
      const double sec = std::chrono::duration<double>(Clock::now() - start).count();
      best = std::max(best, 2.0 * static_cast<double>(s.m * s.n * s.k) / sec / 1e9);
    }
  }
  return best;
}

InstructionPeak::InstructionPeak(ThreadPool& pool, cpu::MatmulPrecision precision) : pool_(pool) {
  const CpuTier tier = active_cpu_tier();
  applies_ = true;
  if (precision != cpu::MatmulPrecision::kF32 && tier >= CpuTier::kAmx) {
    instruction_ = cpu::PeakInstruction::kAmxBf16;
  } else if (precision != cpu::MatmulPrecision::kF32 && tier >= CpuTier::kAvx512Bf16) {
    instruction_ = cpu::PeakInstruction::kDpbf16;
  } else if (tier >= CpuTier::kAvx512) {
    instruction_ = cpu::PeakInstruction::kFmaZmm;
  } else if (tier >= CpuTier::kAvx2) {
    instruction_ = cpu::PeakInstruction::kFmaYmm;
  } else {
    applies_ = false;
    return;
  }
  name_ = cpu::peak_instruction_name(instruction_);
  // ~20 ms per burst on one thread.
  iterations_ = 1 << 10;
  while (true) {
    const auto start = Clock::now();
    cpu::run_peak_loop(instruction_, iterations_);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    if (s > 0.005) {
      iterations_ = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iterations_) * 0.02 / s));
      break;
    }
    iterations_ *= 2;
  }
}

double InstructionPeak::best_of_three() {
  if (!applies_) return 0;
  double best = 0;
  std::vector<double> flops(static_cast<size_t>(pool_.num_threads()));
  for (int r = 0; r < 3; ++r) {
    const auto start = Clock::now();
    pool_.run([&](int t, int) { flops[static_cast<size_t>(t)] = cpu::run_peak_loop(instruction_, iterations_); });
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / s / 1e9);
  }
  return best;
}

}  // namespace agentserve::cli
