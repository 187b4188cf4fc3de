// How many tokens of context (and of KV cache pool) a server gets when the user does not say.
//
// A fixed small default breaks agents: Claude Code's first request alone is ~20k tokens (system
// prompt and tool schemas), so a server started with 8,192 answered it "prompt is too long".
// The default is the model's own maximum context, as far as its KV cache fits a share of the
// memory the weights leave; the pool is allocated lazily, so what is not used is not resident,
// but the prefix cache fills it over time, so its size is a real commitment.
#pragma once

#include <cstdint>
#include <string>

namespace agentserve {

struct ContextSizeInputs {
  int64_t requested = 0;           // --ctx; 0: choose
  int64_t model_max = 0;           // config.json max_position_embeddings
  int64_t kv_bytes_per_token = 0;  // every layer's K and V for one position
  int64_t weight_bytes = 0;
  int64_t ram_bytes = 0;           // physical memory; 0: unknown
  int32_t page_size = 16;
};

struct ContextSize {
  int64_t tokens = 0;  // KV pool capacity and the longest request
  std::string why;     // for the startup log: where the number came from
};

// The share of the RAM left after the weights that the default pool may take, and its cap.
inline constexpr double kDefaultKvRamShare = 0.25;
inline constexpr int64_t kDefaultKvMaxBytes = 32ll << 30;
// The default never goes below this (the former fixed default), memory permitting or not.
inline constexpr int64_t kMinDefaultContext = 8192;

ContextSize choose_context_size(const ContextSizeInputs& in);

}  // namespace agentserve
