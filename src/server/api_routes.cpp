#include "server/api_routes.h"

namespace agentserve::server {

void register_api_routes(Router& router, ServerContext& ctx) {
  (void)router;
  (void)ctx;
}

}  // namespace agentserve::server
