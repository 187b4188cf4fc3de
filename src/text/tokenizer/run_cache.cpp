#include "text/tokenizer/run_cache.h"

#include <cstring>

namespace agentserve::tok {

uint64_t RunCache::key_of(std::string_view run, int mode_key) {
  // FNV-1a over 8-byte words: fast on 100 KB runs, and collisions only cost a full compare.
  uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(mode_key);
  size_t i = 0;
  for (; i + 8 <= run.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, run.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < run.size(); ++i) h = (h ^ static_cast<uint8_t>(run[i])) * 0x100000001b3ull;
  return h ^ run.size();
}

bool RunCache::lookup(std::string_view run, int mode_key, std::vector<int32_t>* out) {
  const uint64_t key = key_of(run, mode_key);
  std::lock_guard<std::mutex> lock(mutex_);
  auto [begin, end] = index_.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    const Entry& e = *it->second;
    if (e.mode_key != mode_key || e.run != run) continue;
    out->insert(out->end(), e.ids.begin(), e.ids.end());
    lru_.splice(lru_.begin(), lru_, it->second);  // iterators stay valid
    return true;
  }
  return false;
}

void RunCache::insert(std::string_view run, int mode_key, const int32_t* ids, size_t count) {
  const uint64_t key = key_of(run, mode_key);
  Entry entry{key, std::string(run), mode_key, std::vector<int32_t>(ids, ids + count)};
  const size_t cost = entry.cost();
  std::lock_guard<std::mutex> lock(mutex_);
  if (cost > budget_) return;
  auto [begin, end] = index_.equal_range(key);
  for (auto it = begin; it != end; ++it)
    if (it->second->mode_key == mode_key && it->second->run == run) return;  // a racing insert
  evict_to(budget_ - cost);
  lru_.push_front(std::move(entry));
  index_.emplace(key, lru_.begin());
  bytes_ += cost;
}

void RunCache::evict_to(size_t budget) {
  while (bytes_ > budget && !lru_.empty()) {
    const Entry& victim = lru_.back();
    auto [begin, end] = index_.equal_range(victim.key);
    for (auto it = begin; it != end; ++it) {
      if (&*it->second == &victim) {
        index_.erase(it);
        break;
      }
    }
    bytes_ -= victim.cost();
    lru_.pop_back();
  }
}

void RunCache::set_budget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  budget_ = bytes;
  evict_to(budget_);
}

size_t RunCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

size_t RunCache::entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lru_.size();
}

}  // namespace agentserve::tok
