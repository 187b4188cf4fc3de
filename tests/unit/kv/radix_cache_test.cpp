// The radix prefix cache on its own: matching at page granularity, insertion with shared
// prefixes and duplicates, LRU eviction of unshared leaves, the frozen chain hash, and the
// integrity check after every operation.
#include <gtest/gtest.h>

#include <numeric>

#include "kv/chain_hash.h"
#include "kv/page_pool.h"
#include "kv/radix_cache.h"

namespace agentserve {
namespace {

constexpr int32_t kPage = 4;

std::vector<int32_t> iota_tokens(int32_t n, int32_t start) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), start);
  return t;
}

// A sequence that computed `tokens` into freshly allocated pages, registers its full pages and
// drops its own references, as a finished request does. Returns the pages it used.
std::vector<int32_t> cache_sequence(RadixCache& cache, PagePool& pool, const std::vector<int32_t>& tokens) {
  std::vector<int32_t> pages;
  EXPECT_TRUE(pool.allocate((static_cast<int32_t>(tokens.size()) + kPage - 1) / kPage, &pages));
  cache.insert(tokens, pages, static_cast<int32_t>(tokens.size()) / kPage);
  pool.release_all(pages);
  EXPECT_EQ(cache.check_integrity(), "");
  EXPECT_EQ(pool.check_integrity(), "");
  return pages;
}

TEST(RadixCache, MatchesTheLongestPrefixOfFullPages) {
  PagePool pool(32);
  RadixCache cache(&pool, kPage, Hash128{1, 2});
  const std::vector<int32_t> tokens = iota_tokens(14, 100);  // pages 0..2 full, 2 tokens left over
  const std::vector<int32_t> pages = cache_sequence(cache, pool, tokens);
  EXPECT_EQ(cache.stats().num_pages, 3);
  EXPECT_EQ(pool.num_used(), 3);  // the partial 4th page went back to the pool

  const std::vector<int32_t> full(pages.begin(), pages.begin() + 3);
  EXPECT_EQ(cache.match(tokens, 14), full);
  EXPECT_EQ(cache.match(tokens, 11), std::vector<int32_t>(pages.begin(), pages.begin() + 2));
  // A longer prompt with this prefix matches all three pages.
  std::vector<int32_t> longer = tokens;
  longer.insert(longer.end(), {7, 7, 7, 7, 7, 7});
  EXPECT_EQ(cache.match(longer, 20), full);

  // Divergence in the middle of page 1 (token 6): only page 0 matches.
  std::vector<int32_t> diverged = tokens;
  diverged[6] = 999;
  EXPECT_EQ(cache.match(diverged, 14), std::vector<int32_t>{pages[0]});
  // Divergence at the first token: nothing.
  diverged = tokens;
  diverged[0] = 999;
  EXPECT_TRUE(cache.match(diverged, 14).empty());
  // Same tokens at a different offset are a different prefix.
  EXPECT_TRUE(cache.match(std::vector<int32_t>(tokens.begin() + 4, tokens.end()), 10).empty());
  // Matching takes no references: the cache's own are the only ones.
  for (int32_t p : full) EXPECT_EQ(pool.ref_count(p), 1);
  EXPECT_EQ(cache.check_integrity(), "");
}

TEST(RadixCache, SharedPrefixesShareNodes) {
  PagePool pool(64);
  RadixCache cache(&pool, kPage, Hash128{});
  std::vector<int32_t> system = iota_tokens(8, 1);  // two pages every conversation shares
  std::vector<int32_t> a = system, b = system;
  for (int i = 0; i < 8; ++i) a.push_back(50 + i), b.push_back(80 + i);
  const std::vector<int32_t> pa = cache_sequence(cache, pool, a);
  cache_sequence(cache, pool, b);
  const RadixCacheStats s = cache.stats();
  EXPECT_EQ(s.num_pages, 6);    // 2 shared + 2 + 2
  EXPECT_EQ(s.num_entries, 2);  // two leaves
  EXPECT_EQ(pool.num_used(), 6);
  // b's copy of the shared pages was not adopted: a's are the cached ones.
  EXPECT_EQ(cache.match(b, 16)[0], pa[0]);
  EXPECT_EQ(cache.match(b, 16)[1], pa[1]);
  EXPECT_EQ(cache.match(b, 16).size(), 4u);
}

TEST(RadixCache, InsertSwitchesADuplicateToTheCachedPage) {
  PagePool pool(16);
  RadixCache cache(&pool, kPage, Hash128{});
  const std::vector<int32_t> tokens = iota_tokens(8, 10);
  std::vector<int32_t> first, second;
  ASSERT_TRUE(pool.allocate(2, &first));
  ASSERT_TRUE(pool.allocate(2, &second));  // computed concurrently, before either was cached
  EXPECT_EQ(cache.insert(tokens, first, 2), 2);
  const std::vector<int32_t> second_own = second;
  EXPECT_EQ(cache.insert(tokens, second, 2), 0);
  EXPECT_EQ(second, first);  // now holds the cached pages
  for (int32_t p : second_own) EXPECT_EQ(pool.ref_count(p), 0);  // its duplicates are free
  for (int32_t p : first) EXPECT_EQ(pool.ref_count(p), 3);  // cache + both sequences
  EXPECT_EQ(cache.check_integrity(), "");
  pool.release_all(first);
  pool.release_all(second);
  cache.clear();
  EXPECT_EQ(pool.num_free(), pool.num_pages());
}

