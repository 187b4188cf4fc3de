// The prefix cache's introspection endpoints (issue 5, item 5):
//   GET  /v1/cache        what is cached, per tier, and how well it has served since start
//   POST /v1/cache/clear  drops every cached prefix that no running request uses
// Both need the API key when one is set (the server checks it for everything but /health).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/router.h"
#include "server/server_context.h"

namespace agentserve::server {

// One storage tier of the cache. Only the tiers that exist are listed: "device" (the KV page
// pool the backend computes in), then "ram" and "disk" when configured (kv/kv_tiers.h).
struct CacheTierSnapshot {
  std::string name;
  int64_t pages = 0;           // pages holding cached prefixes (device: some also in use)
  int64_t bytes = 0;
  int64_t capacity_bytes = 0;
  // device: requests looked up / that reused at least one page; ram, disk: pages looked up
  // there (the tiers above lacked them) / pages it supplied.
  int64_t lookups = 0;
  int64_t hits = 0;
  int64_t pages_in_use = -1;   // device: pages used by requests or the cache; -1: n/a
  std::string dir;             // disk: where this model's pages are kept
};

// A snapshot of the cache, from any thread (Engine::cache_stats()).
struct CacheSnapshot {
  bool enabled = false;
  int32_t page_size = 0;
  int64_t page_bytes = 0;
  int64_t entries = 0;         // distinct cached prefixes in the radix tree (leaves)
  int64_t cached_tokens = 0;   // tokens whose KV is in the device tier (pages × page size)
  int64_t lookups = 0;         // requests looked up
  int64_t hits = 0;            // requests that reused at least one page, from any tier
  int64_t reused_tokens = 0;   // prompt tokens whose KV came from the cache
  std::vector<CacheTierSnapshot> tiers;
};
CacheSnapshot cache_snapshot(const ServedModel& model);

void register_cache_routes(Router& router, ServerContext& ctx);

}  // namespace agentserve::server
