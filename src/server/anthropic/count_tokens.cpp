// POST /v1/messages/count_tokens: the exact prompt length /v1/messages would prefill for the
// same body, through the same render path. Claude Code's auto-compaction trusts this number,
// so a failure is an error status, never a 200 with a guess.
#include <nlohmann/json.hpp>

#include "server/anthropic/handlers.h"

namespace agentserve::server::anthropic {

void handle_count_tokens(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange) {
  auto prepared = prepare_request(ctx, *exchange, BodyKind::kCountTokens);
  if (!prepared) return;
  const ServedModel& model = *prepared->model;
  render_for(ctx, exchange, model, std::move(prepared->request.conversation),
             [exchange](chat::RenderedPrompt prompt) {
               const nlohmann::ordered_json body = {{"input_tokens", prompt.token_ids.size()}};
               exchange->respond(200, "application/json", body.dump());
             });
}

}  // namespace agentserve::server::anthropic
