// Continuous batching: each step mixes one decode token of every running sequence with
// prefill chunks of the others under a token budget (chunked prefill), allocating KV pages as
// positions are reached. When pages run out, the most recently admitted sequence is preempted
// (its pages freed, its tokens recomputed later), so a request that fits the cache alone
// always completes. Plain host code, tested without a model.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backend/batch.h"
#include "engine/sequence.h"
#include "kv/page_pool.h"

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
  Scheduler(SchedulerOptions options, PagePool* pool);

  const SchedulerOptions& options() const { return options_; }
  void add(std::unique_ptr<Sequence> seq);
  bool idle() const { return waiting_.empty() && running_.empty(); }
  int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }

  // Plans the next step into *step (cleared first). Sequences it cannot fit stay queued.
  void schedule(ScheduledStep* step);
  // After forward: marks the step's tokens computed.
  void commit(const ScheduledStep& step);
  // Removes a finished or cancelled sequence, releasing its pages.
  std::unique_ptr<Sequence> remove(Sequence* seq);

  // Pages needed to hold `num_tokens` positions.
  int32_t pages_for(int32_t num_tokens) const {
    return (num_tokens + options_.page_size - 1) / options_.page_size;
  }
  template <class F>
  void for_each(F&& fn) {
    for (auto& s : running_) fn(s.get());
    for (auto& s : waiting_) fn(s.get());
  }

  // Pages held by sequences equal the pool's used pages; every sequence's pages cover its
  // computed tokens. Empty string when all holds.
  std::string check_integrity() const;

 private:
  bool ensure_pages(Sequence* seq, int32_t num_tokens);
  void preempt(Sequence* seq);

  SchedulerOptions options_;
  PagePool* pool_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order
};

}  // namespace agentserve
