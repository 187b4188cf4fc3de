#include "engine/scheduler.h"

#include <algorithm>

#include "base/check.h"
#include "base/log.h"

namespace agentserve {

Scheduler::Scheduler(SchedulerOptions options, PagePool* pool, RadixCache* cache, KvTiers* tiers)
    : options_(options), pool_(pool), cache_(cache), tiers_(tiers) {
  AS_CHECK(tiers_ == nullptr || cache_ != nullptr);
  AS_CHECK_GT(options_.page_size, 0);
  AS_CHECK_GT(options_.max_batch_tokens, 0);
  AS_CHECK_GT(options_.max_running, 0);
  if (cache_ != nullptr) AS_CHECK_EQ(cache_->page_size(), options_.page_size);
}

void Scheduler::add(std::unique_ptr<Sequence> seq) { waiting_.push_back(std::move(seq)); }

bool Scheduler::reserve_free(int32_t count) {
  if (pool_->num_free() < count && cache_ != nullptr) cache_->evict(count - pool_->num_free());
  return pool_->num_free() >= count;
}

bool Scheduler::ensure_pages(Sequence* seq, int32_t num_tokens) {
  const int32_t needed = pages_for(num_tokens) - static_cast<int32_t>(seq->pages.size());
  return needed <= 0 || (reserve_free(needed) && pool_->allocate(needed, &seq->pages));
}

void Scheduler::cache_full_pages(Sequence* seq) {
  if (cache_ == nullptr) return;
  const int32_t full = seq->num_computed / options_.page_size;
  if (full <= seq->num_inserted_pages) return;
  cache_->insert(seq->tokens, seq->pages, full);
  seq->num_inserted_pages = full;
}

void Scheduler::release_pages(Sequence* seq) {
  pool_->release_all(seq->pages);
  seq->pages.clear();
  seq->num_computed = 0;
  seq->num_inserted_pages = 0;
  seq->tier_loading = false;
  seq->tier_read_until = 0;
}

int32_t Scheduler::max_cached_pages(const Sequence& seq) const {
  // Never the whole sequence: its last token must be computed to give the next token's
  // logits, so the match stops one token short, at a page boundary.
  return (static_cast<int32_t>(seq.tokens.size()) - 1) / options_.page_size;
}

void Scheduler::adopt_cached_prefix(Sequence* seq) {
  if (cache_ == nullptr || !seq->pages.empty()) return;
  seq->pages = cache_->match(seq->tokens, max_cached_pages(*seq) * options_.page_size);
  for (int32_t p : seq->pages) pool_->add_ref(p);
  if (tiers_ != nullptr) load_from_tiers(seq);
  seq->num_computed = static_cast<int32_t>(seq->pages.size()) * options_.page_size;
  seq->num_inserted_pages = static_cast<int32_t>(seq->pages.size());
}

void Scheduler::continue_tier_load(Sequence* seq) {
  // While loading, the sequence has computed nothing past its pages (see tier_loading).
  AS_CHECK_EQ(seq->num_computed, static_cast<int32_t>(seq->pages.size()) * options_.page_size);
  load_from_tiers(seq);
  seq->num_computed = static_cast<int32_t>(seq->pages.size()) * options_.page_size;
  seq->num_inserted_pages = static_cast<int32_t>(seq->pages.size());
}

void Scheduler::account_cached_prompt(Sequence* seq) {
  if (!seq->cached_count_pending || seq->tier_loading) return;
  seq->cached_count_pending = false;
  seq->num_cached_prompt_tokens = seq->num_computed;
  if (cache_ != nullptr) cache_->note_lookup(seq->num_computed);
}

void Scheduler::load_from_tiers(Sequence* seq) {
  const int32_t ps = options_.page_size;
  const int32_t max_pages = max_cached_pages(*seq);
  const int32_t matched = static_cast<int32_t>(seq->pages.size());
  Hash128 parent = matched == 0 ? cache_->root_hash() : cache_->chain_of_page(seq->pages.back());
  auto page_tokens = [&](int32_t i) {
    return std::span<const int32_t>(seq->tokens.data() + static_cast<size_t>(i) * ps,
                                    static_cast<size_t>(ps));
  };
  bool on_disk = false;
  for (int32_t i = matched; i < max_pages; ++i) {
    const Hash128 chain = chain_hash(parent, page_tokens(i));
    const KvTiers::Probe where = tiers_->probe(chain);
    if (where == KvTiers::Probe::kAbsent) break;
    if (where == KvTiers::Probe::kOnDisk) {
      // Read ahead from here on the prefetcher's thread; the sequence waits for its pages
      // (other sequences go on) and takes them as they land. This page is asked for again in
      // case it landed and was dropped (the prefetcher skips what it has); the read-ahead is
      // topped up to a window past it when half of the window has been taken.
      std::vector<Hash128> reads{chain};
      const int32_t end = std::min(max_pages, i + tiers_->prefetch_window_pages());
      if (seq->tier_read_until < i + (end - i) / 2) {
        Hash128 p = chain;
        int32_t j = i + 1;
        for (; j < end; ++j) {
          const Hash128 c = chain_hash(p, page_tokens(j));
          if (j >= seq->tier_read_until) {
            const KvTiers::Probe w = tiers_->probe(c);
            if (w == KvTiers::Probe::kAbsent) break;
            if (w == KvTiers::Probe::kOnDisk) reads.push_back(c);
          }
          p = c;
        }
        // Past a page no tier has, nothing can be loaded: no further read-ahead.
        seq->tier_read_until = j < end ? max_pages : end;
      }
      tiers_->prefetch(reads);
      on_disk = true;
      break;
    }
    // Evicting for the new page cannot take this sequence's pages: it holds a reference on
    // each (matched and loaded alike), so they are not evictable.
    if (!reserve_free(1) || !pool_->allocate(1, &seq->pages)) break;
    if (!tiers_->fetch(chain, parent, i, page_tokens(i), seq->pages.back())) {
      pool_->release(seq->pages.back());
      seq->pages.pop_back();
      break;
    }
    parent = chain;
  }
  seq->tier_loading = on_disk;
  const int32_t loaded = static_cast<int32_t>(seq->pages.size()) - matched;
  if (loaded == 0) return;
  // The loaded pages join the tree like computed ones (the cache takes its reference; the
  // sequence keeps the allocation's). Only past the matched path, so nothing is replaced.
  cache_->insert(seq->tokens, seq->pages, static_cast<int32_t>(seq->pages.size()));
  AS_LOG_DEBUG("request {}: {} KV pages loaded from the RAM/disk tiers after {}{}",
               seq->request.id, loaded, matched, on_disk ? "; more being read from disk" : "");
}

void Scheduler::preempt(Sequence* seq) {
  // Recompute preemption: drop the KV, keep the tokens; the sequence re-prefills later. Its
  // full pages stay in the cache (unshared, so evictable), so coming back usually re-matches
  // most of them instead of recomputing.
  cache_full_pages(seq);
  release_pages(seq);
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

  // Sequences reading their prefix from disk take the pages that landed since the last step;
  // once nothing more is coming they compute the rest like any prefill. (Before admission:
  // one admitted below has just asked for its reads.)
  for (auto& owned : running_) {
    Sequence* seq = owned.get();
    if (!seq->tier_loading) continue;
    continue_tier_load(seq);
    account_cached_prompt(seq);
  }

  // 2. Admit waiting sequences, each reusing its longest cached prefix, while free pages
  //    (after evicting unshared cached ones) could hold the rest of the prompt and one more
  //    token (a heuristic, not a reservation: under pressure, step 1 and the no-progress rule
  //    below preempt).
  while (!waiting_.empty() && static_cast<int32_t>(running_.size()) < options_.max_running &&
         budget > 0) {
    Sequence* next = waiting_.front().get();
    const bool first = running_.empty();
    adopt_cached_prefix(next);
    const int32_t needed = pages_for(static_cast<int32_t>(next->tokens.size()) + 1) -
                           static_cast<int32_t>(next->pages.size());
    if (!first && !reserve_free(needed)) {
      release_pages(next);  // stays waiting; it will match again
      break;
    }
    if (!next->admitted_once()) {
      next->admitted_at = std::chrono::steady_clock::now();
      next->cached_count_pending = true;
    }
    account_cached_prompt(next);
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }

  const bool any_loading = std::any_of(running_.begin(), running_.end(),
                                       [](const auto& s) { return s->tier_loading; });

  // 3. Prefill chunks, oldest first, as far as budget and pages allow.
  for (auto& owned : running_) {
    Sequence* seq = owned.get();
    if (budget <= 0) break;
    const bool planned = std::any_of(plan.begin(), plan.end(),
                                     [&](const auto& p) { return p.first == seq; });
    // Decoding sequences were all planned in step 1 unless the budget ran out; what is left
    // is prefill, including the last prompt token of one admitted with a cached prefix.
    if (planned || seq->num_pending() == 0 || seq->tier_loading) continue;
    int32_t chunk = std::min(seq->num_pending(), budget);
    // Shrink the chunk to the pages we can get (evicting cached ones first).
    const int32_t wanted =
        pages_for(seq->num_computed + chunk) - static_cast<int32_t>(seq->pages.size());
    if (wanted > 0) reserve_free(wanted);
    const int32_t have = static_cast<int32_t>(seq->pages.size()) * options_.page_size;
    const int32_t reachable = have + pool_->num_free() * options_.page_size;
    chunk = std::min(chunk, reachable - seq->num_computed);
    if (chunk <= 0) continue;
    AS_CHECK(ensure_pages(seq, seq->num_computed + chunk));
    plan.push_back({seq, chunk});
    budget -= chunk;
  }

  // 4. No progress possible (prefills holding pages that together exceed the pool): give the
  //    newest sequence's pages to the others and plan again. Not while pages are being read
  //    from disk: that is progress, and the step is empty only until they land.
  if (plan.empty() && running_.size() > 1 && !any_loading) {
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
  for (size_t i = 0; i < step.sequences.size(); ++i) {
    Sequence* seq = step.sequences[i];
    seq->num_computed += step.batch.sequences[i].num_tokens;
    // Pages become shareable as soon as they fill, so a concurrent request with the same
    // prefix (a sub-agent, a retry) reuses them while this one still runs.
    cache_full_pages(seq);
  }
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
  cache_full_pages(out.get());
  release_pages(out.get());
  return out;
}

std::string Scheduler::check_integrity() const {
  if (std::string pool = pool_->check_integrity(); !pool.empty()) return pool;
  if (cache_ != nullptr)
    if (std::string cache = cache_->check_integrity(); !cache.empty()) return cache;
  std::vector<int32_t> owners(static_cast<size_t>(pool_->num_pages()), 0);
  auto check = [&](const Sequence& s) -> std::string {
    const std::string who = "request " + std::to_string(s.request.id);
    if (static_cast<int32_t>(s.pages.size()) < pages_for(s.num_computed))
      return who + " has " + std::to_string(s.pages.size()) + " pages for " +
             std::to_string(s.num_computed) + " computed tokens";
    if (s.num_computed > static_cast<int32_t>(s.tokens.size()))
      return who + " computed more tokens than it has";
    if (s.num_inserted_pages > s.num_computed / options_.page_size)
      return who + " registered pages it has not computed";
    Hash128 chain = cache_ != nullptr ? cache_->root_hash() : Hash128{};
    for (size_t i = 0; i < s.pages.size(); ++i) {
      const int32_t p = s.pages[i];
      if (p < 0 || p >= pool_->num_pages()) return who + " holds out-of-range page " + std::to_string(p);
      if (pool_->ref_count(p) < 1) return who + " holds a free page " + std::to_string(p);
      if (++owners[static_cast<size_t>(p)] > 1 &&
          std::count(s.pages.begin(), s.pages.end(), p) > 1)
        return who + " holds page " + std::to_string(p) + " twice";
      // A cached page it holds must be the cache's page for its own prefix.
      if (cache_ == nullptr || static_cast<int32_t>(i) >= s.num_computed / options_.page_size) continue;
      chain = chain_hash(chain, {s.tokens.data() + i * static_cast<size_t>(options_.page_size),
                                 static_cast<size_t>(options_.page_size)});
      if (cache_->holds(p) && (cache_->chain_of_page(p) != chain ||
                               cache_->depth_of_page(p) != static_cast<int32_t>(i)))
        return who + " holds cached page " + std::to_string(p) + " of another prefix at index " +
               std::to_string(i);
    }
    return {};
  };
  for (const auto& s : running_)
    if (std::string e = check(*s); !e.empty()) return e;
  for (const auto& s : waiting_) {
    if (std::string e = check(*s); !e.empty()) return e;
    if (!s->pages.empty()) return "waiting request " + std::to_string(s->request.id) + " holds pages";
  }
  if (cache_ != nullptr) cache_->for_each_page([&](int32_t p) { ++owners[static_cast<size_t>(p)]; });
  for (int32_t p = 0; p < pool_->num_pages(); ++p)
    if (owners[static_cast<size_t>(p)] != pool_->ref_count(p))
      return "page " + std::to_string(p) + " has " + std::to_string(pool_->ref_count(p)) +
             " references but " + std::to_string(owners[static_cast<size_t>(p)]) + " owners";
  return {};
}

}  // namespace agentserve
