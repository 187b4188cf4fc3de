// Method + path → handler. Exact paths, or a prefix ending in '/' for paths with an id
// (GET /v1/models/{id}).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "server/http_exchange.h"

namespace agentserve::server {

class Router {
 public:
  void add(std::string method, std::string path, Handler handler);
  void add_prefix(std::string method, std::string prefix, Handler handler);

  // The handler for (method, path), and in *rest what followed a matched prefix; nullptr when
  // nothing matches. *path_known says whether the path exists under another method (405).
  const Handler* find(std::string_view method, std::string_view path, std::string* rest,
                      bool* path_known) const;

 private:
  std::map<std::pair<std::string, std::string>, Handler> exact_;
  std::map<std::pair<std::string, std::string>, Handler> prefixes_;
};

}  // namespace agentserve::server
