#include "kv/ram_tier.h"

namespace agentserve {

void RamTier::erase(Lru::iterator it) {
  pages_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(cost(**it), std::memory_order_relaxed);
  index_.erase((*it)->chain.lo);
  lru_.erase(it);
}

std::vector<PageRecordPtr> RamTier::put(PageRecordPtr record) {
  std::vector<PageRecordPtr> dropped;
  if (auto it = index_.find(record->chain.lo); it != index_.end()) erase(it->second);
  const int64_t c = cost(*record);
  if (c > capacity_bytes_) {
    dropped.push_back(std::move(record));
    return dropped;
  }
  while (!lru_.empty() && num_bytes() + c > capacity_bytes_) {
    auto last = std::prev(lru_.end());
    dropped.push_back(*last);
    erase(last);
  }
  lru_.push_front(std::move(record));
  index_[lru_.front()->chain.lo] = lru_.begin();
  pages_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(c, std::memory_order_relaxed);
  return dropped;
}

bool RamTier::contains(const Hash128& chain) const {
  auto it = index_.find(chain.lo);
  return it != index_.end() && (*it->second)->chain == chain;
}

PageRecordPtr RamTier::take(const Hash128& chain) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  auto it = index_.find(chain.lo);
  if (it == index_.end() || (*it->second)->chain != chain) return nullptr;
  PageRecordPtr r = *it->second;
  erase(it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void RamTier::clear() {
  while (!lru_.empty()) erase(lru_.begin());
}

}  // namespace agentserve
