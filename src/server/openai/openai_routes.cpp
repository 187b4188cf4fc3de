#include "server/openai/openai_routes.h"

#include <fmt/core.h>

#include "base/log.h"
#include "server/prompt_divergence.h"
#include "server/prompt_hygiene.h"

#include "server/generation.h"
#include "server/openai/chat_request.h"
#include "server/openai/chat_response.h"
#include "server/openai/choices.h"
#include "server/openai/common.h"
#include "server/openai/completions.h"
#include "server/tool_parsing.h"

namespace agentserve::server::openai {
namespace {

// The request's messages located in the rendered prompt, for the debug-level divergence log
// (prompt_divergence.h). Tool calls are printed by the template as JSON in its own format and
// are not searched.
std::shared_ptr<const PromptMap> chat_prompt_map(const std::string& body_text, std::string rendered,
                                                 bool prompt_hygiene) {
  auto map = std::make_shared<PromptMap>(std::move(rendered));
  ordered_json body;
  try {
    body = parse_body(body_text);
  } catch (...) {
    return map;  // parsed once already; an empty map only loses detail
  }
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) return map;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ordered_json& m = (*msgs)[i];
    if (!m.is_object()) continue;
    const std::string role = m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "";
    const bool system = role == "system" || role == "developer";
    // A system message after the first may be moved by the chat layer (adapt.h rule 3).
    const bool in_order = !system || i == 0;
    auto text = [&](std::string t) {
      if (system && prompt_hygiene) normalize_attribution(&t);
      return t;
    };
    if (auto r = m.find("reasoning_content"); r != m.end() && r->is_string())
      map->add(fmt::format("messages[{}].reasoning_content", i), r->get<std::string>(), in_order);
    auto content = m.find("content");
    if (content == m.end()) continue;
    if (content->is_string()) {
      map->add(fmt::format("messages[{}].content ({})", i, role), text(content->get<std::string>()), in_order);
    } else if (content->is_array()) {
      for (size_t j = 0; j < content->size(); ++j) {
        const ordered_json& part = (*content)[j];
        if (part.is_object() && part.contains("text") && part["text"].is_string())
          map->add(fmt::format("messages[{}].content[{}] ({})", i, j, role), text(part["text"].get<std::string>()),
                   in_order);
      }
    }
  }
  return map;
}

void handle_chat(ServerContext& ctx, std::shared_ptr<HttpExchange> ex) {
  ChatRequest req;
  const ServedModel* model = nullptr;
  try {
    req = parse_chat_request(parse_body(ex->request().body), ctx.options().prompt_hygiene);
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
  auto tool_parsing = std::make_shared<tools::ParserOptions>(
      tool_parsing_for(*model, shared->conversation, shared->tool_choice));
  chat::Conversation conversation = std::move(shared->conversation);
  render_prompt(ctx, ex, *model, std::move(conversation),
                [&ctx, ex, model, shared, tool_parsing](Result<chat::RenderedPrompt> rendered) {
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
    spec.split_reasoning = splits_think_blocks(*model);
    spec.starts_in_reasoning = spec.split_reasoning && prompt_opens_reasoning(rendered->text);
    spec.tool_parsing = std::move(*tool_parsing);
    spec.max_tool_calls = r.parallel_tool_calls ? 0 : 1;
    enforce_tool_choice(*model, r.tool_choice, ex->request().request_id, &spec);
    if (log_level() <= LogLevel::kDebug)
      spec.prompt_map = chat_prompt_map(ex->request().body, std::move(rendered->text), ctx.options().prompt_hygiene);

    ChatEnvelope env;
    env.id = make_id("chatcmpl-");
    env.created = unix_now();
    env.model = r.common.model_name.empty() ? model->id : r.common.model_name;
    env.n = r.common.n;
    env.logprobs = r.logprobs;
    env.thinks = reports_reasoning(*model);
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
