#include "server/anthropic/anthropic_routes.h"

namespace agentserve::server::anthropic {

void register_routes(Router& router, ServerContext& ctx) {
  (void)router;
  (void)ctx;
}

}  // namespace agentserve::server::anthropic
