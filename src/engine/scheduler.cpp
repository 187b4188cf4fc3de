#include "engine/scheduler.h"

#include <algorithm>

#include "base/check.h"
#include "base/log.h"

namespace agentserve {

Scheduler::Scheduler(SchedulerOptions options, PagePool* pool) : options_(options), pool_(pool) {
  AS_CHECK_GT(options_.page_size, 0);
  AS_CHECK_GT(options_.max_batch_tokens, 0);
  AS_CHECK_GT(options_.max_running, 0);
}

void Scheduler::add(std::unique_ptr<Sequence> seq) { waiting_.push_back(std::move(seq)); }

bool Scheduler::ensure_pages(Sequence* seq, int32_t num_tokens) {
  const int32_t needed = pages_for(num_tokens) - static_cast<int32_t>(seq->pages.size());
  return needed <= 0 || pool_->allocate(needed, &seq->pages);
}

void Scheduler::preempt(Sequence* seq) {
  // Recompute preemption: drop the KV, keep the tokens; the sequence re-prefills later.
  pool_->release_all(seq->pages);
  seq->pages.clear();
  seq->num_computed = 0;
  ++seq->num_preemptions;
  AS_LOG_DEBUG("preempted request {} ({} tokens) to free KV pages", seq->request.id,
               seq->tokens.size());
}

void Scheduler::schedule(ScheduledStep* step) {
  step->batch.clear();
  step->sequences.clear();
  int32_t budget = options_.max_batch_tokens;
  std::vector<std::pair<Sequence*, int32_t>> plan;  // sequence, tokens this step

  // 1. One decode token for every running sequence that has finished its prefill. Under page
  //    pressure the newest running sequences give up their pages first.
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Sequence* seq = running_[i].get();
    if (seq->num_computed == 0 || seq->is_prefilling()) continue;
    bool got = ensure_pages(seq, seq->num_computed + 1);
    while (!got && running_.back().get() != seq) {
      preempt(running_.back().get());
      waiting_.push_front(std::move(running_.back()));
      running_.pop_back();
      got = ensure_pages(seq, seq->num_computed + 1);
    }
    if (!got) {
      // It is the newest itself: it yields to the older ones. Alone it always fits, since the
      // engine caps the context at the pool's capacity.
      AS_CHECK_GT(i, 0u);
      preempt(seq);
      waiting_.push_front(std::move(running_.back()));
      running_.pop_back();
      break;
    }
    plan.push_back({seq, 1});
    --budget;
  }

  // 2. Admit waiting sequences while the free pages could hold the whole prompt (a heuristic,
  //    not a reservation: under pressure, step 1 and the no-progress rule below preempt).
  while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < options_.max_running &&
         budget > 0) {
    const Sequence& next = *waiting_.front();
    const bool first = running_.empty();
    if (!first && pool_->num_free() < pages_for(static_cast<int32_t>(next.tokens.size()) + 1)) break;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }

  // 3. Prefill chunks, oldest first, as far as budget and pages allow.
  for (auto& owned : running_) {
    Sequence* seq = owned.get();
    if (budget <= 0) break;
    const bool planned = std::any_of(plan.begin(), plan.end(),
                                     [&](const auto& p) { return p.first == seq; });
    if (planned || seq->num_pending() == 0) continue;
    if (!(seq->num_computed == 0 || seq->is_prefilling())) continue;
    int32_t chunk = std::min(seq->num_pending(), budget);
    // Shrink the chunk to the pages we can get.
    const int32_t have = static_cast<int32_t>(seq->pages.size()) * options_.page_size;
    const int32_t reachable = have + pool_->num_free() * options_.page_size;
    chunk = std::min(chunk, reachable - seq->num_computed);
    if (chunk <= 0) continue;
    AS_CHECK(ensure_pages(seq, seq->num_computed + chunk));
    plan.push_back({seq, chunk});
    budget -= chunk;
  }

  // 4. No progress possible (prefills holding pages that together exceed the pool): give the
  //    newest sequence's pages to the others and plan again.
  if (plan.empty() && running_.size() > 1) {
    preempt(running_.back().get());
    waiting_.push_front(std::move(running_.back()));
    running_.pop_back();
    schedule(step);
    return;
  }

  for (const auto& [seq, n] : plan) {
    const bool want_logits = seq->num_computed + n == static_cast<int32_t>(seq->tokens.size());
    step->batch.add_sequence(seq->tokens.data() + seq->num_computed, n, seq->num_computed + n,
                             seq->pages, want_logits);
    step->sequences.push_back(seq);
  }
}

void Scheduler::commit(const ScheduledStep& step) {
  for (size_t i = 0; i < step.sequences.size(); ++i)
    step.sequences[i]->num_computed += step.batch.sequences[i].num_tokens;
}

std::unique_ptr<Sequence> Scheduler::remove(Sequence* seq) {
  std::unique_ptr<Sequence> out;
  auto take = [&](auto& container) {
    for (auto it = container.begin(); it != container.end(); ++it) {
      if (it->get() == seq) {
        out = std::move(*it);
        container.erase(it);
        return true;
      }
    }
    return false;
  };
  AS_CHECK(take(running_) || take(waiting_));
  pool_->release_all(out->pages);
  out->pages.clear();
  return out;
}

std::string Scheduler::check_integrity() const {
  if (std::string pool = pool_->check_integrity(); !pool.empty()) return pool;
  int64_t held = 0;
  auto check = [&](const Sequence& s) -> std::string {
    held += static_cast<int64_t>(s.pages.size());
    if (static_cast<int32_t>(s.pages.size()) < pages_for(s.num_computed))
      return "request " + std::to_string(s.request.id) + " has " +
             std::to_string(s.pages.size()) + " pages for " + std::to_string(s.num_computed) +
             " computed tokens";
    if (s.num_computed > static_cast<int32_t>(s.tokens.size()))
      return "request " + std::to_string(s.request.id) + " computed more tokens than it has";
    for (int32_t p : s.pages)
      if (pool_->ref_count(p) < 1) return "request holds a free page " + std::to_string(p);
    return {};
  };
  for (const auto& s : running_)
    if (std::string e = check(*s); !e.empty()) return e;
  for (const auto& s : waiting_)
    if (std::string e = check(*s); !e.empty()) return e;
  if (held != pool_->num_used())
    return "sequences hold " + std::to_string(held) + " pages but the pool has " +
           std::to_string(pool_->num_used()) + " in use";
  return {};
}

}  // namespace agentserve
