#include "text/chat/template_context.h"

namespace agentserve::chat {

tmpl::Value build_template_context(const TemplateInputs& inputs,
                                   const nlohmann::ordered_json& special_tokens) {
  // Later entries win, as in transformers: special tokens, then kwargs, then the named inputs.
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  for (auto it = special_tokens.begin(); it != special_tokens.end(); ++it) ctx[it.key()] = *it;
  for (auto it = inputs.kwargs.begin(); it != inputs.kwargs.end(); ++it) ctx[it.key()] = *it;
  if (inputs.enable_thinking.has_value()) ctx["enable_thinking"] = *inputs.enable_thinking;
  ctx["messages"] = inputs.messages;
  ctx["tools"] = inputs.tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = inputs.add_generation_prompt;
  return tmpl::Value::from_json(ctx);
}

}  // namespace agentserve::chat
