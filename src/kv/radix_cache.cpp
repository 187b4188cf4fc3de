#include "kv/radix_cache.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace agentserve {

RadixCache::RadixCache(PagePool* pool, int32_t page_size, Hash128 model_fingerprint)
    : pool_(pool),
      page_size_(page_size),
      root_hash_(chain_root(model_fingerprint)),
      node_of_page_(static_cast<size_t>(pool->num_pages()), -1) {
  AS_CHECK_GT(page_size, 0);
}

RadixCache::~RadixCache() { clear(); }

int32_t RadixCache::find_child(int32_t parent, const Hash128& chain, const int32_t* tokens) const {
  auto it = index_.find(chain.lo);
  if (it == index_.end()) return -1;
  const Node& n = nodes_[static_cast<size_t>(it->second)];
  if (n.parent != parent || n.chain != chain) return -1;
  if (std::memcmp(node_tokens(it->second), tokens, sizeof(int32_t) * static_cast<size_t>(page_size_)) != 0)
    return -1;
  return it->second;
}

void RadixCache::touch(int32_t node, uint64_t tick) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (n.num_children == 0 && n.last_use != tick) {
    leaves_.erase({n.last_use, node});
    leaves_.insert({tick, node});
  }
  n.last_use = tick;
}

int32_t RadixCache::new_node(int32_t parent, const Hash128& chain, const int32_t* tokens, int32_t page) {
  int32_t id;
  if (!free_nodes_.empty()) {
    id = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    id = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
    tokens_.resize(tokens_.size() + static_cast<size_t>(page_size_));
  }
  Node& n = nodes_[static_cast<size_t>(id)];
  n.chain = chain;
  n.page = page;
  n.parent = parent;
  n.num_children = 0;
  n.last_use = tick_;
  std::memcpy(tokens_.data() + static_cast<size_t>(id) * static_cast<size_t>(page_size_), tokens,
              sizeof(int32_t) * static_cast<size_t>(page_size_));
  if (parent == kRoot) {
    n.depth = 0;
    ++num_root_children_;
  } else {
    Node& p = nodes_[static_cast<size_t>(parent)];
    n.depth = p.depth + 1;
    if (p.num_children++ == 0) leaves_.erase({p.last_use, parent});
  }
  leaves_.insert({n.last_use, id});
  index_.emplace(chain.lo, id);
  node_of_page_[static_cast<size_t>(page)] = id;
  pool_->add_ref(page);
  ++stats_.inserted_pages;
  if (listener_ != nullptr) listener_->on_insert(info(id));
  return id;
}

// The node must be a leaf already taken out of leaves_.
void RadixCache::remove_leaf(int32_t node) {
  Node& n = nodes_[static_cast<size_t>(node)];
  AS_CHECK_EQ(n.num_children, 0);
  if (listener_ != nullptr) listener_->on_evict(info(node));
  index_.erase(n.chain.lo);
  node_of_page_[static_cast<size_t>(n.page)] = -1;
  pool_->release(n.page);
  if (n.parent == kRoot) {
    --num_root_children_;
  } else {
    Node& p = nodes_[static_cast<size_t>(n.parent)];
    if (--p.num_children == 0) leaves_.insert({p.last_use, n.parent});
  }
  n.page = -1;
  n.parent = kRoot;
  free_nodes_.push_back(node);
}

void RadixCache::note_lookup(int32_t matched_tokens) {
  ++stats_.lookups;
  if (matched_tokens > 0) ++stats_.hits;
  stats_.matched_tokens += matched_tokens;
}

std::vector<int32_t> RadixCache::match(std::span<const int32_t> tokens, int32_t max_tokens) {
  const int32_t limit =
      std::min<int32_t>(max_tokens, static_cast<int32_t>(tokens.size())) / page_size_;
  std::vector<int32_t> pages;
  const uint64_t tick = ++tick_;
  int32_t node = kRoot;
  Hash128 chain = root_hash_;
  for (int32_t i = 0; i < limit; ++i) {
    const int32_t* page_tokens = tokens.data() + static_cast<size_t>(i) * static_cast<size_t>(page_size_);
    chain = chain_hash(chain, {page_tokens, static_cast<size_t>(page_size_)});
    const int32_t child = find_child(node, chain, page_tokens);
    if (child < 0) break;
    touch(child, tick);
    pages.push_back(nodes_[static_cast<size_t>(child)].page);
    node = child;
  }
  return pages;
}

