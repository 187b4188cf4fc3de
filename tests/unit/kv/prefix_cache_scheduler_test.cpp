// Page accounting of the prefix cache under the real Scheduler (issue 5's target): 10,000
// randomized requests that share prefixes (common system prompts, follow-up turns that extend
// an earlier request's prompt and output), random cancellations at random steps, and pools
// small enough to force evictions and preemptions. No model: the test plays the backend,
// storing token ids as the "KV" of each page slot, so a sequence reading a page that holds
// other tokens than its own (a wrongly shared or overwritten page) fails at once. After every
// step the scheduler, cache and pool pass check_integrity(); at the end no page leaks. A second
// run adds a small RAM tier and a tiny disk tier (kv/kv_tiers.h) whose pages come back through
// the same "KV", so a page restored with wrong bytes fails the same check.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <chrono>
#include <filesystem>
#include <random>

#include "engine/scheduler.h"
#include "kv/kv_tiers.h"
#include "kv/page_pool.h"
#include "kv/radix_cache.h"

namespace agentserve {
namespace {

struct Round {
  int32_t page_size;
  int32_t num_pages;
  int32_t max_batch_tokens;
  int32_t max_running;
  int num_requests;
};

struct Totals {
  int64_t requests = 0, finished = 0, cancelled = 0, preemptions = 0;
  int64_t cached_prompt_tokens = 0, hits = 0, evicted_pages = 0;
  int64_t ram_hits = 0, disk_hits = 0, disk_writes = 0, read_waits = 0;
};

// tiers_dir: empty for no tiers, else the disk tier's root (a RAM tier comes with it).
void run_round(const Round& r, std::mt19937& rng, Totals* totals, const std::string& tiers_dir = {},
               uint64_t round_id = 0) {
  PagePool pool(r.num_pages);
  const Hash128 model{7, 11 + round_id};  // each round its own page size: its own disk directory
  const int32_t capacity = r.num_pages * r.page_size;
  std::vector<int32_t> kv(static_cast<size_t>(capacity), -1);  // [page][slot]: token id written
  std::unique_ptr<KvTiers> tiers;
  if (!tiers_dir.empty()) {
    const size_t page_bytes = sizeof(int32_t) * static_cast<size_t>(r.page_size);
    KvTierOptions o;
    o.ram_bytes = 6 * 2 * static_cast<int64_t>(page_bytes);           // ~6 pages
    o.disk_dir = tiers_dir;
    o.disk_bytes = 40 * (88 + 2 * static_cast<int64_t>(page_bytes));  // ~40 files
    o.disk_sync = false;
    o.disk_load = DiskLoadPolicy::kAlways;
    o.progress = false;
    auto slot = [&kv, &r](int32_t page) { return kv.data() + static_cast<size_t>(page) * r.page_size; };
    PageIo io{[slot, page_bytes](int32_t page, void* dst) { std::memcpy(dst, slot(page), page_bytes); },
              [slot, page_bytes](int32_t page, const void* src) { std::memcpy(slot(page), src, page_bytes); }};
    tiers = std::make_unique<KvTiers>(o, model, r.page_size, page_bytes, io);
    ASSERT_NE(tiers->disk(), nullptr);
  }
  RadixCache cache(&pool, r.page_size, model);
  if (tiers) cache.set_listener(tiers.get());
  Scheduler scheduler(SchedulerOptions{r.page_size, r.max_batch_tokens, r.max_running}, &pool, &cache,
                      tiers.get());
  auto rand_int = [&](int32_t lo, int32_t hi) {  // [lo, hi]
    return lo + static_cast<int32_t>(rng() % static_cast<uint32_t>(hi - lo + 1));
  };
  auto random_tokens = [&](int32_t n) {
    std::vector<int32_t> t(static_cast<size_t>(std::max(n, 0)));
    for (auto& x : t) x = rand_int(0, 50);
    return t;
  };

  // A few system prompts every conversation starts with; finished requests become history
  // that later requests extend (the agent-turn shape).
  std::vector<std::vector<int32_t>> systems;
  for (int i = 0; i < 3; ++i) systems.push_back(random_tokens(rand_int(1, capacity / 3)));
  std::vector<std::vector<int32_t>> history;

  struct Live {
    int32_t max_new;
    bool will_cancel;
  };
  std::unordered_map<const Sequence*, Live> live;
  int submitted = 0;
  uint64_t next_id = 0;
  ScheduledStep step;
  int steps = 0;
  auto submit = [&] {
    std::vector<int32_t> prompt;
    const int kind = rand_int(0, 9);
    if (kind < 5 && !history.empty()) {  // a follow-up turn
      prompt = history[static_cast<size_t>(rand_int(0, static_cast<int32_t>(history.size()) - 1))];
      if (kind < 2) prompt.resize(static_cast<size_t>(rand_int(1, static_cast<int32_t>(prompt.size()))));
    } else if (kind < 9) {
      prompt = systems[static_cast<size_t>(rand_int(0, 2))];
    }
    const std::vector<int32_t> more = random_tokens(rand_int(kind == 9 ? 1 : 0, 2 * r.page_size + 3));
    prompt.insert(prompt.end(), more.begin(), more.end());
    if (prompt.empty()) prompt.push_back(1);
    // Prompt and output fit the context (the pool), as the engine guarantees.
    const int32_t max_prompt = capacity - 2;
    if (static_cast<int32_t>(prompt.size()) > max_prompt) prompt.resize(static_cast<size_t>(max_prompt));
    const int32_t room = capacity - static_cast<int32_t>(prompt.size());
    auto seq = std::make_unique<Sequence>();
    seq->request.id = next_id++;
    seq->tokens = prompt;
    live[seq.get()] = {rand_int(1, std::min(room, 3 * r.page_size)), rng() % 6 == 0};
    scheduler.add(std::move(seq));
    ++submitted;
  };
  auto retire = [&](Sequence* seq, bool cancelled) {
    const int32_t prompt_len = static_cast<int32_t>(seq->tokens.size()) - seq->num_generated;
    if (seq->admitted_once()) {
      EXPECT_LE(seq->num_cached_prompt_tokens, prompt_len - 1);
      EXPECT_EQ(seq->num_cached_prompt_tokens % r.page_size, 0);
      totals->cached_prompt_tokens += seq->num_cached_prompt_tokens;
    }
    totals->preemptions += seq->num_preemptions;
    if (cancelled) ++totals->cancelled;
    else ++totals->finished;
    if (!cancelled && history.size() < 64) history.push_back(seq->tokens);
    else if (!cancelled) history[rng() % history.size()] = seq->tokens;
    live.erase(seq);
    scheduler.remove(seq);
  };

  while (submitted < r.num_requests || !scheduler.idle()) {
    ASSERT_LT(++steps, 2000000) << "no progress";
    // Arrivals in bursts, so admission competes with running requests.
    for (int a = rand_int(0, 3); a > 0 && submitted < r.num_requests; --a) submit();
    // Cancellations at random steps, waiting or running.
    std::vector<Sequence*> cancel;
    scheduler.for_each([&](Sequence* s) {
      if (live[s].will_cancel && rng() % 8 == 0) cancel.push_back(s);
    });
    for (Sequence* s : cancel) retire(s, true);

    scheduler.schedule(&step);
    // Only disk-tier reads to wait for (as the engine does, it sleeps until one lands).
    if (step.empty() && tiers && tiers->reads_in_flight()) {
      ++totals->read_waits;
      tiers->wait_for_read(std::chrono::milliseconds(100));
    }
    // The "forward pass": check every position the step reads holds this sequence's token,
    // then write the new ones, never into a page someone else can see.
    const Batch& b = step.batch;
    for (size_t i = 0; i < step.sequences.size(); ++i) {
      const Sequence* seq = step.sequences[i];
      const BatchSequence& bs = b.sequences[i];
      const int32_t* row = b.page_table.data() + static_cast<size_t>(bs.page_row) * b.page_table_stride;
      const int32_t start = bs.context_len - bs.num_tokens;
      for (int32_t pos = 0; pos < start; ++pos) {
        const int32_t page = row[pos / r.page_size];
        ASSERT_EQ(kv[static_cast<size_t>(page * r.page_size + pos % r.page_size)], seq->tokens[static_cast<size_t>(pos)])
            << "request " << seq->request.id << " reads a wrong token at position " << pos;
      }
      for (int32_t pos = start; pos < bs.context_len; ++pos) {
        const int32_t page = row[pos / r.page_size];
        ASSERT_FALSE(cache.holds(page)) << "writing into a cached page";
        ASSERT_EQ(pool.ref_count(page), 1) << "writing into a shared page";
        kv[static_cast<size_t>(page * r.page_size + pos % r.page_size)] = seq->tokens[static_cast<size_t>(pos)];
      }
    }
    scheduler.commit(step);
    std::vector<Sequence*> done;
    for (Sequence* seq : step.sequences) {
      if (seq->num_computed < static_cast<int32_t>(seq->tokens.size())) continue;  // mid-prefill
      seq->tokens.push_back(rand_int(0, 50));  // the sampled token
      if (++seq->num_generated >= live[seq].max_new) done.push_back(seq);
    }
    for (Sequence* seq : done) retire(seq, false);
    const std::string problem = scheduler.check_integrity();
    ASSERT_EQ(problem, "") << "after step " << steps;
  }

  // Nothing leaks: every used page belongs to the cache alone; cleared, the pool is all free.
  for (int32_t p = 0; p < pool.num_pages(); ++p) {
    if (pool.ref_count(p) == 0) continue;
    EXPECT_TRUE(cache.holds(p)) << "page " << p << " leaked";
    EXPECT_EQ(pool.ref_count(p), 1) << "page " << p;
  }
  const RadixCacheStats s = cache.stats();
  EXPECT_EQ(s.num_pages, pool.num_used());
  totals->hits += s.hits;
  totals->evicted_pages += s.evicted_pages;
  totals->requests += submitted;
  if (tiers) {
    tiers->flush();
    totals->ram_hits += tiers->ram_stats().hits;
    totals->disk_hits += tiers->disk_stats().hits;
    totals->disk_writes += tiers->disk()->writes();
    EXPECT_EQ(tiers->disk()->invalid_files(), 0);
    cache.set_listener(nullptr);
  }
  cache.clear();
  EXPECT_EQ(pool.num_free(), pool.num_pages());
  EXPECT_EQ(pool.check_integrity(), "");
}

void run_all(const std::string& tiers_dir, Totals* out) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Totals& totals = *out;
  int total = 0;
  uint64_t round_id = 0;
  while (total < 10000) {
    Round r;
    r.page_size = 1 + static_cast<int32_t>(rng() % 8);
    r.num_pages = 12 + static_cast<int32_t>(rng() % 52);
    r.max_batch_tokens = 4 + static_cast<int32_t>(rng() % 60);
    r.max_running = 1 + static_cast<int32_t>(rng() % 8);
    r.num_requests = std::min(500, 10000 - total);
    run_round(r, rng, &totals, tiers_dir, round_id++);
    if (::testing::Test::HasFatalFailure()) return;
    total += r.num_requests;
  }
  std::printf("  %lld requests: %lld finished, %lld cancelled, %lld preemptions, %lld cache hits, "
              "%lld prompt tokens reused, %lld pages evicted\n",
              static_cast<long long>(totals.requests), static_cast<long long>(totals.finished),
              static_cast<long long>(totals.cancelled), static_cast<long long>(totals.preemptions),
              static_cast<long long>(totals.hits), static_cast<long long>(totals.cached_prompt_tokens),
              static_cast<long long>(totals.evicted_pages));
  EXPECT_EQ(totals.requests, 10000);
  EXPECT_EQ(totals.finished + totals.cancelled, 10000);
  // The run exercised what it claims to.
  EXPECT_GT(totals.cancelled, 0);
  EXPECT_GT(totals.preemptions, 0);
  EXPECT_GT(totals.evicted_pages, 0);
  EXPECT_GT(totals.hits, 1000);
}

TEST(PrefixCacheScheduler, TenThousandRandomizedRequestsLeakNoPages) {
  Totals totals;
  run_all({}, &totals);
}

TEST(PrefixCacheScheduler, TenThousandRandomizedRequestsWithRamAndDiskTiers) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("as_sched_tiers_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  Totals totals;
  run_all(dir, &totals);
  std::filesystem::remove_all(dir);
  std::printf("  tiers: %lld pages from RAM, %lld from disk, %lld disk writes, %lld empty steps "
              "waiting for disk reads\n",
              static_cast<long long>(totals.ram_hits), static_cast<long long>(totals.disk_hits),
              static_cast<long long>(totals.disk_writes), static_cast<long long>(totals.read_waits));
  // Pages really came back from both tiers (and were checked token by token on every read);
  // disk pages only come through the background reads, which sequences really waited for.
  EXPECT_GT(totals.ram_hits, 100);
  EXPECT_GT(totals.disk_hits, 100);
  EXPECT_GT(totals.read_waits, 0);
}

}  // namespace
}  // namespace agentserve
