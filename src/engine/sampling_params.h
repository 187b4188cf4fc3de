// Per-request sampling parameters, as the API layers fill them.
#pragma once

#include <cstdint>

namespace agentserve {

struct SamplingParams {
  float temperature = 1.0f;         // 0 means greedy (argmax)
  int32_t top_k = 0;                // keep the k most likely tokens; 0 = off
  float top_p = 1.0f;               // keep the smallest set whose probability reaches p; 1 = off
  float min_p = 0.0f;               // drop tokens below min_p * p(most likely); 0 = off
  // Applied to every token seen so far, prompt and output (as Hugging Face and vLLM do):
  // positive logits are divided by it, negative ones multiplied. 1 = off.
  float repetition_penalty = 1.0f;
  // OpenAI semantics, over the generated tokens only: subtract presence_penalty once for each
  // token that occurred, and frequency_penalty times its count. 0 = off.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;                // with has_seed, the same request samples the same tokens
  bool has_seed = false;
  int32_t num_top_logprobs = 0;     // alternatives to report per token (0..20)
  bool want_logprobs = false;

  bool is_greedy() const { return temperature <= 0.0f; }
  bool uses_repetition_penalty() const {
    return repetition_penalty != 1.0f && repetition_penalty > 0.0f;
  }
};

}  // namespace agentserve
