// Routes that belong to no single API: GET /health, HEAD / (Claude Code's start-up probe),
// GET /metrics, and GET /v1/models[/{id}] in OpenAI's or Anthropic's shape (the latter when
// the request carries anthropic-version).
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace agentserve::server {

void register_common_routes(Router& router, ServerContext& ctx);

}  // namespace agentserve::server
