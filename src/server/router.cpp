#include "server/router.h"

namespace agentserve::server {

void Router::add(std::string method, std::string path, Handler handler) {
  exact_[{std::move(method), std::move(path)}] = std::move(handler);
}

void Router::add_prefix(std::string method, std::string prefix, Handler handler) {
  prefixes_[{std::move(method), std::move(prefix)}] = std::move(handler);
}

const Handler* Router::find(std::string_view method, std::string_view path, std::string* rest,
                            bool* path_known) const {
  *path_known = false;
  for (const auto& [key, handler] : exact_) {
    if (key.second != path) continue;
    *path_known = true;
    if (key.first == method) return &handler;
  }
  for (const auto& [key, handler] : prefixes_) {
    const std::string& prefix = key.second;
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) continue;
    *path_known = true;
    if (key.first == method) {
      *rest = std::string(path.substr(prefix.size()));
      return &handler;
    }
  }
  // HEAD is GET without the body (RFC 9110 §9.3.2; the server drops the body): health checks
  // such as `wget --spider` and `curl -I` send it.
  if (method == "HEAD") {
    bool known_for_get = false;
    const Handler* get = find("GET", path, rest, &known_for_get);
    *path_known = *path_known || known_for_get;
    return get;
  }
  return nullptr;
}

}  // namespace agentserve::server
