// The engine loop: schedule → forward → sample → emit, one mixed batch per step. It runs on
// its own thread (start/stop) for the server, or is stepped by the caller (CLI, benchmarks,
// tests). Submission is thread-safe; everything else happens on the engine's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "engine/request.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "kv/kv_tiers.h"
#include "kv/page_pool.h"
#include "kv/radix_cache.h"

namespace agentserve {

struct EngineOptions {
  int32_t max_batch_tokens = 512;
  int32_t max_running = 16;
  int32_t max_context = 0;        // 0: the KV pool's capacity (and never more than it)
  bool check_integrity = false;   // run the scheduler's integrity check after every step
  // Reuse the KV of cached prompt prefixes across requests (kv/radix_cache.h). Off only to
  // measure what it saves.
  bool prefix_cache = true;
  // Seeds the cache's chain hashes: identifies the model and KV layout the pages belong to
  // (matters once pages outlive the process in the RAM/disk tiers).
  Hash128 model_fingerprint{};
  // The host-RAM and disk tiers below the pool (kv/kv_tiers.h); used only with prefix_cache.
  KvTierOptions kv_tiers{};
  // > 0: the engine thread (started by start()) runs below normal priority, so the server's I/O
  // thread preempts it to stream tokens (base/thread_priority.h).
  int32_t nice_increment = 0;
  // A step's token events wake their consumers in groups spanning at most this long (the
  // first token of a group waits that much more; engine/handover_group.h). 0: each at once.
  std::chrono::microseconds handover_window{100};
};

// Read from any thread (metrics), written by the engine thread after every step.
struct EngineGauges {
  std::atomic<int64_t> waiting{0};
  std::atomic<int64_t> running{0};
  std::atomic<int64_t> kv_pages_used{0};
  std::atomic<int64_t> kv_pages_total{0};
  // Time the engine thread spent computing steps (forward pass and sampling), and the steps:
  // the denominator of the server's per-token overhead (bench/http_load.mjs).
  std::atomic<int64_t> busy_micros{0};
  std::atomic<int64_t> steps{0};
  // The forward passes' part of busy_micros; the rest is sampling and handing tokens to their
  // consumers, the part of a step the engine thread runs alone (and where a server's wake-ups
  // of its I/O threads land).
  std::atomic<int64_t> forward_micros{0};
  // Prefix cache (zero when it is off): pages it holds (some also used by running requests),
  // distinct cached prefixes, and per-request lookups, hits and prompt tokens reused.
  std::atomic<int64_t> prefix_cache_pages{0};
  std::atomic<int64_t> prefix_cache_entries{0};
  std::atomic<int64_t> prefix_cache_lookups{0};
  std::atomic<int64_t> prefix_cache_hits{0};
  std::atomic<int64_t> prefix_cache_matched_tokens{0};
};

// What Engine::request_cache_clear() dropped.
struct CacheClearResult {
  int64_t pages_freed = 0;    // pages returned to the pool
  int64_t pages_kept = 0;     // still cached: a running request uses them
  int64_t entries_kept = 0;
  int64_t ram_pages_freed = 0;   // pages the RAM tier forgot
  int64_t disk_pages_freed = 0;  // page records deleted from the disk tier
};

// A snapshot of the KV cache for /metrics and /v1/cache (Engine::cache_stats, any thread).
// `pool` is the prefix cache's part of the KV pool: pages the radix tree holds (some also in
// use by running requests), its capacity the whole pool; its hits and lookups count requests
// (a hit reused at least one page, from any tier). `ram` and `disk` count pages: a lookup is a
// page the tiers above did not have, a hit one this tier supplied. All zero for a tier that is
// off.
struct CacheStats {
  TierStats pool;
  TierStats ram;
  TierStats disk;
  int64_t entries = 0;          // distinct cached prefixes (radix tree leaves)
  int64_t reused_tokens = 0;    // prompt tokens whose KV came from the cache, since start
  int64_t page_bytes = 0;       // bytes of one KV page
  std::string disk_dir;         // where the disk tier keeps this model's pages; "" when off
};

struct EngineStats {
  uint64_t steps = 0;
  uint64_t prompt_tokens_computed = 0;
  uint64_t decode_tokens_computed = 0;
  uint64_t requests_finished = 0;
};

class Engine {
 public:
  Engine(Backend* backend, EngineOptions options);
  ~Engine();

  // Validates and queues a request. Problems with the request itself (empty prompt, prompt
  // longer than the context) arrive as a kError finish event on its channel.
  void submit(GenerationRequest request);
  // Several requests at once: the engine sees all of them at its next step, never a part.
  void submit_all(std::vector<GenerationRequest> requests);

  void start();  // runs the loop on a new thread until stop()
  void stop();

  // Caller-driven use: one step; returns false when there was nothing to do. When the only
  // work is waiting for disk-tier reads, it sleeps until one lands (or a request arrives).
  bool step();
  void run_until_idle();

  int32_t max_context() const { return max_context_; }
  const EngineStats& stats() const { return stats_; }
  const EngineGauges& gauges() const { return gauges_; }
  std::string check_integrity() const { return scheduler_.check_integrity(); }
  // Null when the prefix cache is off.
  const RadixCache* prefix_cache() const { return cache_.get(); }
  // Thread-safe. Drops every cached prefix that no running request uses, at the start of the
  // engine's next step (the engine thread owns the cache); `done` then runs on the engine
  // thread with what was freed (zeros when the cache is off) and must not block.
  void request_cache_clear(std::function<void(CacheClearResult)> done);
  const PagePool& page_pool() const { return pool_; }
  // Null when neither tier is configured (or the prefix cache is off).
  KvTiers* kv_tiers() const { return tiers_.get(); }
  CacheStats cache_stats() const;

 private:
  void take_submissions();
  void run_cache_clears();
  void finish(Sequence* seq, FinishReason reason, int32_t stop_token, std::string error = {});
  // kStarted events for the step's sequences that asked for one (GenerationRequest::announce_start).
  void announce_starts();
  // The token for the sequence's next generated position: its request's forced token while
  // that list lasts, else the sampler's draw.
  SampleResult choose_token(Sequence* seq, std::span<const float> logits);
  void loop();
  void wait_for_tier_read();

  Backend* backend_;
  EngineOptions options_;
  int32_t max_context_;
  PagePool pool_;
  std::unique_ptr<RadixCache> cache_;  // null: prefix caching off
  std::unique_ptr<KvTiers> tiers_;     // null: no RAM/disk tier
  Scheduler scheduler_;
  Sampler sampler_;
  Rng seed_source_;  // seeds for requests that bring none
  ScheduledStep step_;
  std::vector<float> logits_;
  EngineStats stats_;
  EngineGauges gauges_;
  void update_gauges();

  std::mutex submit_mutex_;
  std::condition_variable submit_cv_;
  std::vector<GenerationRequest> submitted_;
  std::vector<std::function<void(CacheClearResult)>> cache_clears_;  // under submit_mutex_
  bool tier_read_landed_ = false;                                      // under submit_mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace agentserve
