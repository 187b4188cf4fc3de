#include "server/routes_common.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <optional>

#include "server/api_errors.h"
#include "server/cache_routes.h"
#include "server/metrics.h"

namespace agentserve::server {
namespace {

using nlohmann::ordered_json;

std::string iso8601(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

ordered_json openai_model(const ServedModel& m, const std::string& id) {
  return {{"id", id}, {"object", "model"}, {"created", m.created}, {"owned_by", "agentserve"},
          {"max_model_len", m.max_context}};
}

ordered_json anthropic_model(const ServedModel& m, const std::string& id) {
  return {{"id", id},
          {"type", "model"},
          {"display_name", id},
          {"created_at", iso8601(m.created)},
          {"max_input_tokens", m.max_context},
          {"max_tokens", m.max_context}};
}

void respond_json(HttpExchange& ex, int status, const ordered_json& j) {
  ex.respond(status, "application/json",
             j.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

// Anthropic's model list is paged: `limit` (1–1000, default 20) models after `after_id`, or the
// last `limit` before `before_id`; has_more tells whether the list goes on in that direction.
// nullopt with `error` set for a bad limit or an id that is not in `all`.
std::optional<ordered_json> anthropic_models_page(const ordered_json& all, const HttpRequest& rq, ApiError* error) {
  int64_t limit = 20;
  const std::string_view limit_text = rq.query_param("limit");
  if (!limit_text.empty()) {
    const char* text_end = limit_text.data() + limit_text.size();
    const auto [end, err] = std::from_chars(limit_text.data(), text_end, limit);
    if (err != std::errc() || end != text_end || limit < 1 || limit > 1000) {
      *error = {400, "limit must be an integer from 1 to 1000, got \"" + std::string(limit_text) + "\"", "", "limit"};
      return std::nullopt;
    }
  }
  // Index of the model named by query parameter `name`: -1 when absent, -2 when unknown.
  auto index_of = [&](const char* name) -> int64_t {
    const std::string_view id = rq.query_param(name);
    if (id.empty()) return -1;
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i]["id"].get<std::string>() == id) return static_cast<int64_t>(i);
    *error = {400, std::string(name) + " \"" + std::string(id) + "\" is not a model served here", "", name};
    return -2;
  };
  const int64_t after = index_of("after_id"), before = index_of("before_id");
  if (after == -2 || before == -2) return std::nullopt;
  int64_t begin = after >= 0 ? after + 1 : 0;
  int64_t end = std::max(begin, before >= 0 ? before : static_cast<int64_t>(all.size()));
  const bool has_more = end - begin > limit;
  if (has_more) {
    if (before >= 0 && after < 0) {
      begin = end - limit;
    } else {
      end = begin + limit;
    }
  }
  ordered_json data = ordered_json::array();
  for (int64_t i = begin; i < end; ++i) data.push_back(all[static_cast<size_t>(i)]);
  const ordered_json first = data.empty() ? ordered_json(nullptr) : data.front()["id"];
  const ordered_json last = data.empty() ? ordered_json(nullptr) : data.back()["id"];
  return ordered_json{{"data", std::move(data)}, {"first_id", first}, {"has_more", has_more}, {"last_id", last}};
}

}  // namespace

void register_common_routes(Router& router, ServerContext& ctx) {
  router.add("GET", "/health", [&ctx](std::shared_ptr<HttpExchange> ex) {
    respond_json(*ex, 200, {{"status", "ok"}, {"model", ctx.model().id}});
  });
  register_cache_routes(router, ctx);
  router.add("HEAD", "/", [](std::shared_ptr<HttpExchange> ex) { ex->respond(200, "text/plain", ""); });
  router.add("GET", "/", [&ctx](std::shared_ptr<HttpExchange> ex) {
    ex->respond(200, "text/plain",
                "agentserve " AGENTSERVE_VERSION " serving " + ctx.model().id +
                    "\nOpenAI API: /v1/chat/completions, /v1/completions, /v1/models\n"
                    "Anthropic API: /v1/messages, /v1/messages/count_tokens\n"
                    "Prefix cache: GET /v1/cache, POST /v1/cache/clear\n");
  });
  router.add("GET", "/metrics", [&ctx](std::shared_ptr<HttpExchange> ex) {
    Metrics::Gauges g;
    const EngineGauges& eg = ctx.model().engine->gauges();
    g.queue_depth = eg.waiting.load();
    g.running = eg.running.load();
    g.kv_pages_used = eg.kv_pages_used.load();
    g.kv_pages_total = eg.kv_pages_total.load();
    g.engine_busy_seconds = static_cast<double>(eg.busy_micros.load()) / 1e6;
    g.engine_forward_seconds = static_cast<double>(eg.forward_micros.load()) / 1e6;
    g.engine_steps = eg.steps.load();
    g.prefix_cache_pages = eg.prefix_cache_pages.load();
    g.prefix_cache_entries = eg.prefix_cache_entries.load();
    g.prefix_cache_lookups = eg.prefix_cache_lookups.load();
    g.prefix_cache_hits = eg.prefix_cache_hits.load();
    g.prefix_cache_matched_tokens = eg.prefix_cache_matched_tokens.load();
    g.kv_page_bytes = ctx.model().kv_page_bytes;
    g.io_thread_cpu_seconds = ctx.io_cpu_seconds();
    const CacheStats cs = ctx.model().engine->cache_stats();
    g.kv_ram = {cs.ram.pages, cs.ram.bytes, cs.ram.capacity_bytes, cs.ram.lookups, cs.ram.hits};
    g.kv_disk = {cs.disk.pages, cs.disk.bytes, cs.disk.capacity_bytes, cs.disk.lookups, cs.disk.hits};
    ex->respond(200, "text/plain; version=0.0.4", ctx.metrics().prometheus_text(g));
  });
  // Every name the model answers to, the served id first.
  auto names = [&ctx] {
    std::vector<std::string> ids = {ctx.model().id};
    for (const std::string& a : ctx.model().aliases) ids.push_back(a);
    return ids;
  };
  router.add("GET", "/v1/models", [&ctx, names](std::shared_ptr<HttpExchange> ex) {
    const ServedModel& m = ctx.model();
    ordered_json data = ordered_json::array();
    const bool anthropic = api_family_of(ex->request()) == ApiFamily::kAnthropic;
    for (const std::string& id : names()) data.push_back(anthropic ? anthropic_model(m, id) : openai_model(m, id));
    if (anthropic) {
      ApiError error;
      auto page = anthropic_models_page(data, ex->request(), &error);
      if (!page) {
        respond_error(*ex, ApiFamily::kAnthropic, error);
        return;
      }
      respond_json(*ex, 200, *page);
    } else {
      respond_json(*ex, 200, {{"object", "list"}, {"data", data}});
    }
  });
  router.add_prefix("GET", "/v1/models/", [&ctx](std::shared_ptr<HttpExchange> ex) {
    const std::string id = ex->request().path.substr(std::string("/v1/models/").size());
    const ServedModel* m = ctx.resolve_model(id);
    const ApiFamily family = api_family_of(ex->request());
    if (m == nullptr) {
      respond_error(*ex, family, {404, "model \"" + id + "\" is not served here (serving " + ctx.model().id + ")", "model_not_found", "model"});
      return;
    }
    respond_json(*ex, 200, family == ApiFamily::kAnthropic ? anthropic_model(*m, id) : openai_model(*m, id));
  });
}

}  // namespace agentserve::server
