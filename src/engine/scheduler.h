// Continuous batching: each step mixes one decode token of every running sequence with
// prefill chunks of the others under a token budget (chunked prefill), allocating KV pages as
// positions are reached. With a prefix cache, admission first reuses the pages of the prompt's
// longest cached prefix, full pages are registered in the cache as they fill, and when pages
// run out the cache's least-recently-used unshared pages are evicted before anything else.
// Then the most recently admitted sequence is preempted (its full pages stay cached, the rest
// is recomputed later, mostly from the cache), so a request that fits the pool alone always
// completes. Plain host code, tested without a model.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backend/batch.h"
#include "engine/sequence.h"
#include "kv/kv_tiers.h"
#include "kv/page_pool.h"
#include "kv/radix_cache.h"

namespace agentserve {

struct SchedulerOptions {
  int32_t page_size = 16;
  int32_t max_batch_tokens = 512;  // tokens per step (decode tokens + prefill chunks)
  int32_t max_running = 16;        // sequences computed concurrently
};

// What one step computes: the batch, and for each of its sequences the token count.
struct ScheduledStep {
  Batch batch;
  std::vector<Sequence*> sequences;  // parallel to batch.sequences
  bool empty() const { return sequences.empty(); }
};

class Scheduler {
 public:
  // `cache` may be null (no prefix caching); `tiers` (the RAM/disk tiers below the cache) may
  // be null, and needs a cache. All must outlive the scheduler.
  Scheduler(SchedulerOptions options, PagePool* pool, RadixCache* cache = nullptr,
            KvTiers* tiers = nullptr);

  const SchedulerOptions& options() const { return options_; }
  void add(std::unique_ptr<Sequence> seq);
  bool idle() const { return waiting_.empty() && running_.empty(); }
  int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }

  // Plans the next step into *step (cleared first). Sequences it cannot fit stay queued.
  void schedule(ScheduledStep* step);
  // After forward: marks the step's tokens computed.
  void commit(const ScheduledStep& step);
  // Removes a finished or cancelled sequence: its full pages go to the prefix cache, then
  // its references are released.
  std::unique_ptr<Sequence> remove(Sequence* seq);
  RadixCache* cache() const { return cache_; }

  // Pages needed to hold `num_tokens` positions.
  int32_t pages_for(int32_t num_tokens) const {
    return (num_tokens + options_.page_size - 1) / options_.page_size;
  }
  template <class F>
  void for_each(F&& fn) {
    for (auto& s : running_) fn(s.get());
    for (auto& s : waiting_) fn(s.get());
  }

  // Every page's reference count is exactly the number of sequences holding it plus one if
  // the cache holds it; every sequence's pages are distinct and cover its computed tokens;
  // every cached page a sequence holds is cached under that sequence's own prefix; the pool
  // and the cache pass their own checks. Empty string when all holds.
  std::string check_integrity() const;

 private:
  bool ensure_pages(Sequence* seq, int32_t num_tokens);
  // Makes `count` pages free, evicting from the cache if needed; false if it cannot.
  bool reserve_free(int32_t count);
  void preempt(Sequence* seq);
  // Pages of the sequence's tokens the cache may supply (all but its last token's).
  int32_t max_cached_pages(const Sequence& seq) const;
  // Adopts the cached pages of the longest cached prefix of the sequence's tokens, continuing
  // the match through the RAM/disk tiers.
  void adopt_cached_prefix(Sequence* seq);
  // Past the tree's match (seq->pages), brings the prompt's next pages up from the tiers into
  // new pool pages while they are ready (RAM, or read ahead), and caches them. At a page still
  // on disk it queues the reads ahead and sets seq->tier_loading.
  void load_from_tiers(Sequence* seq);
  // A running tier_loading sequence takes the pages that have landed since.
  void continue_tier_load(Sequence* seq);
  // Sets the usage's cached prompt tokens of a first admission once its tier loads are done.
  void account_cached_prompt(Sequence* seq);
  void release_pages(Sequence* seq);
  // Registers the sequence's computed full pages in the cache.
  void cache_full_pages(Sequence* seq);

  SchedulerOptions options_;
  PagePool* pool_;
  RadixCache* cache_;
  KvTiers* tiers_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order
};

}  // namespace agentserve
