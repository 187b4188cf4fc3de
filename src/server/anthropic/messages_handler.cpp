// POST /v1/messages: prepare → render (worker) → fit the output into the context → stream or
// collect the generation.
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "server/anthropic/handlers.h"
#include "server/anthropic/message_response.h"
#include "server/anthropic/message_stream.h"
#include "server/generation.h"
#include "server/request_fields.h"
#include "server/tool_parsing.h"

namespace agentserve::server::anthropic {

namespace {
// How long a streamed answer's message_start waits for the engine's prefix-cache lookup (so its
// usage can report the cache split) before going out without it: admission takes one engine
// step at most unless every slot is taken, and a client should see the message begin at once.
constexpr std::chrono::milliseconds kStartWait{1000};
}  // namespace

void handle_messages(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange) {
  auto prepared = prepare_request(ctx, *exchange, BodyKind::kMessages);
  if (!prepared) return;
  auto p = std::make_shared<PreparedRequest>(std::move(*prepared));
  auto tool_parsing = std::make_shared<tools::ParserOptions>(
      tool_parsing_for(*p->model, p->request.conversation, p->request.tool_choice));
  chat::Conversation conversation = std::move(p->request.conversation);
  render_for(ctx, exchange, *p->model, std::move(conversation),
             [&ctx, exchange, p, tool_parsing](chat::RenderedPrompt prompt) {
    const ServedModel& model = *p->model;
    MessagesRequest& r = p->request;
    const auto prompt_tokens = static_cast<int32_t>(prompt.token_ids.size());
    const std::optional<OutputBudget> budget = fit_output(prompt_tokens, r.max_tokens, model.max_context);
    if (!budget) {
      respond_prompt_too_long(*exchange, prompt_tokens, model.max_context);
      return;
    }

    // max_tokens 0 warms a prompt cache without generating; there is nothing to run.
    if (budget->max_tokens == 0) {
      GenerationResult none;
      none.stop = StopKind::kMaxTokens;
      none.prompt_tokens = prompt_tokens;
      if (r.stream) {
        auto stream = std::make_shared<MessageStream>(exchange, r.model, false);
        stream->begin(prompt_tokens);
        stream->on_finish(none);
      } else {
        exchange->respond(200, "application/json",
                          message_body(r.model, nlohmann::ordered_json::array(), none, false)
                              .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
      }
      return;
    }

    GenerationSpec spec;
    spec.prompt = std::move(prompt.token_ids);
    spec.sampling = r.sampling;
    spec.max_tokens = budget->max_tokens;
    spec.stop_strings = std::move(r.stop_sequences);
    spec.split_reasoning = splits_think_blocks(model);
    spec.starts_in_reasoning = spec.split_reasoning && prompt_opens_reasoning(prompt.text);
    spec.tool_parsing = std::move(*tool_parsing);
    spec.max_tool_calls = r.one_tool_call ? 1 : 0;
    enforce_tool_choice(model, r.tool_choice, exchange->request().request_id, &spec);
    if (log_level() <= LogLevel::kDebug)
      spec.prompt_map = prompt_map_for(exchange->request().body, std::move(prompt.text),
                                       ctx.options().prompt_hygiene);
    if (r.stream) {
      auto stream = std::make_shared<MessageStream>(exchange, r.model, budget->clamped);
      stream->begin(prompt_tokens, kStartWait, ctx.options().ping_interval);
      start_generation(ctx, exchange, model, std::move(spec), stream);
    } else {
      start_generation(ctx, exchange, model, std::move(spec),
                       std::make_shared<MessageResponse>(exchange, r.model, budget->clamped));
    }
  });
}

}  // namespace agentserve::server::anthropic
