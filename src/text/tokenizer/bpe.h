// Byte-level BPE model: one pre-token (raw bytes) -> token ids.
//
// Works on ids, never on strings: each byte starts as the id of its byte-level character, and
// merges are looked up as (left id, right id) -> (rank, merged id) in a flat hash table. The
// lowest rank merges first, the leftmost pair first among equal ranks (Hugging Face's order).
// Short words (the vast majority) merge in small stack arrays; long ones use a heap over a
// linked list, O(n log n).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "text/tokenizer/flat_tables.h"
#include "text/tokenizer/word_cache.h"

namespace agentserve::tok {

struct BpeSpec {
  std::vector<std::pair<std::string, int32_t>> vocab;  // byte-level strings as in the file
  std::vector<std::pair<std::string, std::string>> merges;
  bool ignore_merges = false;  // a pre-token that is itself in the vocabulary is emitted whole
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
};

class BpeModel {
 public:
  // `file` names tokenizer.json in errors.
  static Result<std::unique_ptr<BpeModel>> build(const BpeSpec& spec, const std::string& file);

  // Appends the ids of one pre-token (raw bytes, not byte-level characters).
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  // The merge loop alone (no cache, no ignore_merges): for tests and the benchmark.
  enum class MergePath { kAuto, kSmall, kHeap };
  void merge_word(std::string_view word, std::vector<int32_t>* out,
                  MergePath path = MergePath::kAuto) const;

  // Model-vocabulary id of these raw bytes, or -1.
  int32_t find_bytes(std::string_view bytes) const { return raw_vocab_.find(bytes); }
  size_t num_merges() const { return merges_.size(); }

 private:
  BpeModel() = default;
  static constexpr size_t kSmallWord = 64;

  // Initial symbols: one per byte (unknown bytes -> unk or dropped). Returns the count.
  size_t initial_symbols(std::string_view word, int32_t* ids) const;
  void merge_small(int32_t* ids, size_t n, std::vector<int32_t>* out) const;
  void merge_heap(const int32_t* ids, size_t n, std::vector<int32_t>* out) const;

  std::array<int32_t, 256> byte_id_{};  // id of each byte's byte-level character, -1 if none
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  MergeTable merges_;
  BytesToIdMap raw_vocab_;  // raw bytes of byte-level vocabulary entries -> id
  WordCache cache_;
};

}  // namespace agentserve::tok
