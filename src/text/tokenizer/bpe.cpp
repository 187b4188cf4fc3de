#include "text/tokenizer/bpe.h"

#include <algorithm>
#include <cstring>
#include <queue>
#include <unordered_map>

#include "base/check.h"
#include "base/utf8.h"
#include "text/tokenizer/byte_level.h"

namespace agentserve::tok {

Result<std::unique_ptr<BpeModel>> BpeModel::build(const BpeSpec& spec, const std::string& file) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->ignore_merges_ = spec.ignore_merges;
  m->fuse_unk_ = spec.fuse_unk;

  std::unordered_map<std::string_view, int32_t> by_string;
  by_string.reserve(spec.vocab.size() * 2);
  m->raw_vocab_.reserve(spec.vocab.size());
  std::string bytes;
  for (const auto& [token, id] : spec.vocab) {
    if (id < 0)
      return make_error(ErrorKind::kFormat, file + ": model.vocab: token '" + token +
                                                "' has id " + std::to_string(id) +
                                                ", expected a non-negative id");
    by_string.emplace(token, id);
    // Entries outside the byte-level alphabet can never be produced from byte-level input.
    if (byte_level_to_bytes(token, &bytes)) m->raw_vocab_.insert(bytes, id);
  }
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8_append(&ch, byte_to_unicode(static_cast<uint8_t>(b)));
    const auto it = by_string.find(ch);
    m->byte_id_[b] = it == by_string.end() ? -1 : it->second;
  }
  if (spec.unk_token) {
    const auto it = by_string.find(*spec.unk_token);
    if (it == by_string.end())
      return make_error(ErrorKind::kFormat, file + ": model.unk_token '" + *spec.unk_token +
                                                "' is not in model.vocab");
    m->unk_id_ = it->second;
  }

  m->merges_.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    auto find = [&](std::string_view s) {
      const auto it = by_string.find(s);
      return it == by_string.end() ? -1 : it->second;
    };
    const int32_t a = find(left);
    const int32_t b = find(right);
    joined.assign(left).append(right);
    const int32_t merged = find(joined);
    if (a < 0 || b < 0 || merged < 0) {
      const std::string& missing = a < 0 ? left : b < 0 ? right : joined;
      return make_error(ErrorKind::kFormat,
                        file + ": model.merges[" + std::to_string(rank) + "] ('" + left + "' '" +
                            right + "'): token '" + missing +
                            "' is not in model.vocab, expected every merge part and result there");
    }
    m->merges_.insert(a, b, {static_cast<uint32_t>(rank), merged});
  }
  return m;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (word.size() == 1) {
    const int32_t id = byte_id_[static_cast<uint8_t>(word[0])];
    if (id >= 0) {
      out->push_back(id);
    } else if (unk_id_ >= 0) {
      out->push_back(unk_id_);
    }
    return;
  }
  const uint64_t hash = hash_bytes(word);
  if (ignore_merges_) {
    const int32_t id = raw_vocab_.find(word, hash);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  if (cache_.lookup(word, hash, out)) return;
  const size_t before = out->size();
  merge_word(word, out);
  cache_.store(word, hash, out->data() + before, out->size() - before);
}

size_t BpeModel::initial_symbols(std::string_view word, int32_t* ids) const {
  size_t n = 0;
  bool last_unk = false;
  for (char c : word) {
    const int32_t id = byte_id_[static_cast<uint8_t>(c)];
    if (id >= 0) {
      ids[n++] = id;
      last_unk = false;
    } else if (unk_id_ >= 0) {
      // Hugging Face fuses consecutive unknowns into one symbol when fuse_unk is set.
      if (!(fuse_unk_ && last_unk)) ids[n++] = unk_id_;
      last_unk = true;
    }
  }
  return n;
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>* out,
                          MergePath path) const {
  if (word.empty()) return;
  const bool small = path == MergePath::kSmall ||
                     (path == MergePath::kAuto && word.size() <= kSmallWord);
  if (small && word.size() <= kSmallWord) {
    int32_t ids[kSmallWord];
    const size_t n = initial_symbols(word, ids);
    merge_small(ids, n, out);
    return;
  }
  std::vector<int32_t> ids(word.size());
  const size_t n = initial_symbols(word, ids.data());
  merge_heap(ids.data(), n, out);
}

