// The ceilings of this machine and how close our matmul gets to them.
//
//   1. peak FLOP/s of each tier's inner instruction on all threads (register/tile-only loops):
//      f32 FMA ymm / zmm, vdpbf16ps, AMX tdpbf16ps;
//   2. the streaming read bandwidth (backend/cpu/memory_bandwidth.h);
//   3. decode GEMV (m = 1, bf16 W) at the model shapes, in GB/s of W and % of (2): "cold"
//      rotates through copies of W totalling > 1 GB so every call streams from DRAM, as
//      decode does; "hot" repeats one W (cache-resident when small);
//   4. prefill GEMM (m = 512) in each precision mode, GFLOP/s and % of the peak of the
//      instruction it uses (for bf16x2 the instruction does twice the useful flops);
//   5. the relative error of each mode against a double-precision product.
// The machine this runs on is a VM whose host adds up to 2x noise over seconds, so every
// kernel timing alternates with short bursts of its instruction's peak loop and the % is
// best kernel / best peak over that same window; every figure is a best of several runs.
// Usage: bench_gemm_peak [--quick] [--all-tiers]   (--all-tiers repeats the GEMMs at every
// lower tier too.) AGENTSERVE_CPU_TIER and AGENTSERVE_THREADS select the tier and threads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels/instruction_peak.h"
#include "backend/cpu/kernels/matmul.h"
#include "backend/cpu/memory_bandwidth.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"
#include "tensor/tensor.h"

namespace agentserve {
namespace {

using cpu::MatmulPrecision;
using cpu::PeakInstruction;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class F>
double best_seconds(int reps, F&& fn) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    fn();
    best = std::min(best, seconds_since(start));
  }
  return best;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Cheap deterministic bf16 weights ~ uniform with the spread of N(0, 0.02): the GEMV and
// GEMM timings do not depend on the values, and 1 GB of normals would take seconds.
void fill_weights(ThreadPool& pool, uint16_t* w, size_t count) {
  pool.parallel_for(static_cast<int64_t>(count), 1 << 20, [&](int64_t b, int64_t e) {
    uint64_t s = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(b + 1);
    for (int64_t i = b; i < e; ++i) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      const float u = static_cast<float>(s >> 40) * (1.0f / 16777216.0f) - 0.5f;
      w[i] = f32_to_bf16(u * 0.07f);
    }
  });
}

TensorView bf16_view(const uint16_t* data, int64_t n, int64_t k) {
  TensorView v;
  v.dtype = DType::kBF16;
  v.rank = 2;
  v.shape = {n, k, 0, 0};
  v.data = data;
  v.num_bytes = static_cast<size_t>(n * k) * 2;
  return v;
}

struct PeakResult {
  PeakInstruction instruction;
  double gflops = 0;     // all threads
  double gflops_1t = 0;  // one thread
};

double measure_peak(ThreadPool& pool, PeakInstruction instruction, bool all_threads, bool quick) {
  // Calibrate to ~0.15 s per run.
  int64_t iterations = 1 << 16;
  while (true) {
    const auto start = Clock::now();
    cpu::run_peak_loop(instruction, iterations);
    if (seconds_since(start) > 0.02) break;
    iterations *= 2;
  }
  iterations *= quick ? 2 : 6;
  double flops = 0;
  const double s = best_seconds(quick ? 2 : 4, [&] {
    if (all_threads) {
      std::vector<double> per(static_cast<size_t>(pool.num_threads()));
      pool.run([&](int t, int) {
        per[static_cast<size_t>(t)] = cpu::run_peak_loop(instruction, iterations);
      });
      flops = 0;
      for (double f : per) flops += f;
    } else {
      flops = cpu::run_peak_loop(instruction, iterations);
    }
  });
  return flops / s / 1e9;
}

// Iterations of the peak loop that take about `seconds` on one thread.
int64_t calibrate(PeakInstruction instruction, double seconds) {
  int64_t iterations = 1 << 12;
  while (true) {
    const auto start = Clock::now();
    cpu::run_peak_loop(instruction, iterations);
    const double s = seconds_since(start);
    if (s > 0.005) return std::max<int64_t>(1, static_cast<int64_t>(iterations * seconds / s));
    iterations *= 2;
  }
}

// All threads run the peak loop once; GFLOP/s.
double peak_burst(ThreadPool& pool, PeakInstruction instruction, int64_t iterations) {
  std::vector<double> per(static_cast<size_t>(pool.num_threads()));
  const auto start = Clock::now();
  pool.run([&](int t, int) {
    per[static_cast<size_t>(t)] = cpu::run_peak_loop(instruction, iterations);
  });
  const double s = seconds_since(start);
  double flops = 0;
  for (double f : per) flops += f;
  return flops / s / 1e9;
}

