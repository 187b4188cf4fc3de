#include <string>

#include "base/log.h"
#include "server/anthropic/handlers.h"
#include "server/api_errors.h"
#include "server/generation.h"
#include "server/request_fields.h"

namespace agentserve::server::anthropic {

std::optional<PreparedRequest> prepare_request(ServerContext& ctx, HttpExchange& exchange, BodyKind kind) {
  const HttpRequest& http = exchange.request();
  PreparedRequest p;
  try {
    p.request = parse_messages_request(parse_body(http.body), kind, ctx.options().prompt_hygiene);
  } catch (const RequestError& e) {
    respond_error(exchange, ApiFamily::kAnthropic, e.error);
    return std::nullopt;
  }
  p.model = ctx.resolve_model(p.request.model);
  if (p.model == nullptr) {
    respond_error(exchange, ApiFamily::kAnthropic,
                  {404, "model: " + p.request.model + " is not served here (serving " + ctx.model().id + ")",
                   "model_not_found", "model"});
    return std::nullopt;
  }
  if (p.request.model.empty()) p.request.model = p.model->id;
  if (!p.request.notes.empty()) {
    std::string joined;
    for (const std::string& n : p.request.notes) joined += (joined.empty() ? "" : "; ") + n;
    AS_LOG_INFO("{} {}: left out or not enforced: {}", http.request_id, http.path, joined);
  }
  return p;
}

void render_for(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange, const ServedModel& model,
                chat::Conversation conversation, std::function<void(chat::RenderedPrompt)> done) {
  render_prompt(ctx, exchange, model, std::move(conversation),
                [exchange, done = std::move(done)](Result<chat::RenderedPrompt> rendered) {
                  if (!rendered.ok()) {
                    const Error& e = rendered.error();
                    const bool client_fault = e.kind == ErrorKind::kInvalidArgument;
                    respond_error(*exchange, ApiFamily::kAnthropic,
                                  {client_fault ? 400 : 500,
                                   "the conversation cannot be rendered with the model's chat template: " +
                                       e.message,
                                   "", ""});
                    return;
                  }
                  done(std::move(rendered.value()));
                });
}

void respond_prompt_too_long(HttpExchange& exchange, int64_t prompt_tokens, int32_t max_context) {
  // One token of the context is kept for the reply, so the longest prompt is max_context - 1.
  respond_error(exchange, ApiFamily::kAnthropic,
                {400,
                 "prompt is too long: " + std::to_string(prompt_tokens) + " tokens > " +
                     std::to_string(max_context - 1) + " maximum",
                 "context_length_exceeded", "messages"});
}

}  // namespace agentserve::server::anthropic
