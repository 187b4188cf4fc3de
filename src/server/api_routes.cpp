#include "server/api_routes.h"

#include "server/anthropic/anthropic_routes.h"
#include "server/openai/openai_routes.h"

namespace agentserve::server {

void register_api_routes(Router& router, ServerContext& ctx) {
  openai::register_routes(router, ctx);
  anthropic::register_routes(router, ctx);
}

}  // namespace agentserve::server
