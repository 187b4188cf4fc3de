// The host-RAM tier: pages the radix cache evicted from the KV pool, kept in process memory
// keyed by chain hash, least recently used dropped first when the byte capacity is reached.
// A hit takes the page out (it moves back into the pool, where the radix cache owns it; it
// comes back here when evicted again), so a page is never held twice in RAM. Engine thread
// only; the counters are atomics so that metrics read them from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "kv/page_record.h"

namespace agentserve {

class RamTier {
 public:
  explicit RamTier(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // Stores `record` (replacing one with the same key) as the most recently used; returns the
  // records dropped to stay within capacity, oldest first (the record itself when it alone is
  // larger than the capacity).
  std::vector<PageRecordPtr> put(PageRecordPtr record);
  bool contains(const Hash128& chain) const;
  // Removes and returns the record under `chain`, or null. Counts a lookup (and a hit).
  PageRecordPtr take(const Hash128& chain);
  void clear();

  int64_t capacity_bytes() const { return capacity_bytes_; }
  int64_t num_pages() const { return pages_.load(std::memory_order_relaxed); }
  int64_t num_bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t lookups() const { return lookups_.load(std::memory_order_relaxed); }
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }

 private:
  static int64_t cost(const PageRecord& r) {
    return static_cast<int64_t>(r.bytes.size() + r.tokens.size() * sizeof(int32_t));
  }
  struct IdentityHash {
    size_t operator()(uint64_t k) const { return static_cast<size_t>(k); }
  };
  using Lru = std::list<PageRecordPtr>;  // front: most recently used
  void erase(Lru::iterator it);

  int64_t capacity_bytes_;
  Lru lru_;
  std::unordered_map<uint64_t, Lru::iterator, IdentityHash> index_;  // chain.lo → entry
  std::atomic<int64_t> pages_{0}, bytes_{0}, lookups_{0}, hits_{0};
};

}  // namespace agentserve
