// The library GEMM ceiling of this machine, next to ours: oneDNN's bf16 matmul (its AMX
// "brgemm" kernels on Sapphire Rapids; Debian's libdnnl-dev) and agentserve's cpu::matmul on
// the same shapes, interleaved in one run. oneDNN gets its preferred pre-packed weight layout
// (its best case); ours reads W[n, k] row-major straight from memory as the model does.
// Built only when libdnnl-dev is installed; not a dependency of agentserve.
//
//   bench_gemm_vs_onednn [--threads N] [--repeats R]
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/kernels/matmul.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "tensor/dtype.h"

namespace {

using namespace agentserve;
using Clock = std::chrono::steady_clock;

struct Shape {
  int64_t m, n, k;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = default_num_threads();
  int repeats = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeats") == 0) repeats = std::atoi(argv[i + 1]);
  }
  ThreadPool pool(threads);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  std::mt19937 rng(12345);
  std::normal_distribution<float> normal(0.0f, 1.0f);

  // Prefill shapes of Qwen3-0.6B at a 512-token chunk, then large squares.
  const Shape shapes[] = {{512, 2048, 1024}, {512, 1024, 1024}, {512, 3072, 1024},
                          {512, 1024, 3072}, {512, 1024, 2048}, {2048, 2048, 2048},
                          {4096, 4096, 4096}};
  std::printf("GEMM y[m,n] = x[m,k] * W[n,k]^T, bf16 operands, f32 result, %d threads, tier %s, "
              "best of %d\n",
              threads, cpu_tier_name(active_cpu_tier()), repeats);
  std::printf("%-18s %14s %26s %10s\n", "m x n x k", "ours GFLOP/s", "oneDNN GFLOP/s (impl)", "ours/oneDNN");
  for (const Shape& s : shapes) {
    // Same values for both: x ~ N(0,1), W ~ N(0,0.02) in bf16.
    std::vector<float> x(static_cast<size_t>(s.m * s.k));
    for (float& v : x) v = normal(rng);
    std::vector<uint16_t> x_bf16(x.size());
    for (size_t i = 0; i < x.size(); ++i) x_bf16[i] = f32_to_bf16(x[i]);
    std::vector<uint16_t> w(static_cast<size_t>(s.n * s.k));
    for (auto& v : w) v = f32_to_bf16(0.02f * normal(rng));
    std::vector<float> y(static_cast<size_t>(s.m * s.n));

    TensorView wv;
    wv.dtype = DType::kBF16;
    wv.rank = 2;
    wv.shape = {s.n, s.k, 0, 0};
    wv.data = w.data();
    wv.num_bytes = w.size() * 2;

    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    dnnl::memory::desc a_md({s.m, s.k}, dt::bf16, tag::ab);
    dnnl::memory::desc b_plain({s.k, s.n}, dt::bf16, tag::ba);  // W[n,k] row-major is B = Wᵀ
    dnnl::memory::desc b_any({s.k, s.n}, dt::bf16, tag::any);
    dnnl::memory::desc c_md({s.m, s.n}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any, c_md), eng);
    dnnl::matmul mm(pd);
    dnnl::memory a_mem(a_md, eng, x_bf16.data());
    dnnl::memory b_src(b_plain, eng, w.data());
    dnnl::memory b_mem(pd.weights_desc(), eng);
    dnnl::reorder(b_src, b_mem).execute(strm, b_src, b_mem);
    dnnl::memory c_mem(c_md, eng);

    const double flops = 2.0 * static_cast<double>(s.m) * s.n * s.k;
    double ours = 1e30, theirs = 1e30;
    for (int r = 0; r < repeats + 2; ++r) {  // interleaved; the first two are warm-up
      auto t0 = Clock::now();
      cpu::matmul(pool, x.data(), s.m, s.k, wv, nullptr, y.data(), cpu::MatmulPrecision::kBf16);
      const double t_ours = seconds_since(t0);
      t0 = Clock::now();
      mm.execute(strm, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
      strm.wait();
      const double t_theirs = seconds_since(t0);
      if (r >= 2) {
        ours = std::min(ours, t_ours);
        theirs = std::min(theirs, t_theirs);
      }
    }
    char dims[32];
    std::snprintf(dims, sizeof(dims), "%ldx%ldx%ld", static_cast<long>(s.m),
                  static_cast<long>(s.n), static_cast<long>(s.k));
    std::printf("%-18s %14.0f %12.0f (%s) %9.2fx\n", dims, flops / ours / 1e9,
                flops / theirs / 1e9, pd.impl_info_str(), theirs / ours);
  }
  return 0;
}
