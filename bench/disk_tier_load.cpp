// What a prefix on disk costs a running stream (issue 5: the disk tier must not stall other
// streams). A request whose N-token prefix was computed before a restart comes back from the
// disk tier while another stream is decoding; the disk pages are read either ahead on the
// prefetcher's thread (the default) or on the engine thread inside the admitting step (the
// reference, `KvTierOptions::disk_read_ahead = false`), alternating, same data, same run.
// Reported per run: the request's TTFT and cached tokens, the tokens the stream produced while
// the request waited for its first token, and the stream's longest gap between two tokens in
// that window against its median gap before the request arrived.
//
//   bench_disk_tier_load --model DIR [--prompt-tokens 8192] [--repeats 2] [--drop-caches]
//
// --drop-caches (root) empties the OS page cache before each run, so that pages really come
// from the disk rather than from memory.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

struct RunResult {
  double ttft_ms = 0, stream_median_gap_ms = 0, stream_max_gap_ms = 0;
  int stream_tokens_during = 0;
  int32_t cached = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir;
  int32_t prompt_tokens = 8192;
  int repeats = 2;
  bool drop_caches = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
      model_dir = argv[++i];
    else if (!std::strcmp(argv[i], "--prompt-tokens") && i + 1 < argc)
      prompt_tokens = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc)
      repeats = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--drop-caches"))
      drop_caches = true;
    else {
      std::fprintf(stderr,
                   "usage: %s --model DIR [--prompt-tokens N] [--repeats N] [--drop-caches]\n",
                   argv[0]);
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "--model DIR is required\n");
    return 2;
  }
  auto model = as::bench::load_model_or_report(model_dir);
  if (model == nullptr) return 1;
  as::CpuBackendOptions bo;
  bo.kv_cache_tokens = prompt_tokens + 4096;
  auto fp = as::compute_model_fingerprint(*model, bo.kv_dtype, bo.page_size);
  if (!fp.ok()) return 1;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("as_bench_disk_load_" + std::to_string(::getpid())))
                              .string();
  auto options = [&](bool read_ahead) {
    as::EngineOptions eo;
    eo.model_fingerprint = *fp;
    eo.kv_tiers.ram_bytes = 0;  // a restart: nothing in RAM
    eo.kv_tiers.disk_dir = dir;
    eo.kv_tiers.disk_bytes = 64ll << 30;
    eo.kv_tiers.disk_load = as::DiskLoadPolicy::kAlways;
    eo.kv_tiers.disk_read_ahead = read_ahead;
    eo.kv_tiers.progress = false;
    return eo;
  };
  std::mt19937 rng(1);
  std::vector<int32_t> prefix(static_cast<size_t>(prompt_tokens));
  for (auto& t : prefix) t = static_cast<int32_t>(rng() % 150000);

  size_t page_bytes = 0;
  {  // The first server's life: compute the prefix; every page is written through to disk.
    auto backend = as::CpuBackend::create(*model, bo);
    if (!backend.ok()) return 1;
    page_bytes = (*backend)->kv_geometry().page_bytes();
    as::Engine engine(backend->get(), options(true));
    const auto t0 = Clock::now();
    engine.submit(as::fixed_length_greedy_request(prefix, 1));
    engine.run_until_idle();
    engine.kv_tiers()->flush();
    std::printf("prefix: %d tokens, %zu pages of %zu KB (%.1f MB of KV), computed in %.0f ms\n",
                prompt_tokens, prefix.size() / 16, page_bytes >> 10,
                static_cast<double>(prefix.size() / 16 * page_bytes) / 1e6, ms(Clock::now() - t0));
  }

  std::printf(
      "\n| KV pages read | TTFT | cached tokens | stream tokens before the first token | "
      "stream gap median before / max during |\n|---|---|---|---|---|\n");
  for (int rep = 0; rep < repeats; ++rep) {
    for (const bool read_ahead : {true, false}) {
      if (drop_caches) {
        ::sync();
        std::ofstream("/proc/sys/vm/drop_caches") << "3\n";
      }
      auto backend = as::CpuBackend::create(*model, bo);
      if (!backend.ok()) return 1;
      as::Engine engine(backend->get(), options(read_ahead));  // the restarted server
      std::vector<int32_t> stream_prompt(16);
      for (auto& t : stream_prompt) t = static_cast<int32_t>(rng() % 150000);
      as::GenerationRequest stream = as::fixed_length_greedy_request(stream_prompt, 4000);
      auto stream_events = stream.events;
      engine.submit(std::move(stream));
      std::vector<Clock::time_point> stream_times;
      auto drain_stream = [&] {
        while (auto e = stream_events->try_pop())
          if (e->kind == as::EngineEvent::Kind::kToken) stream_times.push_back(Clock::now());
      };
      while (stream_times.size() < 20) {
        engine.step();
        drain_stream();
      }
      std::vector<double> before_gaps;
      for (size_t i = 1; i < stream_times.size(); ++i)
        before_gaps.push_back(ms(stream_times[i] - stream_times[i - 1]));
      std::sort(before_gaps.begin(), before_gaps.end());

      // The follow-up: the prefix and 16 new tokens.
      std::vector<int32_t> follow = prefix;
      for (int i = 0; i < 16; ++i) follow.push_back(static_cast<int32_t>(rng() % 150000));
      as::GenerationRequest req = as::fixed_length_greedy_request(follow, 1);
      auto req_events = req.events;
      const size_t stream_before = stream_times.size();
      const auto submitted = Clock::now();
      engine.submit(std::move(req));
      RunResult r;
      Clock::time_point first_token{};
      while (first_token == Clock::time_point{}) {
        engine.step();
        drain_stream();
        while (auto e = req_events->try_pop()) {
          if (e->kind == as::EngineEvent::Kind::kToken) first_token = Clock::now();
          if (e->kind == as::EngineEvent::Kind::kFinish) r.cached = e->usage.cached_prompt_tokens;
        }
      }
      r.ttft_ms = ms(first_token - submitted);
      r.stream_tokens_during = static_cast<int>(stream_times.size() - stream_before);
      // The gap that spans the request's arrival counts from the arrival.
      Clock::time_point prev = submitted;
      for (size_t i = stream_before; i < stream_times.size(); ++i) {
        r.stream_max_gap_ms = std::max(r.stream_max_gap_ms, ms(stream_times[i] - prev));
        prev = stream_times[i];
      }
      r.stream_max_gap_ms = std::max(r.stream_max_gap_ms, ms(first_token - prev));
      r.stream_median_gap_ms = before_gaps[before_gaps.size() / 2];
      engine.stop();
      std::printf("| %s | %.0f ms | %d | %d | %.1f / %.0f ms |\n",
                  read_ahead ? "ahead (prefetcher thread)" : "on the engine thread (reference)",
                  r.ttft_ms, r.cached, r.stream_tokens_during, r.stream_median_gap_ms,
                  r.stream_max_gap_ms);
      std::fflush(stdout);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
