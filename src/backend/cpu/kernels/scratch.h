// Per-thread scratch memory for kernels: grow-only, 64-byte aligned, reused across calls so
// that the hot path never allocates (and never page-faults) once warmed up. Each thread owns
// kNumScratchSlots independent buffers; a kernel names the slot it uses so that nested
// helpers do not hand out the same memory twice.
#pragma once

#include <cstddef>

namespace agentserve::cpu {

enum ScratchSlot : int {
  kScratchMatmulShared = 0,  // matmul: packed activations, shared by all threads of a call
  kScratchMatmulThread = 1,  // matmul: this thread's packed weight panel
  kScratchAttention = 2,     // attention: this thread's K/V tiles and query state
  kScratchAux = 3,           // anything short-lived in baseline code (conversions)
  kNumScratchSlots = 4,
};

// Returns at least `bytes` bytes of this thread's buffer for `slot`; the contents are
// unspecified. The pointer stays valid until the same thread asks for more bytes of the slot.
void* thread_scratch(ScratchSlot slot, size_t bytes);

}  // namespace agentserve::cpu
