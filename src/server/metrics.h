// Server metrics in Prometheus' text format (GET /metrics): requests by endpoint and status,
// token counts, time-to-first-token and inter-token latency histograms, queue depth, KV pages.
// Updated from any thread (atomics and a mutex for the labelled counters).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace agentserve::server {

class Histogram {
 public:
  // Upper bounds in seconds (the last bucket is +Inf).
  // Sub-millisecond buckets first: the token-to-socket latency target is 1 ms at p99.
  static constexpr std::array<double, 18> kBounds = {0.0001, 0.00025, 0.0005, 0.00075, 0.001,
                                                     0.0025, 0.005,   0.01,   0.025,   0.05,
                                                     0.1,    0.25,    0.5,    1,       2.5,
                                                     5,      10,      30};
  void observe(double seconds);
  void append_prometheus(std::string* out, std::string_view name, std::string_view help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  void count_request(std::string_view endpoint, int status);
  void add_tokens(int64_t prompt, int64_t cached, int64_t generated);
  struct TokenTotals {
    int64_t prompt = 0, cached = 0, generated = 0;
  };
  TokenTotals token_totals() const;
  // POST /v1/cache/clear: one clear that returned `pages_freed` pages to the pool.
  void count_cache_clear(int64_t pages_freed);
  int64_t cache_clears() const { return cache_clears_.load(std::memory_order_relaxed); }
  Histogram& time_to_first_token() { return ttft_; }
  Histogram& inter_token_latency() { return itl_; }
  // From the engine producing a token to its bytes going to the socket; text the pipeline
  // holds back by design (a possible stop string, reasoning or tool-call tag) counts from the
  // token that released it.
  Histogram& token_to_socket() { return token_to_socket_; }
  // One streamed write's send call: the kernel's work (on loopback, also the client's receive)
  // and any time the thread lost its CPU inside it, to the client it woke among others.
  Histogram& socket_send() { return socket_send_; }
  // A stream's client stopped keeping up: its socket buffer was full, so output waits in the
  // server until the client reads (other streams are not held up).
  void count_stream_stall() { stream_stalls_.fetch_add(1, std::memory_order_relaxed); }
  // Per finished request, from the engine's timings: waiting for a slot or KV pages, and
  // computing the prompt (its uncached part, disk-tier reads included) up to the first token.
  Histogram& queue_time() { return queue_; }
  Histogram& prefill_time() { return prefill_; }

  struct Gauges {
    int64_t queue_depth = 0;    // requests waiting for the engine
    int64_t running = 0;        // sequences being computed
    int64_t kv_pages_used = 0;
    int64_t kv_pages_total = 0;
    double engine_busy_seconds = 0;  // engine thread computing steps
    double engine_forward_seconds = 0;  // their forward passes (the rest: sampling, hand-over)
    int64_t engine_steps = 0;
    double io_thread_cpu_seconds = 0;  // the HTTP I/O threads' CPU time: the server's overhead
    struct Tier {  // a KV tier below the pool (kv/kv_tiers.h); zeros when off
      int64_t pages = 0, bytes = 0, capacity_bytes = 0, lookups = 0, hits = 0;
    };
    Tier kv_ram, kv_disk;
    int64_t prefix_cache_pages = 0;    // pages the prefix cache holds (some also in use)
    int64_t prefix_cache_entries = 0;
    int64_t prefix_cache_lookups = 0;
    int64_t prefix_cache_hits = 0;
    int64_t prefix_cache_matched_tokens = 0;
    int64_t kv_page_bytes = 0;         // bytes of one KV page: pages × this = bytes
  };
  std::string prometheus_text(const Gauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::atomic<int64_t> prompt_tokens_{0}, cached_tokens_{0}, generated_tokens_{0};
  std::atomic<int64_t> cache_clears_{0}, cache_cleared_pages_{0};
  std::atomic<int64_t> stream_stalls_{0};
  Histogram ttft_, itl_, token_to_socket_, socket_send_, queue_, prefill_;
};

}  // namespace agentserve::server
