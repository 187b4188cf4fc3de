// Open-addressing hash tables for the BPE hot path: no per-lookup allocation, no std::string
// keys, one probe sequence in one flat array. Internal to the tokenizer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace agentserve::tok {

// 64-bit hash of a short byte string (8 bytes per step, multiply-mix). Not cryptographic.
inline uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

// Byte string -> int32 id. Keys live in one arena.
class BytesToIdMap {
 public:
  void reserve(size_t num_keys);
  // Returns false (and changes nothing) when the key is already present.
  bool insert(std::string_view key, int32_t id);
  // -1 when absent. `hash` must be hash_bytes(key).
  int32_t find(std::string_view key, uint64_t hash) const {
    if (slots_.empty()) return -1;
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && s.len == key.size() &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
        return s.id;
    }
  }
  int32_t find(std::string_view key) const { return find(key, hash_bytes(key)); }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint32_t tag = 0;  // high half of the hash
    int32_t id = -1;   // -1: empty
    uint32_t offset = 0;
    uint32_t len = 0;
  };
  void grow();
  std::vector<Slot> slots_;
  std::string arena_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// (left id, right id) -> (rank, merged id) of the BPE merges.
class MergeTable {
 public:
  struct Value {
    uint32_t rank;
    int32_t merged_id;
  };
  static constexpr uint32_t kNoRank = UINT32_MAX;

  void reserve(size_t num_merges);
  // A pair already present is overwritten (the later merge wins, as in Hugging Face).
  void insert(int32_t left, int32_t right, Value value);
  // {kNoRank, -1} when the pair does not merge.
  Value find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == kEmpty) return {kNoRank, -1};
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{kNoRank, -1};
  };
  static uint64_t pack(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  static uint64_t mix(uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 32);
  }
  std::vector<Slot> slots_{1};
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace agentserve::tok