TEST(RadixCache, EvictsLeastRecentlyUsedLeavesThenTheirParents) {
  PagePool pool(32);
  RadixCache cache(&pool, kPage, Hash128{});
  const std::vector<int32_t> a = iota_tokens(8, 100), b = iota_tokens(8, 200), c = iota_tokens(8, 300);
  const std::vector<int32_t> pa = cache_sequence(cache, pool, a);
  const std::vector<int32_t> pb = cache_sequence(cache, pool, b);
  const std::vector<int32_t> pc = cache_sequence(cache, pool, c);
  cache.match(a, 8);  // a is now the most recent; b the least
  EXPECT_EQ(cache.evict(1), 1);
  EXPECT_EQ(pool.ref_count(pb[1]), 0);  // b's leaf first
  EXPECT_EQ(pool.ref_count(pb[0]), 1);
  EXPECT_EQ(cache.check_integrity(), "");
  EXPECT_EQ(cache.evict(2), 2);  // b's first page (now a leaf), then c's leaf
  EXPECT_EQ(pool.ref_count(pb[0]), 0);
  EXPECT_EQ(pool.ref_count(pc[1]), 0);
  EXPECT_EQ(pool.ref_count(pc[0]), 1);
  EXPECT_EQ(pool.ref_count(pa[1]), 1);
  EXPECT_EQ(cache.match(c, 8).size(), 1u);
  EXPECT_EQ(cache.check_integrity(), "");
  EXPECT_EQ(cache.stats().evicted_pages, 3);
}

TEST(RadixCache, NeverEvictsPagesSomeoneElseHolds) {
  PagePool pool(32);
  RadixCache cache(&pool, kPage, Hash128{});
  const std::vector<int32_t> a = iota_tokens(12, 100), b = iota_tokens(4, 500);
  const std::vector<int32_t> pa = cache_sequence(cache, pool, a);
  cache_sequence(cache, pool, b);
  cache.match(b, 4);
  // A running request adopted a's pages (a is the least recently used).
  std::vector<int32_t> adopted = cache.match(a, 12);
  for (int32_t p : adopted) pool.add_ref(p);
  cache.match(b, 4);
  EXPECT_EQ(cache.evict(10), 1);  // only b's page is unshared; a's chain stays
  EXPECT_EQ(cache.match(a, 12).size(), 3u);
  EXPECT_EQ(cache.stats().num_pages, 3);
  pool.release_all(adopted);
  EXPECT_EQ(cache.evict(10), 3);
  EXPECT_EQ(pool.num_free(), pool.num_pages());
  EXPECT_EQ(cache.check_integrity(), "");
}

TEST(RadixCache, IntegrityCheckCatchesAMissingReference) {
  PagePool pool(8);
  RadixCache cache(&pool, kPage, Hash128{});
  const std::vector<int32_t> pages = cache_sequence(cache, pool, iota_tokens(4, 1));
  pool.release(pages[0]);  // someone dropped the cache's reference
  EXPECT_NE(cache.check_integrity().find("no reference"), std::string::npos);
  std::vector<int32_t> again;  // give the reference back (the freed page is allocated next)
  ASSERT_TRUE(pool.allocate(1, &again));
  ASSERT_EQ(again[0], pages[0]);
  EXPECT_EQ(cache.check_integrity(), "");
}

TEST(ChainHash, IsFrozenAndSeparatesModelsAndPrefixes) {
  // The RAM/disk tiers key pages by these values across restarts: a change here must bump
  // kChainHashVersion (and then these constants).
  const Hash128 root = chain_root(Hash128{1, 2});
  const Hash128 h = chain_hash(root, iota_tokens(16, 0));
  EXPECT_EQ(h.lo, 0x658e147a2397ec01ull) << std::hex << h.lo;
  EXPECT_EQ(h.hi, 0x7974602c333d5882ull) << std::hex << h.hi;
  EXPECT_NE(chain_root(Hash128{1, 3}), root);
  EXPECT_NE(chain_hash(chain_root(Hash128{1, 3}), iota_tokens(16, 0)), h);
  std::vector<int32_t> t = iota_tokens(16, 0);
  for (size_t i = 0; i < t.size(); ++i) {
    std::vector<int32_t> u = t;
    u[i] ^= 1;
    EXPECT_NE(chain_hash(root, u), h) << "token " << i;
  }
  std::swap(t[3], t[4]);
  EXPECT_NE(chain_hash(root, t), h);
  EXPECT_NE(chain_hash(h, iota_tokens(16, 0)), h);  // the same page under another parent
}

}  // namespace
}  // namespace agentserve
