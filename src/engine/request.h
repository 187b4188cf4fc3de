// Typed requests into the engine and events out of it. The HTTP layer (or the CLI) submits a
// GenerationRequest of token ids and reads EngineEvents from its channel; the engine never
// sees JSON, templates or text.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "engine/sampling_params.h"

namespace agentserve {

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", ...

struct StopConditions {
  int32_t max_new_tokens = 256;
  std::vector<int32_t> stop_token_ids;  // end of generation (eos and its friends)
  bool ignore_stop_tokens = false;      // benchmarks and golden tests run to max_new_tokens
};

struct Usage {
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;  // prompt tokens whose KV came from the prefix cache
  int32_t completion_tokens = 0;
};

// Where a request's time went inside the engine, on its finish event (the server's per-request
// log line). Zero where the phase was not reached.
struct RequestTimings {
  double queued_ms = 0;       // submitted -> first admitted (a free slot, KV pages)
  double prefill_ms = 0;      // first admitted -> first token (tier reads, prompt chunks)
  double decode_ms = 0;       // first token -> finish
  int32_t prefill_steps = 0;  // engine steps that computed prompt tokens of this request
  int32_t preemptions = 0;    // times it gave its KV pages up and was recomputed
};

struct EngineEvent {
  // kStarted (only for a request with announce_start): admitted, its prefix-cache lookup done
  // (usage.prompt_tokens and usage.cached_prompt_tokens are final), before its prefill.
  enum class Kind { kStarted, kToken, kFinish };
  Kind kind = Kind::kToken;
  SampleResult sample;                 // kToken
  FinishReason reason = FinishReason::kStop;  // kFinish
  Usage usage;                         // kFinish; kStarted: prompt and cached tokens
  RequestTimings timings;              // kFinish
  std::string error;                   // kFinish with kError: what went wrong
  int32_t stop_token = -1;             // kFinish with kStop: the stop token that ended it
  // When the engine produced it (set by EventChannel::push): the start of the latency from a
  // sampled token to its bytes on the socket.
  std::chrono::steady_clock::time_point produced_at{};
};

// One request's events, produced by the engine thread and consumed by one reader, who either
// blocks in pop() or sets a notify hook (called for each push — for token events within the
// engine's hand-over window — on the engine thread, outside the lock: it must only schedule
// work, e.g. post to an I/O loop) and drains with try_pop().
class EventChannel {
 public:
  void set_notify(std::function<void()> notify);
  // Queues the event, stamps its produced_at (returned), and wakes the consumer — unless
  // `notify` is false: then the pusher owes a notify_consumer() call (the engine groups the
  // wake-ups of a step's tokens: engine/handover_group.h).
  std::chrono::steady_clock::time_point push(EngineEvent event, bool notify = true);
  // Wakes the consumer: its notify hook, or a pop() blocked on the channel.
  void notify_consumer();
  // Blocks until an event arrives; nullopt after the finish event has been taken.
  std::optional<EngineEvent> pop();
  std::optional<EngineEvent> try_pop();
  // Whether pushed events still wait for the consumer. Lock-free, so that the engine, which asks
  // after every token, never blocks on a consumer inside try_pop().
  bool has_pending() const { return queued_.load(std::memory_order_acquire) > 0; }
  // has_pending() for a consumer on another thread (one that set a notify hook or blocks in
  // pop()): one that is behind may be waiting for the engine's CPU. A consumer that drains with
  // try_pop() after Engine::step() returns (the CLI, benchmarks, tests) is never lagging.
  bool consumer_lagging() const {
    return async_consumer_.load(std::memory_order_relaxed) && has_pending();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<EngineEvent> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the mutex
  std::atomic<bool> async_consumer_{false};  // set_notify() or pop() was called
  // Shared so that push() takes it under the lock without copying the callable (a copy of a
  // capturing std::function is a heap allocation per token).
  std::shared_ptr<const std::function<void()>> notify_;
  bool finished_ = false;  // the finish event was pushed
  bool drained_ = false;   // ... and taken
};

struct GenerationRequest {
  uint64_t id = 0;
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  StopConditions stop;
  // Test-only scripted output (serve --test-script): generated position k takes forced[k]
  // instead of the sampled token while the list lasts; the forward pass still runs every step
  // (KV, prefix cache and batching stay real), stop tokens in the list end generation as usual,
  // max_new_tokens still applies, and sampling resumes after the list. nullptr: none.
  std::shared_ptr<const std::vector<int32_t>> forced_tokens;
  // Test-only, with forced_tokens: once the list is used up, the next position fails the
  // request as a backend failure would (FinishReason::kError with this message), so the APIs'
  // mid-stream error paths run end to end. Empty: no failure.
  std::string forced_failure;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<EventChannel> events = std::make_shared<EventChannel>();
  // Push a kStarted event once admitted and looked up in the prefix cache (the Anthropic stream
  // reports the cache split in message_start). Off: only kToken and kFinish events.
  bool announce_start = false;
  // Set by Engine::submit: the start of RequestTimings::queued_ms.
  std::chrono::steady_clock::time_point submitted_at{};
};

// Greedy decoding of exactly `n` tokens, stop tokens ignored: the request `agentserve bench`,
// the benchmarks and the tests that compare token streams run.
GenerationRequest fixed_length_greedy_request(std::vector<int32_t> prompt, int32_t n);

}  // namespace agentserve
