// Prefix-cache lookup and admission cost (issue 5 target: < 1 ms with 1M tokens cached).
//
//   bench_radix_cache [--cached-tokens N] [--prompt-tokens N] [--page-size N] [--iters N]
//
// Builds a cache holding N tokens (default 1M) of Claude-Code-shaped conversations: 8 system
// prefixes of 20k tokens, each conversation one of them plus turns of 200–4,000 tokens, every
// turn's prompt inserted as a finished request would, with a short side request (a title) off
// every fifth turn. Then times, for a 30k-token prompt whose first 28k tokens are a cached
// conversation (a follow-up turn):
//   match      RadixCache::match alone (hash 1,875 pages, probe, compare)
//   admission  Scheduler::schedule admitting that prompt: match, adopt the pages, plan the first
//              prefill chunk (512 tokens) into a Batch; and Scheduler::remove releasing it
//   insert     RadixCache::insert of the 30k-token path already cached (what a running
//              sequence pays each time a page fills)
// and match of a prompt that misses at the first page. Median and p99 over --iters runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "kv/page_pool.h"
#include "kv/radix_cache.h"

using namespace agentserve;

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_us, p99_us;
};

template <class F>
Timing time_it(int iters, F&& fn) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    fn();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

// A finished request: reuse what is cached, compute (allocate) the rest, register, release.
void cache_prompt(RadixCache& cache, PagePool& pool, const std::vector<int32_t>& tokens, int32_t page_size) {
  std::vector<int32_t> pages = cache.match(tokens, static_cast<int32_t>(tokens.size()));
  for (int32_t p : pages) pool.add_ref(p);
  const int32_t total = (static_cast<int32_t>(tokens.size()) + page_size - 1) / page_size;
  if (!pool.allocate(total - static_cast<int32_t>(pages.size()), &pages)) {
    std::fprintf(stderr, "pool too small\n");
    std::exit(1);
  }
  cache.insert(tokens, pages, static_cast<int32_t>(tokens.size()) / page_size);
  pool.release_all(pages);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t cached_tokens = 1000000;
  int32_t prompt_tokens = 30000, page_size = 16, iters = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (a == "--cached-tokens") cached_tokens = v;
    else if (a == "--prompt-tokens") prompt_tokens = static_cast<int32_t>(v);
    else if (a == "--page-size") page_size = static_cast<int32_t>(v);
    else if (a == "--iters") iters = static_cast<int32_t>(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::mt19937 rng(1234);
  auto random_tokens = [&](int32_t n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = static_cast<int32_t>(rng() % 151000);
    return t;
  };
  const int32_t num_pages = static_cast<int32_t>(cached_tokens / page_size + prompt_tokens / page_size + 4096);
  PagePool pool(num_pages);
  RadixCache cache(&pool, page_size, Hash128{0x5eed, 42});

  std::vector<std::vector<int32_t>> systems;
  for (int i = 0; i < 8; ++i) systems.push_back(random_tokens(20000));
  std::vector<int32_t> target;  // the conversation the timed prompt follows up
  int conversations = 0, turns = 0;
  const auto build0 = Clock::now();
  while (cache.stats().num_pages * page_size < cached_tokens) {
    std::vector<int32_t> conv = systems[static_cast<size_t>(conversations % 8)];
    ++conversations;
    for (int t = 0; t < 30 && cache.stats().num_pages * page_size < cached_tokens; ++t) {
      const std::vector<int32_t> turn = random_tokens(200 + static_cast<int32_t>(rng() % 3801));
      conv.insert(conv.end(), turn.begin(), turn.end());
      cache_prompt(cache, pool, conv, page_size);
      ++turns;
      if (t % 5 == 4) {  // a side request: the conversation so far + a title instruction
        std::vector<int32_t> side = conv;
        const std::vector<int32_t> ask = random_tokens(60);
        side.insert(side.end(), ask.begin(), ask.end());
        cache_prompt(cache, pool, side, page_size);
      }
      if (target.empty() && static_cast<int32_t>(conv.size()) >= prompt_tokens - 2000)
        target.assign(conv.begin(), conv.begin() + (prompt_tokens - 2000));
    }
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - build0).count();
  std::vector<int32_t> prompt = target;
  const std::vector<int32_t> fresh = random_tokens(2000);
  prompt.insert(prompt.end(), fresh.begin(), fresh.end());
  const RadixCacheStats s = cache.stats();
  std::printf("cache: %lld tokens in %lld pages of %d, %lld leaves, from %d conversations / %d turns "
              "(built in %.2f s)\n",
              static_cast<long long>(s.num_pages * page_size), static_cast<long long>(s.num_pages),
              page_size, static_cast<long long>(s.num_entries), conversations, turns, build_s);

  const int32_t cap = (static_cast<int32_t>(prompt.size()) - 1) / page_size * page_size;
  size_t matched = 0;
  const Timing match = time_it(iters, [&] { matched = cache.match(prompt, cap).size(); });
  std::vector<int32_t> miss = prompt;
  miss[0] = 151001;
  const Timing miss_t = time_it(iters, [&] { (void)cache.match(miss, cap); });

  Scheduler scheduler(SchedulerOptions{page_size, 512, 16}, &pool, &cache);
  ScheduledStep step;
  int32_t admitted_cached = 0;
  const Timing admit = time_it(iters, [&] {
    auto seq = std::make_unique<Sequence>();
    seq->tokens = prompt;
    Sequence* raw = seq.get();
    scheduler.add(std::move(seq));
    scheduler.schedule(&step);
    admitted_cached = raw->num_cached_prompt_tokens;
    scheduler.remove(raw);  // inside the timing: its cost is a walk of the matched pages
  });
  // Path already cached: the cost a running sequence pays when a page fills.
  std::vector<int32_t> path_pages = cache.match(prompt, cap);
  for (int32_t p : path_pages) pool.add_ref(p);
  const Timing insert = time_it(iters, [&] {
    cache.insert(prompt, path_pages, static_cast<int32_t>(path_pages.size()));
  });
  pool.release_all(path_pages);

  std::printf("prompt: %zu tokens, %zu cached pages matched (%zu tokens), admission reused %d tokens\n",
              prompt.size(), matched, matched * static_cast<size_t>(page_size), admitted_cached);
  std::printf("%-34s median %8.1f us   p99 %8.1f us\n", "match (30k prompt, 28k cached)", match.median_us, match.p99_us);
  std::printf("%-34s median %8.1f us   p99 %8.1f us\n", "admission + remove (schedule)", admit.median_us, admit.p99_us);
  std::printf("%-34s median %8.1f us   p99 %8.1f us\n", "insert (path already cached)", insert.median_us, insert.p99_us);
  std::printf("%-34s median %8.1f us   p99 %8.1f us\n", "match (miss at page 0)", miss_t.median_us, miss_t.p99_us);
  const std::string problem = scheduler.check_integrity();
  if (!problem.empty()) {
    std::fprintf(stderr, "integrity: %s\n", problem.c_str());
    return 1;
  }
  return 0;
}