int32_t RadixCache::insert(std::span<const int32_t> tokens, std::span<int32_t> pages,
                           int32_t num_full_pages) {
  AS_CHECK_LE(num_full_pages, static_cast<int32_t>(pages.size()));
  AS_CHECK_LE(static_cast<int64_t>(num_full_pages) * page_size_, static_cast<int64_t>(tokens.size()));
  const uint64_t tick = ++tick_;
  int32_t adopted = 0;
  int32_t node = kRoot;
  Hash128 chain = root_hash_;
  for (int32_t i = 0; i < num_full_pages; ++i) {
    const int32_t* page_tokens = tokens.data() + static_cast<size_t>(i) * static_cast<size_t>(page_size_);
    chain = chain_hash(chain, {page_tokens, static_cast<size_t>(page_size_)});
    int32_t& page = pages[static_cast<size_t>(i)];
    int32_t child = find_child(node, chain, page_tokens);
    if (child >= 0) {
      touch(child, tick);
      const int32_t cached = nodes_[static_cast<size_t>(child)].page;
      if (page != cached) {  // a duplicate computed before the cached copy existed
        pool_->add_ref(cached);
        pool_->release(page);
        page = cached;
      }
    } else {
      // Another prefix owns this 64-bit index slot (a clash, ~never): stop caching here.
      if (index_.count(chain.lo) != 0) break;
      // A page belongs to one prefix: the sequence reached it through this path, so it cannot
      // be cached elsewhere.
      AS_CHECK_MSG(!holds(page), "page " + std::to_string(page) + " is cached under another prefix");
      child = new_node(node, chain, page_tokens, page);
      touch(child, tick);
      ++adopted;
    }
    node = child;
  }
  return adopted;
}

int32_t RadixCache::evict(int32_t max_pages) {
  int32_t freed = 0;
  auto it = leaves_.begin();
  while (freed < max_pages && it != leaves_.end()) {
    const int32_t node = it->second;
    if (pool_->ref_count(nodes_[static_cast<size_t>(node)].page) != 1) {
      ++it;  // a sequence still uses it
      continue;
    }
    const int32_t parent = nodes_[static_cast<size_t>(node)].parent;
    it = leaves_.erase(it);
    remove_leaf(node);
    ++freed;
    ++stats_.evicted_pages;
    // The parent may just have become a leaf; it is at least as recently used as its child,
    // but with an equal tick it can sort before `it`: continue from there so it is not missed.
    if (parent != kRoot && nodes_[static_cast<size_t>(parent)].num_children == 0) {
      auto pit = leaves_.find({nodes_[static_cast<size_t>(parent)].last_use, parent});
      AS_CHECK(pit != leaves_.end());
      if (it == leaves_.end() || *pit < *it) it = pit;
    }
  }
  return freed;
}

void RadixCache::clear() {
  for (Node& n : nodes_) {
    if (n.page < 0) continue;
    node_of_page_[static_cast<size_t>(n.page)] = -1;
    pool_->release(n.page);
    ++cleared_pages_;
  }
  nodes_.clear();
  tokens_.clear();
  free_nodes_.clear();
  index_.clear();
  leaves_.clear();
  num_root_children_ = 0;
}

Hash128 RadixCache::chain_of_page(int32_t page) const {
  AS_CHECK(holds(page));
  return nodes_[static_cast<size_t>(node_of_page_[static_cast<size_t>(page)])].chain;
}

int32_t RadixCache::depth_of_page(int32_t page) const {
  AS_CHECK(holds(page));
  return nodes_[static_cast<size_t>(node_of_page_[static_cast<size_t>(page)])].depth;
}

