#include "server/cache_routes.h"

#include <nlohmann/json.hpp>

#include "server/metrics.h"

namespace agentserve::server {
namespace {

using nlohmann::ordered_json;

void respond_json(HttpExchange& ex, int status, const ordered_json& j) {
  ex.respond(status, "application/json", j.dump());
}

}  // namespace

CacheSnapshot cache_snapshot(const ServedModel& model) {
  CacheSnapshot s;
  const EngineGauges& g = model.engine->gauges();
  s.enabled = model.engine->prefix_cache() != nullptr;  // fixed at construction: safe to read
  s.page_size = model.kv_page_size;
  s.entries = g.prefix_cache_entries.load(std::memory_order_relaxed);
  s.lookups = g.prefix_cache_lookups.load(std::memory_order_relaxed);
  s.hits = g.prefix_cache_hits.load(std::memory_order_relaxed);
  s.reused_tokens = g.prefix_cache_matched_tokens.load(std::memory_order_relaxed);
  CacheTierSnapshot device;
  device.name = "device";
  device.pages_cached = g.prefix_cache_pages.load(std::memory_order_relaxed);
  device.pages_used = g.kv_pages_used.load(std::memory_order_relaxed);
  device.pages_total = g.kv_pages_total.load(std::memory_order_relaxed);
  device.page_bytes = model.kv_page_bytes;
  s.cached_tokens = device.pages_cached * s.page_size;
  s.tiers.push_back(device);
  return s;
}

void register_cache_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/v1/cache", [&ctx](std::shared_ptr<HttpExchange> ex) {
    const CacheSnapshot s = cache_snapshot(ctx.model());
    ordered_json tiers = ordered_json::array();
    for (const CacheTierSnapshot& t : s.tiers) {
      ordered_json j = {{"tier", t.name},
                        {"pages", t.pages_cached},
                        {"bytes", t.pages_cached * t.page_bytes},
                        {"capacity_pages", t.pages_total},
                        {"capacity_bytes", t.pages_total * t.page_bytes}};
      if (t.pages_used >= 0) j["pages_in_use"] = t.pages_used;
      tiers.push_back(std::move(j));
    }
    const Metrics::TokenTotals totals = ctx.metrics().token_totals();
    respond_json(*ex, 200,
                 {{"object", "prefix_cache"},
                  {"enabled", s.enabled},
                  {"page_size", s.page_size},
                  {"tiers", std::move(tiers)},
                  {"entries", s.entries},
                  {"cached_tokens", s.cached_tokens},
                  {"lookups", s.lookups},
                  {"hits", s.hits},
                  {"hit_ratio", s.lookups > 0 ? static_cast<double>(s.hits) / static_cast<double>(s.lookups) : 0.0},
                  {"reused_tokens", s.reused_tokens},
                  // Of the prompt tokens of finished requests, the share served from the cache:
                  // what the cache saved in prefill.
                  {"prompt_tokens", totals.prompt},
                  {"reused_token_ratio",
                   totals.prompt > 0 ? static_cast<double>(totals.cached) / static_cast<double>(totals.prompt) : 0.0},
                  {"clears", ctx.metrics().cache_clears()}});
  });
  router.add("POST", "/v1/cache/clear", [&ctx](std::shared_ptr<HttpExchange> ex) {
    const ServedModel& model = ctx.model();
    const int64_t page_bytes = model.kv_page_bytes;
    const int32_t page_size = model.kv_page_size;
    const bool enabled = model.engine->prefix_cache() != nullptr;
    // The engine thread owns the radix cache: the clear runs there, before its next step, and
    // the answer is sent from this exchange's I/O thread.
    model.engine->request_cache_clear([&ctx, ex, page_bytes, page_size, enabled](CacheClearResult r) {
      ex->post([&ctx, ex, r, page_bytes, page_size, enabled] {
        ctx.metrics().count_cache_clear(r.pages_freed);
        respond_json(*ex, 200,
                     {{"object", "prefix_cache.clear"},
                      {"enabled", enabled},
                      {"freed_pages", r.pages_freed},
                      {"freed_bytes", r.pages_freed * page_bytes},
                      {"freed_tokens", r.pages_freed * page_size},
                      // Prefixes running requests use stay cached (and are released with them).
                      {"kept_pages", r.pages_kept},
                      {"kept_entries", r.entries_kept}});
      });
    });
  });
}

}  // namespace agentserve::server