// ids[0..n) -> merged; rank[i] / merged[i] describe the pair (ids[i], ids[i+1]).
void BpeModel::merge_small(int32_t* ids, size_t n, std::vector<int32_t>* out) const {
  uint32_t rank[kSmallWord];
  int32_t merged[kSmallWord];
  for (size_t i = 0; i + 1 < n; ++i) {
    const MergeTable::Value v = merges_.find(ids[i], ids[i + 1]);
    rank[i] = v.rank;
    merged[i] = v.merged_id;
  }
  while (n > 1) {
    size_t best = 0;
    uint32_t best_rank = rank[0];
    for (size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < best_rank) {
        best_rank = rank[i];
        best = i;
      }
    }
    if (best_rank == MergeTable::kNoRank) break;
    ids[best] = merged[best];
    // Drop symbol best+1 and pair best+1 (its old right pair becomes pair best).
    for (size_t i = best + 1; i + 1 < n; ++i) ids[i] = ids[i + 1];
    for (size_t i = best + 1; i + 2 < n; ++i) {
      rank[i] = rank[i + 1];
      merged[i] = merged[i + 1];
    }
    --n;
    if (best > 0) {
      const MergeTable::Value v = merges_.find(ids[best - 1], ids[best]);
      rank[best - 1] = v.rank;
      merged[best - 1] = v.merged_id;
    }
    if (best + 1 < n) {
      const MergeTable::Value v = merges_.find(ids[best], ids[best + 1]);
      rank[best] = v.rank;
      merged[best] = v.merged_id;
    }
  }
  out->insert(out->end(), ids, ids + n);
}

void BpeModel::merge_heap(const int32_t* initial, size_t n, std::vector<int32_t>* out) const {
  if (n == 0) return;
  struct Symbol {
    int32_t id;  // -1: merged into its left neighbour
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> sym(n);
  for (size_t i = 0; i < n; ++i)
    sym[i] = {initial[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i + 1) : -1};
  // (rank << 32 | left position): the lowest rank first, then the leftmost pair.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<uint64_t>> heap;
  auto push_pair = [&](int32_t left) {
    const int32_t right = sym[left].next;
    if (right < 0) return;
    const MergeTable::Value v = merges_.find(sym[left].id, sym[right].id);
    if (v.rank != MergeTable::kNoRank)
      heap.push((static_cast<uint64_t>(v.rank) << 32) | static_cast<uint32_t>(left));
  };
  for (size_t i = 0; i + 1 < n; ++i) push_pair(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const uint64_t top = heap.top();
    heap.pop();
    const uint32_t rank = static_cast<uint32_t>(top >> 32);
    const int32_t left = static_cast<int32_t>(top & 0xFFFFFFFFu);
    if (sym[left].id < 0) continue;
    const int32_t right = sym[left].next;
    if (right < 0) continue;
    // A stale entry: the pair at `left` changed since it was pushed (ranks are unique per pair).
    const MergeTable::Value v = merges_.find(sym[left].id, sym[right].id);
    if (v.rank != rank) continue;
    sym[left].id = v.merged_id;
    sym[left].next = sym[right].next;
    if (sym[right].next >= 0) sym[sym[right].next].prev = left;
    sym[right].id = -1;
    if (sym[left].prev >= 0) push_pair(sym[left].prev);
    push_pair(left);
  }
  for (int32_t i = 0; i >= 0; i = sym[i].next) out->push_back(sym[i].id);
}

}  // namespace agentserve::tok
