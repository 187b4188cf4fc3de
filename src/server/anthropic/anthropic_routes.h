// The anthropic API's routes.
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace agentserve::server::anthropic {

void register_routes(Router& router, ServerContext& ctx);

}  // namespace agentserve::server::anthropic
