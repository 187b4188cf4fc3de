// Sampler cost per sequence per step over a Qwen3-sized vocabulary (151,936 tokens).
//
//   bench_sampler [--vocab N] [--iters N] [--rows N]
//
// Logits are normal with σ = 3 (a realistic spread for a small LM's last layer); --rows
// different rows are cycled so no single row's tokens stay hot in the branch predictors.
// Prints the median and p99 µs per Sampler::sample call for: greedy, temperature 1,
// temperature 0.7 + top-p 0.95 + top-k 40, the same + min-p 0.05, and temperature 1 with
// logprobs and 5 top logprobs. The tier in use (AGENTSERVE_CPU_TIER lowers it) is printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "engine/sampler.h"

using namespace agentserve;

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_us, p99_us;
};

}  // namespace

int main(int argc, char** argv) {
  int vocab = 151936, iters = 2000, rows = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--vocab")) vocab = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows")) rows = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::mt19937 gen(2026);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<std::vector<float>> logits(static_cast<size_t>(rows));
  for (auto& row : logits) {
    row.resize(static_cast<size_t>(vocab));
    for (auto& v : row) v = normal(gen);
  }

  struct Case {
    const char* name;
    SamplingParams params;
  };
  std::vector<Case> cases;
  {
    SamplingParams p;
    p.temperature = 0.0f;
    cases.push_back({"greedy", p});
  }
  {
    SamplingParams p;
    p.temperature = 1.0f;
    cases.push_back({"temperature 1", p});
  }
  {
    SamplingParams p;
    p.temperature = 0.7f;
    p.top_p = 0.95f;
    p.top_k = 40;
    cases.push_back({"T 0.7 + top-p 0.95 + top-k 40", p});
    p.min_p = 0.05f;
    cases.push_back({"  + min-p 0.05", p});
  }
  {
    SamplingParams p;
    p.temperature = 0.7f;
    p.top_p = 0.95f;
    cases.push_back({"T 0.7 + top-p 0.95 (no top-k)", p});
  }
  {
    SamplingParams p;
    p.temperature = 1.0f;
    p.want_logprobs = true;
    p.num_top_logprobs = 5;
    cases.push_back({"T 1 + logprobs, top_logprobs 5", p});
  }

  std::printf("vocab %d, %d iterations per case, tier %s\n", vocab, iters,
              cpu_tier_name(active_cpu_tier()));
  Sampler sampler;
  TokenHistory history;
  Rng rng(7);
  int64_t checksum = 0;  // keeps the calls observable
  for (const Case& c : cases) {
    for (int i = 0; i < 20; ++i)  // warm the sampler's buffers and the caches
      checksum += sampler.sample(logits[static_cast<size_t>(i % rows)], c.params, history, rng).token;
    std::vector<double> us;
    us.reserve(static_cast<size_t>(iters));
    for (int i = 0; i < iters; ++i) {
      const auto& row = logits[static_cast<size_t>(i % rows)];
      const auto t0 = Clock::now();
      checksum += sampler.sample(row, c.params, history, rng).token;
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    const Timing t{us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
    std::printf("%-34s median %8.1f us   p99 %8.1f us\n", c.name, t.median_us, t.p99_us);
  }
  std::printf("(checksum %lld)\n", static_cast<long long>(checksum));
  return 0;
}
