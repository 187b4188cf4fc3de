// Registers every API's routes (OpenAI, Anthropic) on the router. One line per API in
// api_routes.cpp, so that each API's files stay its own.
#pragma once

#include "server/router.h"
#include "server/server_context.h"

namespace agentserve::server {

void register_api_routes(Router& router, ServerContext& ctx);

}  // namespace agentserve::server
