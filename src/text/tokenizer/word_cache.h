// A bounded, thread-safe cache of pre-token bytes -> BPE ids. Most pre-tokens of real text
// repeat (" the", "    ", "if"), so the merge loop runs once per distinct word.
//
// Direct-mapped: each slot is guarded by a one-byte spin flag that is only ever try-locked;
// a thread that finds a slot busy just skips the cache for that word, so no thread waits.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace agentserve::tok {

class WordCache {
 public:
  static constexpr size_t kMaxKeyBytes = 46;
  static constexpr size_t kMaxIds = 16;

  explicit WordCache(size_t num_slots_log2 = 14);

  // Appends the cached ids of `word` to *out and returns true, or returns false (out untouched).
  bool lookup(std::string_view word, uint64_t hash, std::vector<int32_t>* out) const;
  // Remembers ids for word (ignored when too long or when the slot is busy).
  void store(std::string_view word, uint64_t hash, const int32_t* ids, size_t num_ids) const;

  static bool cacheable(std::string_view word) { return word.size() <= kMaxKeyBytes; }

 private:
  struct alignas(64) Slot {
    std::atomic<bool> busy{false};
    uint8_t key_len = 0;
    uint8_t num_ids = 0;  // 0: empty slot
    uint64_t hash = 0;
    char key[kMaxKeyBytes];
    int32_t ids[kMaxIds];
  };
  static_assert(sizeof(Slot) == 128);

  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
};

}  // namespace agentserve::tok
