// The engine's state for one request in flight.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/request.h"
#include "engine/sampler.h"

namespace agentserve {

struct Sequence {
  GenerationRequest request;
  std::vector<int32_t> tokens;   // prompt, then generated tokens
  int32_t num_computed = 0;      // leading tokens whose K/V are stored in `pages`
  int32_t num_generated = 0;
  std::vector<int32_t> pages;    // KV page ids in position order (page i holds positions
                                 // [i * page_size, (i + 1) * page_size))
  TokenHistory history;
  Rng rng;
  int32_t num_preemptions = 0;
  // Prompt tokens whose KV the prefix cache supplied at first admission (Usage reports it; a
  // preempted sequence re-matching its own pages does not count again).
  int32_t num_cached_prompt_tokens = 0;
  // Admitted, but num_cached_prompt_tokens waits for the tier loads in progress.
  bool cached_count_pending = false;
  bool start_announced = false;  // its kStarted event was pushed (GenerationRequest::announce_start)
  // Its next prompt pages are being read from the disk tier: it computes nothing until they
  // land (or turn out to be gone), and num_computed stays at a page boundary meanwhile.
  bool tier_loading = false;
  int32_t tier_read_until = 0;  // page index up to which disk reads have been queued
  int32_t num_inserted_pages = 0;  // leading full pages already registered in the prefix cache
  // First admission (unset until then), first token, and the steps that computed prompt
  // tokens: RequestTimings on the finish event.
  std::chrono::steady_clock::time_point admitted_at{}, first_token_at{};
  int32_t prefill_steps = 0;

  bool admitted_once() const { return admitted_at != std::chrono::steady_clock::time_point{}; }
  int32_t num_pending() const { return static_cast<int32_t>(tokens.size()) - num_computed; }
  bool is_prefilling() const { return num_pending() > 1; }
};

}  // namespace agentserve
