#include "backend/cpu/kernels/scratch.h"

#include <cstdlib>

#include "base/check.h"

namespace agentserve::cpu {
namespace {

struct ScratchBuffers {
  void* data[kNumScratchSlots] = {};
  size_t size[kNumScratchSlots] = {};
  ~ScratchBuffers() {
    for (void* p : data) std::free(p);
  }
};

thread_local ScratchBuffers t_scratch;

}  // namespace

void* thread_scratch(ScratchSlot slot, size_t bytes) {
  AS_CHECK(slot >= 0 && slot < kNumScratchSlots);
  if (bytes > t_scratch.size[slot]) {
    std::free(t_scratch.data[slot]);
    // Round up generously so that a slowly growing request does not reallocate every call.
    size_t want = bytes + bytes / 4;
    want = (want + 4095) & ~size_t{4095};
    t_scratch.data[slot] = std::aligned_alloc(4096, want);
    AS_CHECK_MSG(t_scratch.data[slot] != nullptr, "out of memory for kernel scratch");
    t_scratch.size[slot] = want;
  }
  return t_scratch.data[slot];
}

}  // namespace agentserve::cpu