CachedPageInfo RadixCache::info(int32_t node) const {
  const Node& n = nodes_[static_cast<size_t>(node)];
  CachedPageInfo i;
  i.chain = n.chain;
  i.parent = n.parent == kRoot ? root_hash_ : nodes_[static_cast<size_t>(n.parent)].chain;
  i.depth = n.depth;
  i.tokens = {node_tokens(node), static_cast<size_t>(page_size_)};
  i.page = n.page;
  return i;
}

RadixCacheStats RadixCache::stats() const {
  RadixCacheStats s = stats_;
  s.num_pages = static_cast<int64_t>(index_.size());
  s.num_entries = static_cast<int64_t>(leaves_.size());
  return s;
}

std::string RadixCache::check_integrity() const {
  auto fail = [](int32_t node, const std::string& what) {
    return "radix cache node " + std::to_string(node) + ": " + what;
  };
  std::vector<int32_t> children(nodes_.size(), 0);
  std::vector<uint8_t> page_seen(node_of_page_.size(), 0);
  int32_t root_children = 0;
  int64_t live = 0, num_leaves = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    const int32_t id = static_cast<int32_t>(i);
    if (n.page < 0) continue;
    ++live;
    if (n.page >= pool_->num_pages()) return fail(id, "page out of range");
    if (page_seen[static_cast<size_t>(n.page)]++) return fail(id, "page " + std::to_string(n.page) + " cached twice");
    if (node_of_page_[static_cast<size_t>(n.page)] != id) return fail(id, "page → node map disagrees");
    if (pool_->ref_count(n.page) < 1) return fail(id, "its page has no reference (the cache's is missing)");
    Hash128 parent_chain = root_hash_;
    if (n.parent == kRoot) {
      ++root_children;
      if (n.depth != 0) return fail(id, "a root child at depth " + std::to_string(n.depth));
    } else {
      if (n.parent < 0 || static_cast<size_t>(n.parent) >= nodes_.size() ||
          nodes_[static_cast<size_t>(n.parent)].page < 0)
        return fail(id, "its parent is not a live node");
      const Node& p = nodes_[static_cast<size_t>(n.parent)];
      ++children[static_cast<size_t>(n.parent)];
      if (n.depth != p.depth + 1) return fail(id, "depth is not its parent's + 1");
      if (p.last_use < n.last_use) return fail(id, "used more recently than its parent");
      parent_chain = p.chain;
    }
    if (chain_hash(parent_chain, {node_tokens(id), static_cast<size_t>(page_size_)}) != n.chain)
      return fail(id, "chain hash does not match its tokens and parent");
    auto it = index_.find(n.chain.lo);
    if (it == index_.end() || it->second != id) return fail(id, "not indexed by its chain hash");
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.page < 0) continue;
    if (children[i] != n.num_children)
      return fail(static_cast<int32_t>(i), "counts " + std::to_string(n.num_children) + " children, has " +
                                               std::to_string(children[i]));
    if (n.num_children == 0) {
      ++num_leaves;
      if (leaves_.count({n.last_use, static_cast<int32_t>(i)}) == 0)
        return fail(static_cast<int32_t>(i), "a leaf missing from the LRU set");
    }
  }
  if (root_children != num_root_children_) return "radix cache: root child count is wrong";
  if (static_cast<int64_t>(leaves_.size()) != num_leaves)
    return "radix cache: LRU set holds " + std::to_string(leaves_.size()) + " entries for " +
           std::to_string(num_leaves) + " leaves";
  if (static_cast<int64_t>(index_.size()) != live) return "radix cache: index size differs from live nodes";
  int64_t mapped = 0;
  for (int32_t node : node_of_page_) mapped += node >= 0;
  if (mapped != live) return "radix cache: page → node map has stale entries";
  if (stats_.inserted_pages - stats_.evicted_pages - cleared_pages_ != live)
    return "radix cache: inserted − evicted − cleared pages differs from live nodes";
  if (static_cast<int64_t>(free_nodes_.size()) + live != static_cast<int64_t>(nodes_.size()))
    return "radix cache: free node slots and live nodes do not add up";
  return {};
}

}  // namespace agentserve
