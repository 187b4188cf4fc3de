#include "text/tokenizer/flat_tables.h"

#include "base/check.h"

namespace agentserve::tok {
namespace {

size_t capacity_for(size_t num_keys) {
  size_t cap = 16;
  while (cap < num_keys * 2) cap *= 2;  // load factor <= 1/2 keeps probes short
  return cap;
}

}  // namespace

void BytesToIdMap::reserve(size_t num_keys) {
  if (capacity_for(num_keys) <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity_for(num_keys), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    const std::string_view key(arena_.data() + s.offset, s.len);
    for (size_t i = hash_bytes(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id < 0) {
        slots_[i] = s;
        break;
      }
    }
  }
}

void BytesToIdMap::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

bool BytesToIdMap::insert(std::string_view key, int32_t id) {
  AS_CHECK_GE(id, 0);
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = hash_bytes(key);
  const uint32_t tag = static_cast<uint32_t>(hash >> 32);
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.id < 0) {
      AS_CHECK_LT(arena_.size() + key.size(), size_t{UINT32_MAX});
      s = Slot{tag, id, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size())};
      arena_.append(key);
      ++size_;
      return true;
    }
    if (s.tag == tag && s.len == key.size() &&
        std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0)
      return false;
  }
}

void MergeTable::reserve(size_t num_merges) {
  const size_t cap = capacity_for(num_merges);
  if (cap <= slots_.size() && size_ > 0) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    for (size_t i = mix(s.key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = s;
        break;
      }
    }
  }
}

void MergeTable::insert(int32_t left, int32_t right, Value value) {
  if ((size_ + 1) * 2 > slots_.size()) reserve(slots_.size());
  const uint64_t key = pack(left, right);
  AS_CHECK_NE(key, kEmpty);
  for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) {
      s.value = value;
      return;
    }
    if (s.key == kEmpty) {
      s.key = key;
      s.value = value;
      ++size_;
      return;
    }
  }
}

}  // namespace agentserve::tok
