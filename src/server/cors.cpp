#include "server/cors.h"

#include <algorithm>

namespace agentserve::server {

namespace {
// How long a browser may reuse a preflight's answer (seconds): one preflight per endpoint and
// header set every 10 minutes instead of one before every request.
constexpr const char* kPreflightMaxAge = "600";
}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  // An origin has no trailing slash ("http://localhost:3000"); one typed with it still matches.
  for (std::string& o : origins_)
    while (o.size() > 1 && o.back() == '/') o.pop_back();
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty() || !enabled()) return false;
  return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

Headers CorsPolicy::response_headers(const HttpRequest& request) const {
  const std::string_view origin = request.header("origin");
  if (!allows(origin)) return {};
  // The origin itself rather than "*", so caches keyed by URL keep answers per origin (Vary).
  return {{"Access-Control-Allow-Origin", std::string(origin)},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers", "request-id"}};
}

std::optional<CorsPolicy::Preflight> CorsPolicy::preflight(const HttpRequest& request) const {
  if (!enabled() || request.method != "OPTIONS" || request.header("access-control-request-method").empty())
    return std::nullopt;
  Preflight p;
  if (!allows(request.header("origin"))) {
    p.status = 403;
    return p;
  }
  p.headers = response_headers(request);
  p.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, HEAD, OPTIONS");
  // The headers the page asked to send, as asked: a wildcard would not cover Authorization,
  // and the SDKs send their own (x-api-key, anthropic-version, x-stainless-*).
  if (const std::string_view asked = request.header("access-control-request-headers"); !asked.empty())
    p.headers.emplace_back("Access-Control-Allow-Headers", std::string(asked));
  // Chrome asks before a public site's page may reach a server on the user's machine or network
  // (Private Network Access); the origin was allowed for exactly that.
  if (request.header("access-control-request-private-network") == "true")
    p.headers.emplace_back("Access-Control-Allow-Private-Network", "true");
  p.headers.emplace_back("Access-Control-Max-Age", kPreflightMaxAge);
  return p;
}

}  // namespace agentserve::server
