// The prefix cache: a radix tree over token ids at page granularity, shared by all requests.
// Each node covers exactly one full page (page_size tokens) of some prefix and holds that
// page's id with one PagePool reference owned by the cache. A request's prompt is looked up
// before prefill: the pages of its longest cached prefix are reused, so only the rest is
// computed. Sequences insert their pages as they fill; least-recently-used leaves whose page
// nobody else holds are evicted when the pool runs short.
//
// Node lookup: every node has a chain hash (chain_hash.h) of its whole prefix, and one hash
// table maps a chain hash to its node, so finding a child is one table probe — no per-node
// child containers — verified by comparing the parent and the page's tokens exactly (a hash
// collision can only cost a cache miss, never wrong KV). The chain hash is also the key the
// RAM and disk tiers will store pages under.
//
// Plain host code: page ids and reference counts only, the bytes live in the backend.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kv/chain_hash.h"
#include "kv/page_pool.h"

namespace agentserve {

struct RadixCacheStats {
  int64_t num_pages = 0;        // nodes = cached pages (each holds one pool reference)
  int64_t num_entries = 0;      // leaves: distinct cached prefixes that no longer one extends
  // Per request, as note_lookup() reports them (a request that waits and retries admission,
  // or comes back after preemption, is one lookup).
  int64_t lookups = 0;
  int64_t hits = 0;             // lookups that reused at least one page
  int64_t matched_tokens = 0;   // tokens served from the cache, summed over lookups
  int64_t inserted_pages = 0;
  int64_t evicted_pages = 0;
};

// A page entering or leaving the tree, as the RAM/disk tiers (kv/kv_tiers.h) need it: the
// key (chain), what it extends (parent chain; the root hash for the first page), its page
// index in the prefix, its tokens and the pool page holding its KV (still valid during the
// call: on_evict runs before the cache releases the page).
struct CachedPageInfo {
  Hash128 chain;
  Hash128 parent;
  int32_t depth = 0;
  std::span<const int32_t> tokens;
  int32_t page = -1;
};

class RadixCacheListener {
 public:
  virtual ~RadixCacheListener() = default;
  virtual void on_insert(const CachedPageInfo& page) = 0;  // a node was created
  virtual void on_evict(const CachedPageInfo& page) = 0;   // evict() removes a node
};

class RadixCache {
 public:
  // `pool` must outlive the cache. `model_fingerprint` seeds every chain hash (chain_root).
  RadixCache(PagePool* pool, int32_t page_size, Hash128 model_fingerprint);
  ~RadixCache();  // releases the cache's references
  RadixCache(const RadixCache&) = delete;
  RadixCache& operator=(const RadixCache&) = delete;

  int32_t page_size() const { return page_size_; }
  const Hash128& root_hash() const { return root_hash_; }

  // The pages of the longest cached prefix of tokens[0, max_tokens), full pages only, in
  // position order (matched tokens = result.size() * page_size). The cache keeps its
  // references; a caller that uses the pages takes its own (PagePool::add_ref). Touches the
  // matched path (LRU).
  std::vector<int32_t> match(std::span<const int32_t> tokens, int32_t max_tokens);
  // Counts one request's lookup in the stats (match() itself does not: the scheduler may match
  // a waiting request several times before it is admitted).
  void note_lookup(int32_t matched_tokens);

  // Registers the first num_full_pages pages of a sequence (pages[i] holds tokens
  // [i * page_size, (i + 1) * page_size)), taking one reference on each page it adopts.
  // Where a page of the same prefix is already cached, the cached one is kept and the
  // sequence switches to it: pages[i] is replaced by the cached id (the caller's reference
  // moves to it; its duplicate is released). Same tokens, same positions, so same KV; and a
  // sequence never pins two copies of one prefix. Touches the path. Returns pages adopted.
  int32_t insert(std::span<const int32_t> tokens, std::span<int32_t> pages, int32_t num_full_pages);

  // Frees up to max_pages pages: repeatedly the least-recently-used leaf whose page has no
  // owner but the cache (ref_count == 1); a parent whose last child goes becomes a leaf.
  // Returns the number of pages returned to the pool.
  int32_t evict(int32_t max_pages);

  // Drops every node and the cache's references (pages other owners hold stay theirs).
  void clear();

  // Whether `page` is a node's page, and that node's chain hash and depth (page index).
  bool holds(int32_t page) const {
    return page >= 0 && static_cast<size_t>(page) < node_of_page_.size() &&
           node_of_page_[static_cast<size_t>(page)] >= 0;
  }
  Hash128 chain_of_page(int32_t page) const;
  int32_t depth_of_page(int32_t page) const;
  template <class F>
  void for_each_page(F&& fn) const {
    for (const Node& n : nodes_)
      if (n.page >= 0) fn(n.page);
  }

  RadixCacheStats stats() const;

  // Told of every node insert() creates and evict() removes (not clear(): that is a request
  // to forget). Null: none. Must outlive the cache or be reset first.
  void set_listener(RadixCacheListener* listener) { listener_ = listener; }

  // Tree shape (parents live, child counts, depths), chain hashes recomputed from tokens, the
  // table maps exactly the live nodes, every node's page is distinct and referenced, the LRU
  // leaf set is exactly the leaves. Empty string when all holds, else the first violation.
  std::string check_integrity() const;

 private:
  static constexpr int32_t kRoot = -1;

  // 40 bytes; the page's tokens live in tokens_ at [node * page_size, (node + 1) * page_size)
  // so a lookup compares one contiguous run and nodes stay small and cache-friendly.
  struct Node {
    Hash128 chain;          // hash of the whole prefix through this page
    uint64_t last_use = 0;  // LRU tick of the last match/insert through this node
    int32_t page = -1;      // -1: a free slot
    int32_t parent = kRoot;
    int32_t num_children = 0;
    int32_t depth = 0;      // page index within the prefix
  };
  using LeafKey = std::pair<uint64_t, int32_t>;  // (last_use, node): oldest first

  // The child of `parent` holding `tokens` (one page) with chain hash `chain`, or -1.
  int32_t find_child(int32_t parent, const Hash128& chain, const int32_t* tokens) const;
  const int32_t* node_tokens(int32_t node) const {
    return tokens_.data() + static_cast<size_t>(node) * static_cast<size_t>(page_size_);
  }
  void touch(int32_t node, uint64_t tick);
  int32_t new_node(int32_t parent, const Hash128& chain, const int32_t* tokens, int32_t page);
  void remove_leaf(int32_t node);

  PagePool* pool_;
  int32_t page_size_;
  Hash128 root_hash_;
  uint64_t tick_ = 0;
  std::vector<Node> nodes_;
  std::vector<int32_t> tokens_;          // [nodes_.size() * page_size]
  std::vector<int32_t> free_nodes_;      // reusable slots of nodes_
  std::vector<int32_t> node_of_page_;    // [pool pages] node holding the page, or -1
  // chain.lo → node. The low 64 bits suffice as an in-memory index (a clash just makes the
  // second prefix uncacheable past that page); identity hashing: the key is already mixed.
  struct IdentityHash {
    size_t operator()(uint64_t k) const { return static_cast<size_t>(k); }
  };
  std::unordered_map<uint64_t, int32_t, IdentityHash> index_;
  std::set<LeafKey> leaves_;             // every leaf, by LRU tick
  CachedPageInfo info(int32_t node) const;

  RadixCacheListener* listener_ = nullptr;
  int32_t num_root_children_ = 0;
  int64_t cleared_pages_ = 0;  // dropped by clear(): keeps the stats' page balance checkable
  RadixCacheStats stats_;
};

}  // namespace agentserve
