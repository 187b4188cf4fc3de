// Private to the attention family: one work item as plain data, handed from the driver
// (attention.cpp: batch walking, threads, scratch) to a per-ISA kernel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentserve::cpu::detail {

// Rows r < num_rows of one item: token first_token + r / group, query head
// kv_head * group + r % group, at position first_pos + r / group. Keys 0..last position.
struct AttentionTask {
  const float* q = nullptr;  // row r at q + (r / group) * token_stride + (r % group) * head_dim
  float* out = nullptr;      // same layout as q
  int64_t token_stride = 0;  // num_heads * head_dim
  int32_t num_rows = 0;
  int32_t group = 1;
  int32_t head_dim = 0;
  int32_t first_pos = 0;
  float scale = 1.0f;
  // Key/value of position p: page = pages[p / page_size], slot = p % page_size, at element
  // page * page_stride + {k,v}_offset + slot * head_dim of `pool`.
  const int32_t* pages = nullptr;
  int32_t page_size = 0;
  const uint8_t* pool = nullptr;
  bool bf16 = false;
  size_t page_stride = 0;
  size_t k_offset = 0, v_offset = 0;
};

// Scratch floats a kernel needs for an item of num_rows rows.
inline size_t attention_scratch_floats(int32_t num_rows, int32_t head_dim) {
  return static_cast<size_t>(num_rows) * (static_cast<size_t>(head_dim) * 2 + 2) +
         static_cast<size_t>(head_dim) * 33 + 64;
}

// Requires head_dim % 16 == 0.
void attention_task_avx512(const AttentionTask& task, float* scratch);

}  // namespace agentserve::cpu::detail
