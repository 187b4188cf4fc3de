#include "cli/runtime.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "base/log.h"
#include "base/paths.h"
#include "base/progress.h"
#include "cli/model_arg.h"
#include "engine/context_size.h"
#include "engine/model_fingerprint.h"

namespace agentserve::cli {

namespace {
// "25" for 0.25: the help texts quote the defaults' shares from their constants.
std::string percent(double share) { return std::to_string(static_cast<int>(share * 100 + 0.5)); }
}  // namespace

void add_runtime_options(CLI::App* cmd, RuntimeOptions* o) {
  cmd->add_option("--model", o->model,
                  "Hugging Face model directory (default: a small Qwen3-shaped test model, made "
                  "on first use in ~/.cache/agentserve)");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all available)");
  cmd->add_option("--ctx", o->ctx,
                  "Context in tokens: the longest request, and the KV cache's capacity shared by "
                  "all requests (default: the model's maximum, as far as its KV cache fits " +
                      percent(kDefaultKvRamShare) +
                      "% of the RAM the weights leave)");
  cmd->add_option("--kv-dtype", o->kv_dtype, "KV cache element type")
      ->check(CLI::IsMember({"bf16", "f32"}))
      ->capture_default_str();
  cmd->add_option("--precision", o->precision,
                  "Prefill matmul activations: bf16 (fast), bf16x2 (split, ~f32 accuracy), f32")
      ->check(CLI::IsMember({"bf16", "bf16x2", "f32"}))
      ->capture_default_str();
  cmd->add_option("--batch-tokens", o->batch_tokens, "Tokens per engine step (prefill chunk)")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  cmd->add_flag("!--no-prefix-cache", o->prefix_cache,
                "Recompute every prompt instead of reusing the KV of cached prefixes");
  cmd->add_option("--kv-cache-ram", o->kv_cache_ram_gib,
                  "GiB of host RAM for KV pages evicted from the pool (default: " +
                      percent(kDefaultRamTierShare) +
                      "% of RAM, at most 32, less where the weights and the KV pool would take "
                      "the total past " +
                      percent(kDefaultMemoryShare) +
                      "% of RAM; 0: off)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv-cache-dir", o->kv_cache_dir,
                  "Directory of the persistent KV cache (default: <cache dir>/kv; one "
                  "subdirectory per model)");
  cmd->add_option("--kv-cache-disk", o->kv_cache_disk_gib,
                  "GiB of disk for KV pages, all models' together (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

namespace {

int64_t physical_ram_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

}  // namespace

cpu::MatmulPrecision prefill_precision(const RuntimeOptions& o) {
  return o.precision == "f32"      ? cpu::MatmulPrecision::kF32
         : o.precision == "bf16x2" ? cpu::MatmulPrecision::kBf16Split
                                   : cpu::MatmulPrecision::kBf16;
}

Result<std::unique_ptr<Runtime>> load_runtime(const RuntimeOptions& o) {
  auto rt = std::make_unique<Runtime>();
  AS_ASSIGN_OR_RETURN(rt->model_dir, resolve_model_dir(o.model));
  const auto t0 = std::chrono::steady_clock::now();
  AS_ASSIGN_OR_RETURN(rt->model, load_model(rt->model_dir));
  {
    // Read the weights in now, with progress, rather than stalling the first request.
    Progress progress("reading weights", rt->model->store->total_bytes());
    uint64_t done = 0;
    constexpr size_t kChunk = 256u << 20;
    for (const auto& file : rt->model->store->files()) {
      const MappedFile& m = file->mapped();
      for (size_t off = 0; off < m.size(); off += kChunk) {
        done += m.populate(off, kChunk);
        progress.update(std::min<uint64_t>(done, rt->model->store->total_bytes()));
      }
    }
    progress.finish();
  }
  AS_ASSIGN_OR_RETURN(rt->tokenizer, Tokenizer::load_from_model_dir(rt->model_dir));
  const ModelConfig& c = rt->model->config;
  if (rt->tokenizer->vocab_size() > c.vocab_size)
    return make_error(ErrorKind::kFormat,
                      rt->model_dir + ": the tokenizer has " +
                          std::to_string(rt->tokenizer->vocab_size()) +
                          " tokens but config.json's vocab_size is " + std::to_string(c.vocab_size));

  CpuBackendOptions bo;
  bo.num_threads = o.threads;
  bo.nice_increment = o.compute_nice;
  bo.kv_dtype = o.kv_dtype == "f32" ? DType::kF32 : DType::kBF16;
  ContextSizeInputs ci;
  ci.requested = o.ctx;
  ci.model_max = c.max_position_embeddings;
  KvGeometry one_position;  // the backend's layout, one position per page
  one_position.page_size = 1;
  one_position.num_layers = static_cast<int32_t>(c.num_layers);
  one_position.num_kv_heads = static_cast<int32_t>(c.num_kv_heads);
  one_position.head_dim = static_cast<int32_t>(c.head_dim);
  one_position.dtype = bo.kv_dtype;
  ci.kv_bytes_per_token = static_cast<int64_t>(one_position.page_bytes());
  ci.weight_bytes = static_cast<int64_t>(rt->model->store->total_bytes());
  ci.ram_bytes = physical_ram_bytes();
  ci.page_size = bo.page_size;
  const ContextSize context = choose_context_size(ci);
  bo.kv_cache_tokens = context.tokens;
  bo.prefill_precision = prefill_precision(o);
  AS_ASSIGN_OR_RETURN(rt->backend, CpuBackend::create(*rt->model, bo));

  rt->stop_token_ids = c.eos_token_ids;
  if (auto eos = rt->tokenizer->eos_token_id(); eos.has_value() &&
      std::find(rt->stop_token_ids.begin(), rt->stop_token_ids.end(), *eos) == rt->stop_token_ids.end())
    rt->stop_token_ids.push_back(*eos);

  EngineOptions eo;
  eo.max_batch_tokens = o.batch_tokens;
  eo.max_running = o.parallel;
  eo.prefix_cache = o.prefix_cache;
  eo.nice_increment = o.compute_nice;
  eo.handover_window = std::chrono::microseconds(o.handover_window_us);
  eo.max_context = static_cast<int32_t>(std::min<int64_t>(context.tokens, c.max_position_embeddings));
  const KvGeometry& kv = rt->backend->kv_geometry();
  AS_ASSIGN_OR_RETURN(eo.model_fingerprint, compute_model_fingerprint(*rt->model, kv.dtype, kv.page_size));
  if (o.kv_cache_ram_gib < 0) {
    const RamTierSize tier = choose_ram_tier_size(physical_ram_bytes(), ci.weight_bytes,
                                                  static_cast<int64_t>(rt->backend->kv_pool_bytes()));
    eo.kv_tiers.ram_bytes = tier.bytes;
    if (!tier.why.empty())
      AS_LOG_INFO("KV RAM tier {:.1f} GiB: {} (--kv-cache-ram sets it)",
                  static_cast<double>(tier.bytes) / (1ll << 30), tier.why);
  } else {
    eo.kv_tiers.ram_bytes = static_cast<int64_t>(o.kv_cache_ram_gib * (1ll << 30));
  }
  eo.kv_tiers.disk_bytes = static_cast<int64_t>(o.kv_cache_disk_gib * (1ll << 30));
  eo.kv_tiers.disk_dir = o.kv_cache_dir.empty() ? user_cache_dir() + "/kv" : o.kv_cache_dir;
  rt->engine = std::make_unique<Engine>(rt->backend.get(), eo);

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  AS_LOG_INFO("model {} ({}, {} layers, hidden {}, {:.2f} GB of weights, {:.2f}B parameters) "
              "loaded in {:.2f} s",
              rt->model_dir, c.architecture, c.num_layers, c.hidden_size,
              static_cast<double>(rt->model->store->total_bytes()) / 1e9,
              static_cast<double>(c.num_parameters()) / 1e9, secs);
  AS_LOG_INFO("backend {}; KV cache {} tokens ({} pages of {}, {}, {:.2f} GB, allocated as used); "
              "context {} tokens ({})",
              rt->backend->name(), rt->backend->kv_geometry().num_pages * rt->backend->kv_geometry().page_size,
              rt->backend->kv_geometry().num_pages, rt->backend->kv_geometry().page_size, o.kv_dtype,
              static_cast<double>(rt->backend->kv_pool_bytes()) / 1e9, rt->engine->max_context(),
              context.why);
  return rt;
}

Result<EngineEvent> run_to_completion(Engine& engine, GenerationRequest request,
                                      const std::function<void(const SampleResult&)>& on_token) {
  auto events = request.events;
  engine.submit(std::move(request));
  while (true) {
    const bool busy = engine.step();
    while (auto e = events->try_pop()) {
      if (e->kind == EngineEvent::Kind::kToken) {
        on_token(e->sample);
        continue;
      }
      if (e->reason == FinishReason::kError) return make_error(ErrorKind::kInvalidArgument, e->error);
      return std::move(*e);
    }
    if (!busy) return make_error(ErrorKind::kInternal, "the engine went idle before the request finished");
  }
}

}  // namespace agentserve::cli
