// What generate, bench and (later) serve set up the same way: a model directory loaded, its
// tokenizer, a CPU backend and the engine, from common command-line options.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backend/cpu/cpu_backend.h"
#include "base/error.h"
#include "engine/engine.h"
#include "model/weights.h"
#include "text/tokenizer/tokenizer.h"

namespace CLI {
class App;
}

namespace agentserve::cli {

struct RuntimeOptions {
  std::string model;            // "" = the default test model
  int32_t threads = 0;
  int64_t ctx = 0;              // KV cache capacity and longest request, in tokens; 0: choose
                                // (engine/context_size.h)
  std::string kv_dtype = "bf16";
  std::string precision = "bf16";  // prefill matmul precision: f32, bf16, bf16x2
  int32_t batch_tokens = 512;
  int32_t parallel = 16;        // sequences computed at once
  bool prefix_cache = true;     // reuse cached prompt prefixes (off: measure what it saves)
  // KV tiers below the pool (kv/kv_tiers.h). RAM: < 0 picks 25% of physical memory, at most
  // 32 GiB; 0 disables. Disk: per model, under kv_cache_dir (default <user cache dir>/kv).
  double kv_cache_ram_gib = -1;
  std::string kv_cache_dir;
  double kv_cache_disk_gib = 20;
  // > 0: compute threads run this many nice levels below normal (serve: the I/O thread first).
  int32_t compute_nice = 0;
  // Engine: a step's token events wake their consumers in groups of at most this span
  // (EngineOptions::handover_window; serve --handover-us).
  int32_t handover_window_us = static_cast<int32_t>(EngineOptions{}.handover_window.count());
};

// Adds --model, --threads, --ctx, --kv-dtype, --precision, --batch-tokens, --no-prefix-cache,
// --kv-cache-ram, --kv-cache-dir, --kv-cache-disk to `cmd`.
void add_runtime_options(CLI::App* cmd, RuntimeOptions* options);

struct Runtime {
  std::string model_dir;
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<CpuBackend> backend;
  std::unique_ptr<Engine> engine;
  std::vector<int32_t> stop_token_ids;  // eos ids of config, generation config and tokenizer
};

// The prefill matmul precision --precision names.
cpu::MatmulPrecision prefill_precision(const RuntimeOptions& options);

// Loads everything and prints what was loaded (model, backend, memory) to the log.
Result<std::unique_ptr<Runtime>> load_runtime(const RuntimeOptions& options);

// Submits `request` and steps the engine on this thread until the request finishes, calling
// on_token for each generated token as it arrives. Returns the finish event; a request the
// engine rejected (kError) comes back as an error.
Result<EngineEvent> run_to_completion(Engine& engine, GenerationRequest request,
                                      const std::function<void(const SampleResult&)>& on_token);

}  // namespace agentserve::cli
