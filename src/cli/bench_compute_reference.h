// Compute ceilings that `agentserve bench` measures next to each prompt run, so that prompt
// processing is compared with what this machine computes in the same second (the shared VM's
// compute rate moves 2-3x between minutes; a ceiling measured once, minutes apart, does not
// say how close the prompt path came to it).
#pragma once

#include <cstdint>
#include <vector>

#include "backend/cpu/kernels/instruction_peak.h"
#include "backend/cpu/kernels/matmul.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cli {

// The best GEMM rate of this machine: two shapes through the same matmul the model uses
// (bf16 weights, the prefill's precision) — 2048 x 2048 x 2048 and a prefill-like 512 x 3072 x
// 1024 (m x n x k) — the faster counts. bench_gemm_vs_onednn measures these against oneDNN
// (ours is on par or ahead on both), so the figure is not flattered by a weak GEMM.
class GemmReference {
 public:
  GemmReference(ThreadPool& pool, cpu::MatmulPrecision precision);
  // The best of `runs` GEMMs of each shape, in GFLOP/s.
  double best_of(int runs);

 private:
  static constexpr int64_t kSize = 2048;
  ThreadPool& pool_;
  cpu::MatmulPrecision precision_;
  std::vector<uint16_t> w_;
  std::vector<float> x_, y_;
};

// The instruction ceiling the prefill's matmuls run on (AMX tdpbf16ps, vdpbf16ps or f32 FMA,
// whichever the active tier and precision use), all threads. The burst length (~20 ms) is
// calibrated once, here.
class InstructionPeak {
 public:
  InstructionPeak(ThreadPool& pool, cpu::MatmulPrecision precision);
  // The best of three bursts on all threads, in GFLOP/s; 0 where no instruction applies.
  double best_of_three();
  // The instruction's name; "" where none applies.
  const char* name() const { return name_; }

 private:
  ThreadPool& pool_;
  bool applies_ = false;
  cpu::PeakInstruction instruction_{};
  const char* name_ = "";
  int64_t iterations_ = 0;
};

}  // namespace agentserve::cli
