// agentserve bench: prompt and decode throughput of a model on this machine, next to the
// machine's measured memory read bandwidth (decode is bandwidth-bound).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "backend/cpu/memory_bandwidth.h"
#include "cli/bench_compute_reference.h"
#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/runtime.h"

namespace agentserve::cli {
namespace {

struct BenchArgs {
  RuntimeOptions runtime;
  int32_t prompt_tokens = 512;
  int32_t gen_tokens = 128;
  int32_t repeats = 3;
};

// Text for the synthetic prompt: code and prose, like an agent's context.
constexpr const char* kPromptText =
    "You are a coding agent. Read the repository and fix the failing test.\n"
    "```python\ndef merge_intervals(intervals):\n    intervals.sort(key=lambda x: x[0])\n"
    "    merged = []\n    for start, end in intervals:\n        if merged and start <= merged[-1][1]:\n"
    "            merged[-1][1] = max(merged[-1][1], end)\n        else:\n"
    "            merged.append([start, end])\n    return merged\n```\n"
    "The test expects overlapping intervals to be merged, and touching ones too. ";

struct Timing {
  double prefill_s = 0, decode_s = 0;
  int32_t generated = 0;
};

Result<Timing> run_once(Runtime& rt, const std::vector<int32_t>& prompt, int32_t gen) {
  GenerationRequest req = fixed_length_greedy_request(prompt, gen);
  Timing t;
  const auto start = std::chrono::steady_clock::now();
  auto first = start, last = start;
  auto finish = run_to_completion(*rt.engine, std::move(req), [&](const SampleResult&) {
    last = std::chrono::steady_clock::now();
    if (t.generated++ == 0) first = last;
  });
  if (!finish.ok()) return finish.take_error();
  t.prefill_s = std::chrono::duration<double>(first - start).count();
  t.decode_s = std::chrono::duration<double>(last - first).count();
  return t;
}

// Passes per probe between the best-of runs: the best of them is the probe's figure.
constexpr int kProbePasses = 16;
// GEMMs per compute reference (the best counts).
constexpr int kGemmRuns = 3;
// Decode tokens per window of the paired run, and probe passes after each window.
constexpr int kPairedWindow = 8;
constexpr int kPairedProbePasses = 2;

// One stretch of decode and the bandwidth measured on both sides of it.
struct PairedWindow {
  int32_t tokens = 0;
  double seconds = 0;
  double bandwidth_gbps = 0;  // mean of the probes before and after the window
};

// A decode run interrupted every kPairedWindow tokens (between engine steps) by a short
// bandwidth probe, so that each stretch of decode is compared with the bandwidth of the same
// second rather than with the best minute of the run. The probes' time is not decode time.
Result<std::vector<PairedWindow>> run_paired(Runtime& rt, cpu::ReadBandwidthProbe& probe,
                                             const std::vector<int32_t>& prompt, int32_t gen) {
  GenerationRequest req = fixed_length_greedy_request(prompt, gen);
  std::vector<PairedWindow> windows;
  using Clock = std::chrono::steady_clock;
  Clock::time_point window_start;
  double probe_before = 0;
  int32_t generated = 0, in_window = 0;
  auto finish = run_to_completion(*rt.engine, std::move(req), [&](const SampleResult&) {
    const auto now = Clock::now();
    if (generated++ > 0) ++in_window;
    // The first token ends the prefill; windows start there. A final window shorter than
    // kPairedWindow is dropped.
    if (generated > 1 && in_window < kPairedWindow) return;
    const double after = probe.best_of(kPairedProbePasses);
    if (generated > 1) {
      windows.push_back({in_window, std::chrono::duration<double>(now - window_start).count(),
                         (probe_before + after) / 2});
    }
    probe_before = after;
    in_window = 0;
    window_start = Clock::now();
  });
  if (!finish.ok()) return finish.take_error();
  return windows;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int run_bench(const BenchArgs& a) {
  RuntimeOptions ro = a.runtime;
  ro.ctx = std::max<int64_t>(ro.ctx, a.prompt_tokens + a.gen_tokens + 16);
  // Every run sends the same prompt: with the prefix cache on, runs after the first would reuse
  // its KV and time almost nothing. The bench measures computing it.
  ro.prefix_cache = false;
  auto loaded = load_runtime(ro);
  if (!loaded.ok()) return report_error("bench", loaded.error());
  Runtime& rt = **loaded;
  const ModelConfig& c = rt.model->config;

  std::vector<int32_t> prompt;
  while (static_cast<int32_t>(prompt.size()) < a.prompt_tokens)
    rt.tokenizer->encode_append(kPromptText, SpecialTokenMode::kAsText, &prompt);
  prompt.resize(static_cast<size_t>(a.prompt_tokens));

  // Warm-up: the first pass faults the weights in from the page cache or disk.
  std::fprintf(stderr, "warming up...\n");
  if (auto w = run_once(rt, prompt, 8); !w.ok()) return report_error("bench", w.error());
  // Bandwidth probes alternate with the timed runs: this machine's bandwidth moves with its
  // neighbours' load, so both figures are best-of over the same period.
  ThreadPool& pool = rt.backend->thread_pool();
  cpu::ReadBandwidthProbe probe(pool);
  // The compute ceilings likewise, before every run and after the last: each run's prompt
  // rate is compared with the mean of the ceilings measured on both sides of it.
  const cpu::MatmulPrecision precision = prefill_precision(ro);
  GemmReference gemm(pool, precision);
  InstructionPeak peak(pool, precision);
  const char* peak_name = peak.name();
  std::vector<double> probes, gemms, peaks;
  std::vector<Timing> runs;
  auto measure_references = [&] {
    probes.push_back(probe.best_of(kProbePasses));
    gemms.push_back(gemm.best_of(kGemmRuns));
    peaks.push_back(peak.best_of_three());
  };
  for (int r = 0; r < a.repeats; ++r) {
    std::fprintf(stderr, "run %d/%d: bandwidth and compute references, then %d + %d tokens...\n",
                 r + 1, a.repeats, a.prompt_tokens, a.gen_tokens);
    measure_references();
    auto t = run_once(rt, prompt, a.gen_tokens);
    if (!t.ok()) return report_error("bench", t.error());
    runs.push_back(*t);
  }
  measure_references();
  Timing best_prefill = runs[0], best_decode = runs[0];
  for (const Timing& t : runs) {
    if (t.prefill_s < best_prefill.prefill_s) best_prefill = t;
    if (t.generated > 1 && t.decode_s / (t.generated - 1) <
                               best_decode.decode_s / std::max(1, best_decode.generated - 1))
      best_decode = t;
  }
  const double bandwidth = *std::max_element(probes.begin(), probes.end());
  const double bandwidth_low = *std::min_element(probes.begin(), probes.end());
  // The paired run needs one whole window after the first token.
  std::vector<PairedWindow> paired;
  if (a.gen_tokens > kPairedWindow) {
    std::fprintf(stderr, "paired run: %d + %d tokens, a bandwidth probe after every %d...\n",
                 a.prompt_tokens, a.gen_tokens, kPairedWindow);
    auto windows = run_paired(rt, probe, prompt, a.gen_tokens);
    if (!windows.ok()) return report_error("bench", windows.error());
    paired = std::move(*windows);
  }

  // Bytes one decode step reads: every weight once (the embedding only one row) plus the KV
  // of the context so far.
  size_t weight_bytes = 0;
  for (const auto& [name, entry] : rt.model->store->all())
    if (name != "model.embed_tokens.weight" || c.tie_word_embeddings) weight_bytes += entry->view.num_bytes;
  const double kv_bytes_per_pos = static_cast<double>(rt.backend->kv_geometry().page_bytes()) /
                                  rt.backend->kv_geometry().page_size;
  const double mean_ctx = a.prompt_tokens + a.gen_tokens / 2.0;
  const double bytes_per_token = static_cast<double>(weight_bytes) + kv_bytes_per_pos * mean_ctx;
  const double decode_tps = (best_decode.generated - 1) / best_decode.decode_s;
  const double decode_gbps = bytes_per_token * decode_tps / 1e9;

  // FLOPs of the prompt: matmuls on every token, attention over the causal prefix, the LM
  // head on the last token only.
  const double linear = static_cast<double>(c.hidden_size) * (2 * c.q_dim() + 2 * c.kv_dim()) +
                        3.0 * c.hidden_size * c.intermediate_size;
  const double n = a.prompt_tokens;
  const double prompt_flops = 2.0 * n * linear * c.num_layers +
                              2.0 * n * (n + 1) * c.q_dim() * c.num_layers +
                              2.0 * c.vocab_size * c.hidden_size;
  const double prompt_tps = n / best_prefill.prefill_s;

  std::printf("agentserve bench: %s\n", rt.model_dir.c_str());
  std::printf("  model        %s, %.2fB parameters, %.2f GB of weights read per token\n",
              c.architecture.c_str(), static_cast<double>(c.num_parameters()) / 1e9,
              static_cast<double>(weight_bytes) / 1e9);
  std::printf("  backend      %s, prefill precision %s, KV %s\n", rt.backend->name().c_str(),
              ro.precision.c_str(), ro.kv_dtype.c_str());
  std::printf("  memory       %.1f GB/s read bandwidth (best of %zu probes between the runs, "
              "lowest %.1f; all threads)\n",
              bandwidth, probes.size(), bandwidth_low);
  std::printf("  prompt       %d tokens in %.3f s: %.1f tok/s, %.1f GFLOP/s\n", a.prompt_tokens,
              best_prefill.prefill_s, prompt_tps, prompt_flops / best_prefill.prefill_s / 1e9);
  std::vector<double> vs_gemm, vs_peak;
  for (size_t r = 0; r < runs.size(); ++r) {
    const double gflops = prompt_flops / runs[r].prefill_s / 1e9;
    vs_gemm.push_back(gflops / ((gemms[r] + gemms[r + 1]) / 2));
    if (peaks[r] > 0) vs_peak.push_back(gflops / ((peaks[r] + peaks[r + 1]) / 2));
  }
  std::printf("  compute      GEMM (%s, best of 2048^3 and 512x3072x1024) %.0f GFLOP/s best, %.0f lowest; %s peak %.0f GFLOP/s "
              "best, %.0f lowest (before every run and after the last)\n",
              matmul_precision_name(precision),
              *std::max_element(gemms.begin(), gemms.end()), *std::min_element(gemms.begin(), gemms.end()),
              peak_name, *std::max_element(peaks.begin(), peaks.end()),
              *std::min_element(peaks.begin(), peaks.end()));
  std::printf("  paired       prompt / GEMM of the same seconds: median %.0f%% (%.0f-%.0f%%)",
              100.0 * median_of(vs_gemm), 100.0 * *std::min_element(vs_gemm.begin(), vs_gemm.end()),
              100.0 * *std::max_element(vs_gemm.begin(), vs_gemm.end()));
  if (!vs_peak.empty()) std::printf("; prompt / %s peak: median %.0f%%", peak_name, 100.0 * median_of(vs_peak));
  std::printf(" over %zu runs\n", runs.size());
  std::printf("  decode       %d tokens: %.2f tok/s, %.1f GB/s = %.0f%% of measured bandwidth\n",
              best_decode.generated, decode_tps, decode_gbps, 100.0 * decode_gbps / bandwidth);
  std::printf("  (best of %d runs after a warm-up; %s)\n", a.repeats, cpu_tier_name(active_cpu_tier()));
  if (paired.empty()) {
    std::printf("  paired       decode / bandwidth: not measured (needs --gen-tokens > %d)\n", kPairedWindow);
    return 0;
  }
  std::vector<double> ratios, rates;
  for (const PairedWindow& w : paired) {
    const double tps = w.tokens / w.seconds;
    rates.push_back(tps);
    ratios.push_back(bytes_per_token * tps / 1e9 / w.bandwidth_gbps);
  }
  std::printf("  paired       decode / bandwidth of the same second: median %.0f%% (%.0f-%.0f%%) over "
              "%zu windows of %d tokens; decode median %.2f tok/s\n",
              100.0 * median_of(ratios), 100.0 * *std::min_element(ratios.begin(), ratios.end()),
              100.0 * *std::max_element(ratios.begin(), ratios.end()), ratios.size(), kPairedWindow,
              median_of(rates));
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "Measure prompt and decode throughput on this machine");
  auto a = std::make_shared<BenchArgs>();
  add_runtime_options(cmd, &a->runtime);
  cmd->add_option("--prompt-tokens", a->prompt_tokens, "Prompt length")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--gen-tokens", a->gen_tokens, "Tokens to decode")
      ->check(CLI::Range(2, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--repeats", a->repeats, "Timed runs (best is reported)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  cmd->callback([a, exit_code] { *exit_code = run_bench(*a); });
}

}  // namespace agentserve::cli
