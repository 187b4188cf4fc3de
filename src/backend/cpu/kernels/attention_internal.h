// Private to the attention family: one work item as plain data, handed from the driver
// (attention.cpp: batch walking, threads, scratch) to a per-ISA kernel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentserve::cpu::detail {

// Rows r < num_rows of one item: token first_token + r / group, query head
// kv_head * group + r % group, at position first_pos + r / group. A row sees the keys
// j in [key_begin, key_end) with j <= its position. With num_kv_heads > 1 (only for
// attention_task_avx512 with bf16 K/V and head_dim % 32 == 0) the item is that many
// consecutive kv heads, each with the same rows: head h's q, out and partial start
// h * group * head_dim floats (partial: h * num_rows * (head_dim + 2)) after head 0's, and
// its K/V blocks h * page_size * head_dim elements after head 0's.
struct AttentionTask {
  const float* q = nullptr;  // row r at q + (r / group) * token_stride + (r % group) * head_dim
  float* out = nullptr;      // same layout as q
  int64_t token_stride = 0;  // num_heads * head_dim
  int32_t num_rows = 0;
  int32_t num_kv_heads = 1;
  int32_t group = 1;
  int32_t head_dim = 0;
  int32_t first_pos = 0;
  float scale = 1.0f;
  int32_t key_begin = 0;
  int32_t key_end = INT32_MAX;
  // Key/value of position p: page = pages[p / page_size], slot = p % page_size, at element
  // page * page_stride + {k,v}_offset + slot * head_dim of `pool`.
  const int32_t* pages = nullptr;
  int32_t page_size = 0;
  const uint8_t* pool = nullptr;
  bool bf16 = false;
  size_t page_stride = 0;
  size_t k_offset = 0, v_offset = 0;
  // Null: rows are normalised into `out`. Else the unnormalised state of row r goes to
  // partial + r * (head_dim + 2): {running max of the scaled scores (-inf when the row saw no
  // key), Σ exp(score - max), Σ exp(score - max) V[j] (head_dim floats)}, and `out` is unused.
  float* partial = nullptr;
};

inline constexpr int32_t kMaxItemHeads = 64;

// Scratch floats a kernel needs for an item of num_rows rows per kv head.
inline size_t attention_scratch_floats(int32_t num_rows, int32_t head_dim,
                                       int32_t num_kv_heads = 1) {
  return static_cast<size_t>(num_kv_heads) * static_cast<size_t>(num_rows + 1) *
             (static_cast<size_t>(head_dim) * 2 + 2) +
         static_cast<size_t>(head_dim) * 33 + 64;
}

// Requires head_dim % 16 == 0 (and the conditions above for num_kv_heads > 1).
void attention_task_avx512(const AttentionTask& task, float* scratch);

// AMX tiles (attention_amx.cpp): bf16 K/V, head_dim % 32 == 0 and <= 256, num_kv_heads == 1,
// partial == null. Rounds q and the probabilities to bf16.
size_t attention_amx_scratch_bytes(int32_t num_rows, int32_t head_dim);
void attention_task_amx(const AttentionTask& task, void* scratch);

}  // namespace agentserve::cpu::detail
