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

// The default size of the KV RAM tier (pages evicted from the pool, kept in host memory): a
// quarter of RAM, at most 32 GiB — but the weights, the pool and the tier together stay
// within kDefaultMemoryShare of RAM. Both the pool and the tier fill up over a long session
// (the prefix cache keeps everything it can), so a default that ignored the weights could
// commit most of the machine: a model of half the RAM, its pool and a quarter-RAM tier came to
// 87.5 %. Pages the tier cannot hold go to the disk tier.
inline constexpr double kDefaultRamTierShare = 0.25;
inline constexpr int64_t kDefaultRamTierMaxBytes = 32ll << 30;
inline constexpr double kDefaultMemoryShare = 0.75;

struct RamTierSize {
  int64_t bytes = 0;
  std::string why;  // for the startup log when the memory share set it; empty otherwise
};
// ram_bytes 0 (unknown): no RAM tier.
RamTierSize choose_ram_tier_size(int64_t ram_bytes, int64_t weight_bytes, int64_t pool_bytes);

}  // namespace agentserve
