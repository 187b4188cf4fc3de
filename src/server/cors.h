// Cross-origin access for browser clients (serve --cors-origin). A web page may call the API
// only when the server names the page's origin in its answers; a browser first asks with a
// preflight (OPTIONS, Access-Control-Request-Method) before a POST carrying JSON or an API key.
// Off by default: with no API key, any site the user visits could otherwise drive the local
// model and clear its cache.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_exchange.h"

namespace agentserve::server {

class CorsPolicy {
 public:
  CorsPolicy() = default;
  // Origins as browsers send them ("http://localhost:3000"); "*" allows any.
  explicit CorsPolicy(std::vector<std::string> origins);

  bool enabled() const { return !origins_.empty(); }
  bool allows(std::string_view origin) const;

  // The headers that let the page at the request's Origin read the answer; none when the
  // request has no Origin or its origin is not allowed.
  Headers response_headers(const HttpRequest& request) const;

  // A preflight (OPTIONS with Access-Control-Request-Method) when the policy is enabled: the
  // status to answer (204 allowed, 403 refused) and its headers; nullopt for any other request.
  struct Preflight {
    int status = 204;
    Headers headers;
  };
  std::optional<Preflight> preflight(const HttpRequest& request) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace agentserve::server
