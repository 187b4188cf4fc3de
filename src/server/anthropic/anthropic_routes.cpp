#include "server/anthropic/anthropic_routes.h"

#include "server/anthropic/handlers.h"

namespace agentserve::server::anthropic {

// Claude Code calls these as /v1/messages?beta=true; the router matches the path alone.
void register_routes(Router& router, ServerContext& ctx) {
  router.add("POST", "/v1/messages",
             [&ctx](std::shared_ptr<HttpExchange> exchange) { handle_messages(ctx, std::move(exchange)); });
  router.add("POST", "/v1/messages/count_tokens",
             [&ctx](std::shared_ptr<HttpExchange> exchange) { handle_count_tokens(ctx, std::move(exchange)); });
}

}  // namespace agentserve::server::anthropic
