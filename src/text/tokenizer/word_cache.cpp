#include "text/tokenizer/word_cache.h"

#include <cstring>

namespace agentserve::tok {

WordCache::WordCache(size_t num_slots_log2)
    : slots_(new Slot[size_t{1} << num_slots_log2]), mask_((size_t{1} << num_slots_log2) - 1) {}

bool WordCache::lookup(std::string_view word, uint64_t hash, std::vector<int32_t>* out) const {
  if (!cacheable(word)) return false;
  Slot& s = slots_[hash & mask_];
  if (s.busy.exchange(true, std::memory_order_acquire)) return false;
  bool hit = s.num_ids > 0 && s.hash == hash && s.key_len == word.size() &&
             std::memcmp(s.key, word.data(), word.size()) == 0;
  if (hit) out->insert(out->end(), s.ids, s.ids + s.num_ids);
  s.busy.store(false, std::memory_order_release);
  return hit;
}

void WordCache::store(std::string_view word, uint64_t hash, const int32_t* ids,
                      size_t num_ids) const {
  if (!cacheable(word) || num_ids == 0 || num_ids > kMaxIds) return;
  Slot& s = slots_[hash & mask_];
  if (s.busy.exchange(true, std::memory_order_acquire)) return;
  s.hash = hash;
  s.key_len = static_cast<uint8_t>(word.size());
  std::memcpy(s.key, word.data(), word.size());
  std::memcpy(s.ids, ids, num_ids * sizeof(int32_t));
  s.num_ids = static_cast<uint8_t>(num_ids);
  s.busy.store(false, std::memory_order_release);
}

}  // namespace agentserve::tok
