#include "kv/page_pool.h"

#include "base/check.h"

namespace agentserve {

PagePool::PagePool(int32_t num_pages) : ref_counts_(static_cast<size_t>(num_pages), 0) {
  free_.reserve(static_cast<size_t>(num_pages));
  // Hand out low ids first (pop_back), which keeps small workloads in a compact region.
  for (int32_t p = num_pages - 1; p >= 0; --p) free_.push_back(p);
}

bool PagePool::allocate(int32_t count, std::vector<int32_t>* out) {
  AS_CHECK_GE(count, 0);
  if (count > num_free()) return false;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t page = free_.back();
    free_.pop_back();
    AS_CHECK_EQ(ref_counts_[static_cast<size_t>(page)], 0);
    ref_counts_[static_cast<size_t>(page)] = 1;
    out->push_back(page);
  }
  return true;
}

void PagePool::add_ref(int32_t page) {
  AS_CHECK(page >= 0 && page < num_pages());
  AS_CHECK_GT(ref_counts_[static_cast<size_t>(page)], 0);
  ++ref_counts_[static_cast<size_t>(page)];
}

void PagePool::release(int32_t page) {
  AS_CHECK(page >= 0 && page < num_pages());
  int32_t& count = ref_counts_[static_cast<size_t>(page)];
  AS_CHECK_GT(count, 0);
  if (--count == 0) free_.push_back(page);
}

void PagePool::release_all(const std::vector<int32_t>& pages) {
  for (int32_t p : pages) release(p);
}

std::string PagePool::check_integrity() const {
  std::vector<uint8_t> on_free_list(ref_counts_.size(), 0);
  for (int32_t p : free_) {
    if (p < 0 || p >= num_pages()) return "free list holds out-of-range page " + std::to_string(p);
    if (on_free_list[static_cast<size_t>(p)]++)
      return "page " + std::to_string(p) + " is on the free list twice";
    if (ref_counts_[static_cast<size_t>(p)] != 0)
      return "page " + std::to_string(p) + " is free but has " +
             std::to_string(ref_counts_[static_cast<size_t>(p)]) + " references";
  }
  for (size_t p = 0; p < ref_counts_.size(); ++p) {
    if (ref_counts_[p] < 0) return "page " + std::to_string(p) + " has a negative count";
    if (ref_counts_[p] == 0 && !on_free_list[p])
      return "page " + std::to_string(p) + " has no owner and is not free (leaked)";
  }
  return {};
}

}  // namespace agentserve
