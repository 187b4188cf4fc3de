// Rotary position embedding, "neox" / rotate_half pairing as in Hugging Face Llama and Qwen:
//
//   for token t, head h, i < D/2:
//     angle = positions[t] * inv_freq[i]          (f32 multiply, as HF's f32 matmul does)
//     c = cos(angle), s = sin(angle)               (f32 precision, of the f32 angle)
//     (x1, x2) = (x[t,h,i], x[t,h,i + D/2])
//     x[t,h,i] = x1 c - x2 s;   x[t,h,i + D/2] = x2 c + x1 s
//
// x: f32 [num_tokens, num_heads, head_dim] row-major, rotated in place; head_dim even;
// positions: [num_tokens]; inv_freq: [head_dim / 2] from the model (llama3 / yarn scaling
// already applied by the caller).
#pragma once

#include <cstdint>

namespace agentserve {
class ThreadPool;
}

namespace agentserve::cpu {

void rope(ThreadPool& pool, float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
          const int32_t* positions, const float* inv_freq);

// Reference twin: cos/sin of the f32 angle in double, rotation in double.
void rope_reference(ThreadPool& pool, float* x, int64_t num_tokens, int64_t num_heads,
                    int64_t head_dim, const int32_t* positions, const float* inv_freq);

}  // namespace agentserve::cpu
