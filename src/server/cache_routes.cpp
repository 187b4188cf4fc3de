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
  const CacheStats cs = model.engine->cache_stats();
  s.enabled = model.engine->prefix_cache() != nullptr;  // fixed at construction: safe to read
  s.page_size = model.kv_page_size;
  s.page_bytes = cs.page_bytes;
  s.entries = cs.entries;
  s.lookups = cs.pool.lookups;
  s.hits = cs.pool.hits;
  s.reused_tokens = cs.reused_tokens;
  s.cached_tokens = cs.pool.pages * s.page_size;
  CacheTierSnapshot device{"device", cs.pool.pages, cs.pool.bytes, cs.pool.capacity_bytes,
                           cs.pool.lookups, cs.pool.hits,
                           model.engine->gauges().kv_pages_used.load(std::memory_order_relaxed), ""};
  s.tiers.push_back(std::move(device));
  if (cs.ram.capacity_bytes > 0)
    s.tiers.push_back({"ram", cs.ram.pages, cs.ram.bytes, cs.ram.capacity_bytes, cs.ram.lookups, cs.ram.hits, -1, ""});
  if (!cs.disk_dir.empty())
    s.tiers.push_back({"disk", cs.disk.pages, cs.disk.bytes, cs.disk.capacity_bytes, cs.disk.lookups,
                       cs.disk.hits, -1, cs.disk_dir});
  return s;
}

void register_cache_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/v1/cache", [&ctx](std::shared_ptr<HttpExchange> ex) {
    const CacheSnapshot s = cache_snapshot(ctx.model());
    ordered_json tiers = ordered_json::array();
    for (const CacheTierSnapshot& t : s.tiers) {
      ordered_json j = {{"tier", t.name},
                        {"pages", t.pages},
                        {"bytes", t.bytes},
                        {"capacity_pages", s.page_bytes > 0 ? t.capacity_bytes / s.page_bytes : 0},
                        {"capacity_bytes", t.capacity_bytes},
                        {"lookups", t.lookups},
                        {"hits", t.hits}};
      if (t.pages_in_use >= 0) j["pages_in_use"] = t.pages_in_use;
      if (!t.dir.empty()) j["dir"] = t.dir;
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
        // freed_*: the device tier (the KV pool); the RAM and disk tiers are emptied whole.
        respond_json(*ex, 200,
                     {{"object", "prefix_cache.clear"},
                      {"enabled", enabled},
                      {"freed_pages", r.pages_freed},
                      {"freed_bytes", r.pages_freed * page_bytes},
                      {"freed_tokens", r.pages_freed * page_size},
                      {"freed_ram_pages", r.ram_pages_freed},
                      {"freed_disk_pages", r.disk_pages_freed},
                      // Prefixes running requests use stay cached (and are released with them).
                      {"kept_pages", r.pages_kept},
                      {"kept_entries", r.entries_kept}});
      });
    });
  });
}

}  // namespace agentserve::server
