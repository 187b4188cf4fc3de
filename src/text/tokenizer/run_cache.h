// Token ids of text runs already encoded. A rendered prompt is split at added tokens
// (<|im_start|>, <tool_call>, ...) into runs that are encoded independently of each other, and
// an agent's next prompt repeats all of the last one's runs but the newest few: the system
// prompt, the tool schemas and every earlier message. Caching ids by run lets a 50k-token
// follow-up prompt tokenize only its new messages.
//
// Keyed by the run's bytes (compared in full, not only hashed) and the special-token mode;
// least recently used runs go first once the cache holds more than its byte budget. Thread
// safe (workers render prompts in parallel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentserve::tok {

class RunCache {
 public:
  // Runs shorter than this are cheaper to encode than to look up and keep.
  static constexpr size_t kMinRunBytes = 256;

  explicit RunCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // Appends the cached ids of `run` (encoded with `mode_key`) to *out and returns true, or
  // returns false and appends nothing.
  bool lookup(std::string_view run, int mode_key, std::vector<int32_t>* out);
  void insert(std::string_view run, int mode_key, const int32_t* ids, size_t count);

  void set_budget(size_t bytes);
  size_t bytes() const;
  size_t entries() const;

 private:
  struct Entry {
    uint64_t key;  // key_of(run, mode_key), kept for eviction
    std::string run;
    int mode_key;
    std::vector<int32_t> ids;
    size_t cost() const { return run.size() + ids.size() * sizeof(int32_t) + 64; }
  };
  using Lru = std::list<Entry>;  // most recent first
  static uint64_t key_of(std::string_view run, int mode_key);
  void evict_to(size_t budget);

  mutable std::mutex mutex_;
  size_t budget_;
  size_t bytes_ = 0;
  Lru lru_;
  std::unordered_multimap<uint64_t, Lru::iterator> index_;
};

}  // namespace agentserve::tok
