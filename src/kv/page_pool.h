// Page accounting for the paged KV cache: which page ids are free and how many owners each
// used page has (a sequence, and later the radix prefix cache). Plain host code: the bytes live
// in the backend; this class never touches them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace agentserve {

class PagePool {
 public:
  explicit PagePool(int32_t num_pages);

  int32_t num_pages() const { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_used() const { return num_pages() - num_free(); }

  // Takes `count` free pages (reference count 1 each) and appends them to *out; returns false
  // and takes nothing when fewer than `count` are free.
  bool allocate(int32_t count, std::vector<int32_t>* out);
  void add_ref(int32_t page);
  // Drops one reference; the page returns to the free list at zero.
  void release(int32_t page);
  void release_all(const std::vector<int32_t>& pages);
  int32_t ref_count(int32_t page) const { return ref_counts_[static_cast<size_t>(page)]; }

  // Every page is either free (count 0, on the free list once) or used (count > 0, not on
  // it). Returns an empty string when that holds, else the first violation.
  std::string check_integrity() const;

 private:
  std::vector<int32_t> ref_counts_;  // [num_pages]
  std::vector<int32_t> free_;        // free page ids; popped from the back
};

}  // namespace agentserve