struct Window {
  double seconds = 1e30;  // best kernel time
  double peak = 0;        // best peak over the same window, GFLOP/s
};

// Alternates a ~20 ms burst of the peak loop with one call of fn, `rounds` times.
template <class F>
Window measure_window(ThreadPool& pool, PeakInstruction instruction, int64_t burst_iterations,
                      int rounds, F&& fn) {
  Window w;
  fn();  // warm-up: page faults, scratch growth
  for (int r = 0; r < rounds; ++r) {
    w.peak = std::max(w.peak, peak_burst(pool, instruction, burst_iterations));
    const auto start = Clock::now();
    fn();
    w.seconds = std::min(w.seconds, seconds_since(start));
  }
  return w;
}

struct GemvResult {
  int64_t n, k;
  double cold_gbs = 0, hot_gbs = 0;
};

struct GemmResult {
  CpuTier tier;
  int64_t n, k;
  double gflops[3] = {};  // useful GFLOP/s per mode
  double pct[3] = {};     // % of the mode's instruction peak (instruction flops), same window
};

PeakInstruction f32_instruction(CpuTier tier) {
  return tier >= CpuTier::kAvx512 ? PeakInstruction::kFmaZmm : PeakInstruction::kFmaYmm;
}

// The instruction the bf16 modes run on at `tier` (below AVX512_BF16 they use f32 FMA).
PeakInstruction bf16_instruction(CpuTier tier) {
  return tier >= CpuTier::kAmx          ? PeakInstruction::kAmxBf16
         : tier >= CpuTier::kAvx512Bf16 ? PeakInstruction::kDpbf16
                                        : f32_instruction(tier);
}

}  // namespace

