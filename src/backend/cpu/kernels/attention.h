// Paged KV cache store and causal attention over it, for a mixed batch (prefill chunks and
// decode tokens of many sequences in one step; see backend/batch.h).
//
// Pool layout (KvGeometry, backend/backend.h): layer-major. Element (layer, page,
// kv ∈ {0: K, 1: V}, head, slot, d) at index
//   ((((layer * num_pages + page) * 2 + kv) * num_kv_heads + head) * page_size + slot)
//     * head_dim + d
// of dtype f32 or bf16 (bf16 stores round to nearest even). So one (layer, page, kv, head) is
// a contiguous [page_size, head_dim] block, one (layer, page) a contiguous block of
// 2 * num_kv_heads * page_size * head_dim elements, and a layer's K/V of consecutive page ids
// is one contiguous range (the page pool hands a fresh sequence consecutive ids). A page's
// bytes are num_layers such blocks, one per layer; CpuBackend's export/import/copy_page
// gather and scatter them.
// Position p of batch row `row` lives in page page_table[row * stride + p / page_size], slot
// p % page_size.
#pragma once

#include <cstdint>

#include "backend/backend.h"
#include "backend/batch.h"

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

struct KvPoolView {
  uint8_t* base = nullptr;  // geometry.num_pages * geometry.page_bytes() bytes
  KvGeometry geometry;
};

// Stores k and v (f32 [T, num_kv_heads, head_dim], T = batch.num_tokens()) of every batch
// token into its page slot of `layer`: token t goes to position batch.positions[t] of
// sequence batch.token_sequence[t]. Every page it touches must be a valid page id.
void kv_store(const Batch& batch, int32_t layer, const float* k, const float* v, KvPoolView kv);

// out[t, h, :] = Σ_j softmax_j(scale * q[t, h, :] · K[j]) V[j] over positions j = 0..p of
// token t's own sequence (p = its position: causal, the step's own K/V stored beforehand by
// kv_store), K/V of kv head h / (num_heads / num_kv_heads) (GQA). q, out: f32
// [T, num_heads, head_dim]; num_heads a multiple of num_kv_heads. Softmax in f32 with max
// subtraction, online over blocks of keys (no per-token allocation at any context length).
// Parallel over (sequence, kv head, block of tokens) work items; a decode token (a sequence
// with one token in the step) with a long context also splits its keys into spans of a fixed
// number of positions, merged afterwards (the split depends only on the context length).
void paged_attention(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                     int64_t num_heads, float scale, KvPoolView kv, float* out);

// Reference twin: for each (token, head) the plain two-pass softmax in double, keys read
// through the page table one by one.
void paged_attention_reference(ThreadPool& pool, const Batch& batch, int32_t layer, const float* q,
                               int64_t num_heads, float scale, KvPoolView kv, float* out);

}  // namespace agentserve::cpu
