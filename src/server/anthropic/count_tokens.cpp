// POST /v1/messages/count_tokens: the exact prompt length /v1/messages would prefill for the
// same body, through the same render path. Claude Code's auto-compaction trusts this number,
// so a failure is an error status, never a 200 with a guess.
#include <nlohmann/json.hpp>

#include "server/anthropic/handlers.h"
#include "server/generation.h"
#include "server/tool_parsing.h"

namespace agentserve::server::anthropic {

void handle_count_tokens(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange) {
  auto prepared = prepare_request(ctx, *exchange, BodyKind::kCountTokens);
  if (!prepared) return;
  const ServedModel& model = *prepared->model;
  const ToolChoice choice = prepared->request.tool_choice;
  render_for(ctx, exchange, model, std::move(prepared->request.conversation),
             [exchange, &model, choice](chat::RenderedPrompt prompt) {
               // A tool_choice that forces a call adds its opening to what /v1/messages prefills.
               size_t tokens = prompt.token_ids.size();
               const bool in_reasoning = splits_think_blocks(model) && prompt_opens_reasoning(prompt.text);
               if (auto p = tool_choice_prefill(model, choice, exchange->request().request_id, tokens, in_reasoning))
                 tokens += p->ids.size();
               const nlohmann::ordered_json body = {{"input_tokens", tokens}};
               exchange->respond(200, "application/json", body.dump());
             });
}

}  // namespace agentserve::server::anthropic
