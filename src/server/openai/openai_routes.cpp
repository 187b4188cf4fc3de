#include "server/openai/openai_routes.h"

#include "server/generation.h"
#include "server/openai/chat_request.h"
#include "server/openai/chat_response.h"
#include "server/openai/choices.h"
#include "server/openai/common.h"
#include "server/openai/completions.h"

namespace agentserve::server::openai {
namespace {

void handle_chat(ServerContext& ctx, std::shared_ptr<HttpExchange> ex) {
  ChatRequest req;
  const ServedModel* model = nullptr;
  try {
    req = parse_chat_request(parse_body(ex->request().body));
    model = ctx.resolve_model(req.common.model_name);
    if (model == nullptr)
      throw_request_error("The model `" + req.common.model_name + "` does not exist (serving " +
                              ctx.model().id + ")",
                          "model", 404, "model_not_found");
  } catch (const RequestError& e) {
    respond_request_error(*ex, e);
    return;
  }
  auto shared = std::make_shared<ChatRequest>(std::move(req));
  chat::Conversation conversation = std::move(shared->conversation);
  render_prompt(ctx, ex, *model, std::move(conversation),
                [&ctx, ex, model, shared](Result<chat::RenderedPrompt> rendered) {
    const ChatRequest& r = *shared;
    if (!rendered) {
      // The template refused the conversation (raise_exception, unsupported roles ...): the
      // client's to fix.
      respond_error(*ex, ApiFamily::kOpenAI, {400, rendered.error().message, "", "messages"});
      return;
    }
    GenerationSpec spec;
    try {
      spec.max_tokens = fit_max_tokens(static_cast<int64_t>(rendered->token_ids.size()),
                                       r.common.max_tokens, model->max_context, "messages");
    } catch (const RequestError& e) {
      respond_request_error(*ex, e);
      return;
    }
    spec.prompt = std::move(rendered->token_ids);
    spec.sampling = r.common.sampling;
    spec.stop_strings = r.common.stop;
    spec.split_reasoning = model->thinks;
    spec.starts_in_reasoning = model->thinks && prompt_opens_reasoning(rendered->text);

    ChatEnvelope env;
    env.id = make_id("chatcmpl-");
    env.created = unix_now();
    env.model = r.common.model_name.empty() ? model->id : r.common.model_name;
    env.n = r.common.n;
    env.logprobs = r.logprobs;
    env.thinks = model->thinks;
    env.include_usage = r.common.include_usage;
    auto encoder = r.common.stream ? make_chat_streamer(ex, ctx, *model, std::move(env))
                                   : make_chat_collector(ex, *model, std::move(env));
    run_choices(ctx, ex, *model, spec, r.common.n, std::move(encoder));
  });
}

}  // namespace

void register_routes(Router& router, ServerContext& ctx) {
  router.add("POST", "/v1/chat/completions",
             [&ctx](std::shared_ptr<HttpExchange> ex) { handle_chat(ctx, std::move(ex)); });
  router.add("POST", "/v1/completions",
             [&ctx](std::shared_ptr<HttpExchange> ex) { handle_completions(ctx, std::move(ex)); });
}

}  // namespace agentserve::server::openai