int run(bool quick, bool all_tiers) {
  const int threads = default_num_threads();
  ThreadPool pool(threads);
  const CpuTier tier = active_cpu_tier();
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::printf("bench_gemm_peak: %s, %d threads, tier %s, %s, load average %s\n",
              cpu_model().c_str(), threads, cpu_tier_name(tier), date, load_average().c_str());
  std::printf("(every figure is the best of several runs)\n\n");

  // 1. Instruction peaks.
  std::vector<PeakResult> peaks;
  std::printf("== instruction peaks (register/tile-only loops) ==\n");
  for (PeakInstruction ins :
       {PeakInstruction::kFmaYmm, PeakInstruction::kFmaZmm, PeakInstruction::kDpbf16,
        PeakInstruction::kDpbf16SameOperands, PeakInstruction::kAmxBf16}) {
    if (!cpu::peak_instruction_available(ins)) {
      std::printf("  %-28s not available at tier %s\n", cpu::peak_instruction_name(ins),
                  cpu_tier_name(tier));
      continue;
    }
    PeakResult r{ins};
    r.gflops_1t = measure_peak(pool, ins, false, quick);
    r.gflops = measure_peak(pool, ins, true, quick);
    std::printf("  %-28s %9.1f GFLOP/s on 1 thread, %9.1f on %d\n", cpu::peak_instruction_name(ins),
                r.gflops_1t, r.gflops, threads);
    std::fflush(stdout);
    peaks.push_back(r);
  }

  // 2. Read bandwidth.
  std::printf(
      "\n== memory read bandwidth (1 GiB, all threads; best of a probe before and after the GEMVs) "
      "==\n");
  double bandwidth = cpu::measure_read_bandwidth_gbps(pool);
  std::printf("  before: %.1f GB/s\n", bandwidth);
  std::fflush(stdout);

  // 3. GEMV.
  const size_t arena_elems = (size_t{1300} << 20) / 2;  // 1.3 GB of bf16
  std::vector<uint16_t> arena(arena_elems);
  fill_weights(pool, arena.data(), arena.size());
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal;
  std::vector<GemvResult> gemvs;
  std::printf("\n== GEMV m=1, bf16 W [n, k], f32 x (decode) ==\n");
  for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{
           {2048, 1024}, {1024, 2048}, {3072, 1024}, {1024, 3072}, {151936, 1024}}) {
    GemvResult r{n, k};
    const size_t elems = static_cast<size_t>(n * k);
    const size_t stride = (elems + 2047) / 2048 * 2048;  // 4 KB aligned copies
    const size_t copies = arena_elems / stride;
    std::vector<float> x(static_cast<size_t>(k)), y(static_cast<size_t>(n));
    for (auto& v : x) v = normal(rng);
    auto call = [&](size_t copy) {
      cpu::matmul(pool, x.data(), 1, k, bf16_view(arena.data() + copy * stride, n, k), nullptr,
                  y.data(), MatmulPrecision::kF32);
    };
    const double bytes = static_cast<double>(elems) * 2;
    const double cold = best_seconds(quick ? 2 : 4, [&] {
      for (size_t c = 0; c < copies; ++c) call(c);
    });
    r.cold_gbs = bytes * static_cast<double>(copies) / cold / 1e9;
    const int hot_calls = static_cast<int>(std::max<double>(4, 2e9 / bytes));
    call(0);
    const double hot = best_seconds(quick ? 2 : 4, [&] {
      for (int c = 0; c < hot_calls; ++c) call(0);
    });
    r.hot_gbs = bytes * hot_calls / hot / 1e9;
    std::printf("  %6lld x %-5lld (%6.1f MB): cold %6.1f GB/s (%zu copies), hot %6.1f GB/s\n",
                static_cast<long long>(n), static_cast<long long>(k), bytes / 1e6, r.cold_gbs,
                copies, r.hot_gbs);
    std::fflush(stdout);
    gemvs.push_back(r);
  }

  const double bandwidth_after = cpu::measure_read_bandwidth_gbps(pool);
  std::printf("  read bandwidth after: %.1f GB/s (before %.1f)\n", bandwidth_after, bandwidth);
  bandwidth = std::max(bandwidth, bandwidth_after);

  // 4. GEMM, at the active tier (and every lower one with --all-tiers).
  const int64_t m = 512;
  std::vector<GemmResult> gemms;
  const MatmulPrecision modes[3] = {MatmulPrecision::kF32, MatmulPrecision::kBf16,
                                    MatmulPrecision::kBf16Split};
  std::vector<CpuTier> tiers = {tier};
  if (all_tiers)
    for (int t = static_cast<int>(tier) - 1; t >= static_cast<int>(CpuTier::kAvx2); --t)
      tiers.push_back(static_cast<CpuTier>(t));
  for (CpuTier gemm_tier : tiers) {
    set_cpu_tier(gemm_tier);
    const PeakInstruction f32_ins = f32_instruction(gemm_tier),
                          bf16_ins = bf16_instruction(gemm_tier);
    const int64_t f32_burst = calibrate(f32_ins, 0.02), bf16_burst = calibrate(bf16_ins, 0.02);
    std::printf(
        "\n== GEMM m=%lld, bf16 W [n, k] (prefill), tier %s: f32 on %s, bf16/bf16x2 on %s ==\n",
        static_cast<long long>(m), cpu_tier_name(gemm_tier), cpu::peak_instruction_name(f32_ins),
        cpu::peak_instruction_name(bf16_ins));
    for (auto [n, k] : std::vector<std::pair<int64_t, int64_t>>{
             {2048, 1024}, {1024, 1024}, {3072, 1024}, {1024, 3072}, {1024, 2048}}) {
      GemmResult r{gemm_tier, n, k};
      std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
      for (auto& v : x) v = normal(rng);
      const TensorView w = bf16_view(arena.data(), n, k);
      const double flops = 2.0 * m * n * k;
      for (int mode = 0; mode < 3; ++mode) {
        const PeakInstruction ins = mode == 0 ? f32_ins : bf16_ins;
        const int rounds = mode == 0 ? (quick ? 2 : 4) : (quick ? 4 : 10);
        const Window win = measure_window(
            pool, ins, mode == 0 ? f32_burst : bf16_burst, rounds,
            [&] { cpu::matmul(pool, x.data(), m, k, w, nullptr, y.data(), modes[mode]); });
        r.gflops[mode] = flops / win.seconds / 1e9;
        // The split mode runs the bf16 instruction twice per useful product.
        const double ins_gflops = (mode == 2 && ins != f32_ins ? 2 : 1) * r.gflops[mode];
        r.pct[mode] = 100 * ins_gflops / win.peak;
        std::printf(
            "  n=%5lld k=%5lld %-6s %8.1f GFLOP/s (instruction %8.1f) = %5.1f%% of %s peak %.0f "
            "(same window)\n",
            static_cast<long long>(n), static_cast<long long>(k),
            cpu::matmul_precision_name(modes[mode]), r.gflops[mode], ins_gflops, r.pct[mode],
            mode == 0 ? "f32" : "bf16", win.peak);
        std::fflush(stdout);
      }
      gemms.push_back(r);
    }
  }
  set_cpu_tier(tier);

  // 5. Accuracy on transformer-like data.
  std::printf(
      "\n== relative error ||y - exact|| / ||exact||, x ~ N(0,1), W ~ N(0,0.02) bf16, m=64 n=256 "
      "==\n");
  double errors[3][3] = {};
  const int64_t ks[3] = {1024, 2048, 3072};
  for (int ki = 0; ki < 3; ++ki) {
    const int64_t k = ks[ki], em = 64, en = 256;
    std::vector<uint16_t> wbits(static_cast<size_t>(en * k));
    std::normal_distribution<float> wdist(0.0f, 0.02f);
    for (auto& b : wbits) b = f32_to_bf16(wdist(rng));
    std::vector<float> x(static_cast<size_t>(em * k)), y(static_cast<size_t>(em * en));
    for (auto& v : x) v = normal(rng);
    std::vector<double> exact(y.size());
    for (int64_t i = 0; i < em; ++i)
      for (int64_t j = 0; j < en; ++j) {
        double acc = 0;
        for (int64_t c = 0; c < k; ++c)
          acc += static_cast<double>(x[static_cast<size_t>(i * k + c)]) *
                 bf16_to_f32(wbits[static_cast<size_t>(j * k + c)]);
        exact[static_cast<size_t>(i * en + j)] = acc;
      }
    for (int mode = 0; mode < 3; ++mode) {
      cpu::matmul(pool, x.data(), em, k, bf16_view(wbits.data(), en, k), nullptr, y.data(),
                  modes[mode]);
      double num = 0, den = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        num += (y[i] - exact[i]) * (y[i] - exact[i]);
        den += exact[i] * exact[i];
      }
      errors[ki][mode] = std::sqrt(num / den);
    }
    std::printf("  k=%lld: f32 %.2e   bf16 %.2e   bf16x2 %.2e\n", static_cast<long long>(k),
                errors[ki][0], errors[ki][1], errors[ki][2]);
  }

  // Summary.
  std::printf("\n== summary: %s, %d threads, tier %s, %s ==\n", cpu_model().c_str(), threads,
              cpu_tier_name(tier), date);
  for (const auto& p : peaks)
    std::printf("peak %-28s %9.1f GFLOP/s\n", cpu::peak_instruction_name(p.instruction), p.gflops);
  std::printf("read bandwidth                    %9.1f GB/s\n", bandwidth);
  std::printf("%-22s %10s %8s %10s\n", "GEMV m=1 (n x k)", "cold GB/s", "% of bw", "hot GB/s");
  for (const auto& g : gemvs)
    std::printf("%8lld x %-11lld %10.1f %7.1f%% %10.1f\n", static_cast<long long>(g.n),
                static_cast<long long>(g.k), g.cold_gbs, 100 * g.cold_gbs / bandwidth, g.hot_gbs);
  std::printf("%-11s %-18s %16s %16s %17s\n", "GEMM tier", "m=512 (n x k)", "f32 GF/s (%pk)",
              "bf16 GF/s (%pk)", "bf16x2 GF/s (%pk)");
  for (const auto& g : gemms)
    std::printf("%-11s %6lld x %-9lld %9.0f (%4.1f%%) %9.0f (%4.1f%%) %9.0f (%4.1f%%)\n",
                cpu_tier_name(g.tier), static_cast<long long>(g.n), static_cast<long long>(g.k),
                g.gflops[0], g.pct[0], g.gflops[1], g.pct[1], g.gflops[2], g.pct[2]);
  std::printf(
      "(%%pk: of the instruction's peak measured in bursts between the kernel calls; bf16x2 "
      "counts\n"
      " the instruction's flops, twice the useful ones, except where it runs on f32 FMA)\n");
  std::printf(
      "error k=1024/2048/3072: f32 %.1e/%.1e/%.1e  bf16 %.1e/%.1e/%.1e  bf16x2 %.1e/%.1e/%.1e\n",
      errors[0][0], errors[1][0], errors[2][0], errors[0][1], errors[1][1], errors[2][1],
      errors[0][2], errors[1][2], errors[2][2]);
  return 0;
}

}  // namespace agentserve

int main(int argc, char** argv) {
  bool quick = false, all_tiers = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--all-tiers") == 0) {
      all_tiers = true;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--all-tiers]\n", argv[0]);
      return 2;
    }
  }
  return agentserve::run(quick, all_tiers);
}
