#include "server/metrics.h"

#include <fmt/core.h>

namespace agentserve::server {

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::append_prometheus(std::string* out, std::string_view name,
                                  std::string_view help) const {
  *out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  *out += fmt::format("{}_sum {}\n{}_count {}\n", name,
                      static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6, name,
                      count_.load(std::memory_order_relaxed));
}

void Metrics::count_request(std::string_view endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{std::string(endpoint), status}];
}

void Metrics::add_tokens(int64_t prompt, int64_t cached, int64_t generated) {
  prompt_tokens_.fetch_add(prompt, std::memory_order_relaxed);
  cached_tokens_.fetch_add(cached, std::memory_order_relaxed);
  generated_tokens_.fetch_add(generated, std::memory_order_relaxed);
}

Metrics::TokenTotals Metrics::token_totals() const {
  return {prompt_tokens_.load(std::memory_order_relaxed), cached_tokens_.load(std::memory_order_relaxed),
          generated_tokens_.load(std::memory_order_relaxed)};
}

void Metrics::count_cache_clear(int64_t pages_freed) {
  cache_clears_.fetch_add(1, std::memory_order_relaxed);
  cache_cleared_pages_.fetch_add(pages_freed, std::memory_order_relaxed);
}

std::string Metrics::prometheus_text(const Gauges& g) const {
  std::string out;
  out += "# HELP agentserve_requests_total HTTP requests by endpoint and status.\n";
  out += "# TYPE agentserve_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, n] : requests_)
      out += fmt::format("agentserve_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                         key.first, key.second, n);
  }
  auto counter = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  counter("agentserve_prompt_tokens_total", "Prompt tokens of finished requests.",
          prompt_tokens_.load(std::memory_order_relaxed));
  counter("agentserve_cached_prompt_tokens_total", "Prompt tokens served from the prefix cache.",
          cached_tokens_.load(std::memory_order_relaxed));
  counter("agentserve_generated_tokens_total", "Generated tokens.",
          generated_tokens_.load(std::memory_order_relaxed));
  ttft_.append_prometheus(&out, "agentserve_time_to_first_token_seconds",
                          "Time from submission to the first generated token.");
  itl_.append_prometheus(&out, "agentserve_inter_token_latency_seconds",
                         "Time between consecutive generated tokens of a request.");
  token_to_socket_.append_prometheus(&out, "agentserve_token_to_socket_seconds",
                                     "Time from the engine producing a token to its bytes going to the socket (the start of the send; for text held back by design, for a possible stop string or tag, from the token that released it).");
  socket_send_.append_prometheus(&out, "agentserve_socket_send_seconds",
                                 "Duration of a streamed write's send call (on loopback it includes the client's receive, and the time the client it woke ran first).");
  counter("agentserve_stream_stalls_total",
          "Times a streamed response found its client's socket buffer full (a client reading slower than the server writes).",
          stream_stalls_.load(std::memory_order_relaxed));
  queue_.append_prometheus(&out, "agentserve_queue_seconds",
                           "Time a finished request waited for a running slot or KV pages.");
  prefill_.append_prometheus(&out, "agentserve_prefill_seconds",
                             "Time a finished request spent computing its uncached prompt, up to its first token.");
  out += fmt::format(
      "# HELP agentserve_engine_busy_seconds_total Time the engine spent computing steps.\n"
      "# TYPE agentserve_engine_busy_seconds_total counter\nagentserve_engine_busy_seconds_total {:.6f}\n",
      g.engine_busy_seconds);
  out += fmt::format(
      "# HELP agentserve_engine_forward_seconds_total Part of the engine's busy time spent in forward passes (the rest: sampling and handing tokens over).\n"
      "# TYPE agentserve_engine_forward_seconds_total counter\nagentserve_engine_forward_seconds_total {:.6f}\n",
      g.engine_forward_seconds);
  counter("agentserve_engine_steps_total", "Engine steps (forward passes).", g.engine_steps);
  out += fmt::format(
      "# HELP agentserve_io_thread_cpu_seconds_total CPU time of the HTTP I/O threads.\n"
      "# TYPE agentserve_io_thread_cpu_seconds_total counter\nagentserve_io_thread_cpu_seconds_total {:.6f}\n",
      g.io_thread_cpu_seconds);
  gauge("agentserve_queue_depth", "Requests waiting for the engine.", g.queue_depth);
  gauge("agentserve_running_sequences", "Sequences being computed.", g.running);
  gauge("agentserve_kv_pages_used", "KV cache pages in use.", g.kv_pages_used);
  gauge("agentserve_kv_pages_total", "KV cache pages in the pool.", g.kv_pages_total);
  // The RAM and disk tiers, one labelled series each.
  auto tiers = [&](const char* name, const char* type, const char* help, int64_t Metrics::Gauges::Tier::*field) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    out += fmt::format("{}{{tier=\"ram\"}} {}\n{}{{tier=\"disk\"}} {}\n", name, g.kv_ram.*field, name,
                       g.kv_disk.*field);
  };
  tiers("agentserve_kv_tier_pages", "gauge", "KV pages held by the RAM and disk tiers.", &Gauges::Tier::pages);
  tiers("agentserve_kv_tier_bytes", "gauge", "Bytes of KV pages held by the RAM and disk tiers.", &Gauges::Tier::bytes);
  tiers("agentserve_kv_tier_capacity_bytes", "gauge", "Capacity of the RAM and disk tiers.",
        &Gauges::Tier::capacity_bytes);
  tiers("agentserve_kv_tier_lookups_total", "counter", "KV pages looked up in a tier (the pool did not have them).",
        &Gauges::Tier::lookups);
  tiers("agentserve_kv_tier_hits_total", "counter", "KV pages a tier supplied to a request.", &Gauges::Tier::hits);
  gauge("agentserve_kv_pages_cached", "KV pages held by the prefix cache (some also in use by requests).",
        g.prefix_cache_pages);
  gauge("agentserve_prefix_cache_entries", "Distinct cached prefixes (radix tree leaves).", g.prefix_cache_entries);
  counter("agentserve_prefix_cache_lookups_total", "Requests looked up in the prefix cache.", g.prefix_cache_lookups);
  counter("agentserve_prefix_cache_hits_total", "Requests that reused cached KV.", g.prefix_cache_hits);
  counter("agentserve_prefix_cache_reused_tokens_total", "Prompt tokens whose KV came from the prefix cache.",
          g.prefix_cache_matched_tokens);
  gauge("agentserve_kv_page_bytes", "Bytes of one KV page (all layers, K and V): pages times this is bytes.",
        g.kv_page_bytes);
  counter("agentserve_prefix_cache_clears_total", "POST /v1/cache/clear calls answered.",
          cache_clears_.load(std::memory_order_relaxed));
  counter("agentserve_prefix_cache_cleared_pages_total", "Pages POST /v1/cache/clear returned to the pool.",
          cache_cleared_pages_.load(std::memory_order_relaxed));
  return out;
}

}  // namespace agentserve::server
