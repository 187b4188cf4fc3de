// agentserve bench-batch: N sequences decoded together with no server, as `serve` runs its
// engine (own thread, compute threads lowered by the same nice levels), and nothing reading
// the tokens until the batch is done. The reference that bench/http_overhead.mjs sets the
// engine time of the same batch served over HTTP against: the difference is what the server
// costs decoding.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/runtime.h"

namespace agentserve::cli {
namespace {

struct BenchBatchArgs {
  RuntimeOptions runtime;
  int32_t streams = 64;
  int32_t tokens = 512;
  int32_t prompt_tokens = 23;  // what bench/http_load.mjs's chat prompts come to on Qwen3
  float temperature = 0;
};

// Engine gauges at one moment.
struct EngineClock {
  int64_t busy_micros = 0, forward_micros = 0, steps = 0;
  static EngineClock read(const Engine& e) {
    return {e.gauges().busy_micros.load(), e.gauges().forward_micros.load(), e.gauges().steps.load()};
  }
};

// Requests of `tokens` tokens each (stop tokens ignored), seeded per stream like http_load's.
std::vector<GenerationRequest> make_batch(const Runtime& rt, int32_t streams, int32_t prompt_tokens,
                                          int32_t tokens, float temperature, int32_t seed_base) {
  std::vector<GenerationRequest> batch;
  for (int32_t i = 0; i < streams; ++i) {
    GenerationRequest r;
    r.id = static_cast<uint64_t>(seed_base + i);
    const std::string text = "Request " + std::to_string(seed_base + i) + ": write a long story about the sea. ";
    while (static_cast<int32_t>(r.prompt.size()) < prompt_tokens)
      rt.tokenizer->encode_append(text, SpecialTokenMode::kAsText, &r.prompt);
    r.prompt.resize(static_cast<size_t>(prompt_tokens));
    r.sampling.temperature = temperature;
    r.sampling.seed = static_cast<uint64_t>(seed_base + i);
    r.sampling.has_seed = true;
    r.stop.max_new_tokens = tokens;
    r.stop.stop_token_ids = rt.stop_token_ids;
    r.stop.ignore_stop_tokens = true;
    batch.push_back(std::move(r));
  }
  return batch;
}

// The engine's clock at the two ends of the steady window: from when every sequence has
// its first token (all prefills done) to the first finish, every step decodes all of them.
struct SteadyWindow {
  EngineClock start, end;
  bool complete = false;
};

// Submits the batch to the running engine and waits for every request's finish event. The
// channels are looked at every 20 ms from this thread with try_pop (no notify hook, no
// blocking pop), so the engine never wakes a reader and never yields to one: decoding alone.
// Returns the tokens generated, or -1 if a request failed or ended before `tokens`.
int64_t run_batch(Engine& engine, std::vector<GenerationRequest> batch, int32_t tokens,
                  SteadyWindow* window = nullptr) {
  std::vector<std::shared_ptr<EventChannel>> channels;
  for (const GenerationRequest& r : batch) channels.push_back(r.events);
  engine.submit_all(std::move(batch));
  int64_t generated = 0;
  size_t finished = 0, decoding = 0;
  std::vector<bool> done(channels.size(), false), started(channels.size(), false);
  bool window_open = false;
  while (finished < channels.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const size_t finished_before = finished;
    for (size_t i = 0; i < channels.size(); ++i) {
      while (!done[i]) {
        auto e = channels[i]->try_pop();
        if (!e) break;
        if (e->kind == EngineEvent::Kind::kToken) {
          ++generated;
          if (!started[i]) {
            started[i] = true;
            ++decoding;
          }
          continue;
        }
        if (e->reason == FinishReason::kError) {
          std::fprintf(stderr, "bench-batch: request %zu failed: %s\n", i, e->error.c_str());
          return -1;
        }
        // A sequence cut short (its context full) would leave the figures about a smaller batch.
        if (e->usage.completion_tokens != tokens) {
          std::fprintf(stderr, "bench-batch: request %zu ended after %d of %d tokens (%s): raise --ctx\n", i,
                       e->usage.completion_tokens, tokens, finish_reason_name(e->reason));
          return -1;
        }
        done[i] = true;
        ++finished;
      }
    }
    if (window == nullptr) continue;
    if (finished > 0 && finished_before == 0 && window_open) {
      window->end = EngineClock::read(engine);
      window->complete = true;
    }
    if (!window_open && finished == 0 && decoding == channels.size()) {
      window->start = EngineClock::read(engine);
      window_open = true;
    }
  }
  return generated;
}

int run_bench_batch(BenchBatchArgs a) {
  a.runtime.compute_nice = 5;  // as serve runs its engine
  a.runtime.parallel = a.streams;
  auto loaded = load_runtime(a.runtime);
  if (!loaded.ok()) return report_error("bench-batch", loaded.error());
  Runtime& rt = **loaded;
  Engine& engine = *rt.engine;
  engine.start();
  // Warm-up as http_load's: first allocations and page faults.
  if (run_batch(engine, make_batch(rt, std::min(8, a.streams), a.prompt_tokens, 8, a.temperature, 0), 8) < 0)
    return 1;
  const EngineClock before = EngineClock::read(engine);
  const auto t0 = std::chrono::steady_clock::now();
  SteadyWindow steady;
  const int64_t generated =
      run_batch(engine, make_batch(rt, a.streams, a.prompt_tokens, a.tokens, a.temperature, 1000), a.tokens,
                &steady);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const EngineClock after = EngineClock::read(engine);
  engine.stop();
  if (generated < 0) return 1;
  const double busy = static_cast<double>(after.busy_micros - before.busy_micros) / 1e6;
  const double forward = static_cast<double>(after.forward_micros - before.forward_micros) / 1e6;
  const int64_t steps = after.steps - before.steps;
  const auto per = [](double a, int64_t b) { return b > 0 ? a / static_cast<double>(b) : 0.0; };
  nlohmann::ordered_json out = {
      {"streams", a.streams}, {"tokens_per_stream", a.tokens}, {"prompt_tokens", a.prompt_tokens},
      {"temperature", a.temperature}, {"generated_tokens", generated}, {"engine_steps", steps},
      {"engine_busy_s", busy}, {"engine_forward_s", forward}, {"engine_ms_per_step", 1000 * per(busy, steps)},
      {"tokens_per_step", per(static_cast<double>(generated), steps)},
      {"engine_us_per_token", 1e6 * per(busy, generated)}, {"wall_s", wall}, {"steady_steps", nullptr}};
  // In the steady window every step made `streams` tokens.
  if (const int64_t n = steady.complete ? steady.end.steps - steady.start.steps : 0; n > 0) {
    const double b = static_cast<double>(steady.end.busy_micros - steady.start.busy_micros) / 1e6;
    const double f = static_cast<double>(steady.end.forward_micros - steady.start.forward_micros) / 1e6;
    out["steady_steps"] = n;
    out["steady_engine_ms_per_step"] = 1000 * per(b, n);
    out["steady_engine_us_per_token"] = 1e6 * per(b, n * a.streams);
    // The two parts of a step: forward passes, and the rest (sampling, handing tokens over).
    out["steady_forward_us_per_token"] = 1e6 * per(f, n * a.streams);
    out["steady_rest_us_per_token"] = 1e6 * per(b - f, n * a.streams);
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void add_bench_batch_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "bench-batch",
      "Decode a batch of sequences together with no server: the in-process reference for the "
      "HTTP overhead benchmark (bench/http_overhead.mjs)");
  auto args = std::make_shared<BenchBatchArgs>();
  add_runtime_options(cmd, &args->runtime);
  cmd->add_option("--streams", args->streams, "Sequences decoded together")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--tokens", args->tokens, "Tokens each sequence decodes (stop tokens ignored)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--prompt-tokens", args->prompt_tokens, "Prompt length of each sequence")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "0: greedy; else sampled, seeded per sequence")
      ->check(CLI::Range(0.0, 2.0))
      ->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = run_bench_batch(*args); });
}

}  // namespace agentserve::cli
