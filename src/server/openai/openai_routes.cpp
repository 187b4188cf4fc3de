#include "server/openai/openai_routes.h"

namespace agentserve::server::openai {

void register_routes(Router& router, ServerContext& ctx) {
  (void)router;
  (void)ctx;
}

}  // namespace agentserve::server::openai
