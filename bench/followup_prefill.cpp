// Issue 5's TTFT target measured in-process, without HTTP and without a fitted model: a
// follow-up turn whose first C tokens are cached (its engine computes only the N new ones)
// against the same N tokens inside a full prefill of the same C + N tokens on an engine without
// the cache (only the steps whose chunk lies past C are timed; C is a multiple of the chunk).
// The two alternate within seconds, so both see the same host speed.
//
//   bench_followup_prefill --model DIR [--context 32768] [--new 1024] [--repeats 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "engine/model_fingerprint.h"
#include "engine/request.h"
#include "engine_bench_support.h"
#include "model/weights.h"

namespace as = agentserve;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int32_t kChunk = 512;  // EngineOptions::max_batch_tokens, the server's default

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Steps the engine until the request's first token; returns each step's duration.
std::vector<double> run_steps(as::Engine& engine, as::GenerationRequest request, int32_t* cached) {
  auto events = request.events;
  engine.submit(std::move(request));
  std::vector<double> steps;
  bool first = false;
  while (!first) {
    const auto t0 = Clock::now();
    engine.step();
    steps.push_back(ms(Clock::now() - t0));
    while (auto e = events->try_pop()) {
      if (e->kind == as::EngineEvent::Kind::kToken) first = true;
      if (e->kind == as::EngineEvent::Kind::kFinish) *cached = e->usage.cached_prompt_tokens;
    }
  }
  while (engine.step()) {  // the finish
  }
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir;
  int32_t context = 32768, fresh = 1024, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model"))
      model_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--context"))
      context = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--new"))
      fresh = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::atoi(argv[i + 1]);
  }
  if (model_dir.empty() || context % kChunk != 0) {
    std::fprintf(stderr,
                 "usage: %s --model DIR [--context C, a multiple of %d] [--new N] [--repeats R]\n",
                 argv[0], kChunk);
    return 2;
  }
  auto model = as::bench::load_model_or_report(model_dir);
  if (model == nullptr) return 1;
  as::CpuBackendOptions bo;
  bo.kv_cache_tokens = static_cast<int64_t>(context + fresh) * (repeats + 2) + 4096;
  auto fp = as::compute_model_fingerprint(*model, bo.kv_dtype, bo.page_size);
  auto on_backend = as::CpuBackend::create(*model, bo);
  bo.kv_cache_tokens = context + fresh + 4096;
  auto off_backend = as::CpuBackend::create(*model, bo);
  if (!fp.ok() || !on_backend.ok() || !off_backend.ok()) return 1;
  as::EngineOptions eo;
  eo.max_batch_tokens = kChunk;
  eo.model_fingerprint = *fp;
  as::Engine cached(on_backend->get(), eo);  // RAM/disk tiers off: the pool holds it all
  eo.prefix_cache = false;
  as::Engine full(off_backend->get(), eo);

  std::mt19937 rng(7);
  auto random_tokens = [&](int32_t n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = static_cast<int32_t>(rng() % 150000);
    return t;
  };
  const std::vector<int32_t> prefix = random_tokens(context);
  int32_t cached_tokens = 0;
  run_steps(cached, as::fixed_length_greedy_request(prefix, 1),
            &cached_tokens);  // the earlier turn: now cached

  std::printf("context %d cached + %d new tokens, chunks of %d\n", context, fresh, kChunk);
  std::printf(
      "| repeat | follow-up (cached prefix) | same tokens in a full prefill | ratio | cached "
      "tokens |\n"
      "|---|---|---|---|---|\n");
  std::vector<double> ratios;
  for (int r = 0; r < repeats; ++r) {
    std::vector<int32_t> prompt = prefix;
    const std::vector<int32_t> more = random_tokens(fresh);
    prompt.insert(prompt.end(), more.begin(), more.end());
    const std::vector<double> on =
        run_steps(cached, as::fixed_length_greedy_request(prompt, 1), &cached_tokens);
    const int32_t reused = cached_tokens;
    int32_t ignored = 0;
    const std::vector<double> off =
        run_steps(full, as::fixed_length_greedy_request(prompt, 1), &ignored);
    // The full prefill's steps past `context`: chunk k covers [k * 512, (k + 1) * 512).
    double off_new = 0;
    for (size_t k = static_cast<size_t>(context / kChunk); k < off.size(); ++k) off_new += off[k];
    double on_total = 0;
    for (double s : on) on_total += s;
    ratios.push_back(on_total / off_new);
    std::printf("| %d | %.1f ms | %.1f ms | %.2f | %d |\n", r, on_total, off_new,
                on_total / off_new, reused);
    std::fflush(stdout);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("ratio median %.2f, min %.2f, max %.2f\n", ratios[ratios.size() / 2], ratios.front(),
              ratios.back());
  return 0;
}
