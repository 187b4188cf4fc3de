// The Anthropic route handlers and the preparation they share (body → request, model name →
// served model, conversation → prompt), so that count_tokens counts exactly what
// /v1/messages would prefill.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "server/anthropic/messages_request.h"
#include "server/http_exchange.h"
#include "server/prompt_divergence.h"
#include "server/server_context.h"
#include "text/chat/chat_template.h"

namespace agentserve::server::anthropic {

void handle_messages(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange);
void handle_count_tokens(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange);

struct PreparedRequest {
  MessagesRequest request;
  const ServedModel* model = nullptr;
};

// Parses the body and resolves the model; on failure answers the error and returns nullopt.
std::optional<PreparedRequest> prepare_request(ServerContext& ctx, HttpExchange& exchange, BodyKind kind);

// Renders the conversation on a worker; `done` runs on the exchange's I/O thread. A template
// failure is answered here (400 when the conversation is at fault) and `done` does not run.
void render_for(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange, const ServedModel& model,
                chat::Conversation conversation, std::function<void(chat::RenderedPrompt)> done);

// The 400 for a prompt that leaves no room to generate, in the wording Claude Code matches to
// start compaction: "prompt is too long: N tokens > M maximum".
void respond_prompt_too_long(HttpExchange& exchange, int64_t prompt_tokens, int32_t max_context);

// The request's system and message blocks located in `rendered` (debug logging only:
// prompt_divergence.h). `prompt_hygiene` as the request was converted.
std::shared_ptr<const PromptMap> prompt_map_for(const std::string& body, std::string rendered,
                                                bool prompt_hygiene);

}  // namespace agentserve::server::anthropic
