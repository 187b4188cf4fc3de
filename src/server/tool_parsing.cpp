#include "server/tool_parsing.h"

#include <algorithm>

#include "base/log.h"
#include "server/request_fields.h"
#include "tools/call_prefix.h"

namespace agentserve::server {

bool splits_think_blocks(const ServedModel& model) {
  return model.thinks && model.tool_format != tools::ToolFormat::kHarmony;
}

bool reports_reasoning(const ServedModel& model) {
  return model.thinks || model.tool_format == tools::ToolFormat::kHarmony;
}

void check_tool_choice(const ToolChoice& choice, const chat::Conversation& conversation, const char* field) {
  if (choice.mode == ToolChoice::Mode::kRequired && conversation.tools.empty())
    throw_request_error(std::string(field) + " asks for a tool call, but the request has no tools", field);
  if (choice.mode == ToolChoice::Mode::kNamed &&
      std::none_of(conversation.tools.begin(), conversation.tools.end(),
                   [&](const chat::Tool& t) { return t.name() == choice.name; }))
    throw_request_error(std::string(field) + " names the tool \"" + choice.name +
                            "\", which is not among the request's tools",
                        field);
}

tools::ParserOptions tool_parsing_for(const ServedModel& model, const chat::Conversation& conversation,
                                      const ToolChoice& choice) {
  tools::ParserOptions options;
  options.format = model.tool_format;
  // With tool_choice "none" the tools stay in the prompt (a change of tool_choice must not
  // cost the prefix cache), so the model may still write a call: it comes back as text.
  options.parse_calls = !conversation.tools.empty() && choice.mode != ToolChoice::Mode::kNone;
  if (!options.parse_calls) return options;
  // Schemas are copied only for the format that reads them: a Claude Code request carries
  // ~70 KB of them, and this runs on the I/O thread for every request.
  const bool schemas = tools::uses_parameter_schemas(options.format);
  for (const chat::Tool& tool : conversation.tools) {
    tools::ToolSpec spec;
    spec.name = tool.name();
    if (schemas) {
      const nlohmann::ordered_json& def = tool.definition;
      auto fn = def.find("function");
      const nlohmann::ordered_json& body = fn != def.end() && fn->is_object() ? *fn : def;
      if (auto params = body.find("parameters"); params != body.end() && params->is_object())
        spec.parameters = *params;
    }
    options.tools.push_back(std::move(spec));
  }
  return options;
}

std::optional<ToolChoicePrefill> tool_choice_prefill(const ServedModel& model, const ToolChoice& choice,
                                                    const std::string& request_id, size_t prompt_tokens,
                                                    bool starts_in_reasoning) {
  if (choice.mode != ToolChoice::Mode::kRequired && choice.mode != ToolChoice::Mode::kNamed) return std::nullopt;
  const std::string what = choice.mode == ToolChoice::Mode::kNamed ? "the tool \"" + choice.name + "\"" : "a tool call";
  const auto prefix = tools::call_prefix(model.tool_format, choice.name);
  if (!prefix) {
    AS_LOG_WARN("{}: tool_choice asks for {}, but the model's tool-call format is unknown "
                "(--tool-format): not enforced",
                request_id, what);
    return std::nullopt;
  }
  if (!model.tokenizer->special_token_spans(choice.name).empty()) {
    AS_LOG_WARN("{}: tool_choice names a tool whose name holds special-token text: not enforced", request_id);
    return std::nullopt;
  }
  if (starts_in_reasoning) {
    AS_LOG_WARN("{}: tool_choice asks for {}, but the prompt opens a reasoning block: not enforced",
                request_id, what);
    return std::nullopt;
  }
  ToolChoicePrefill p{*prefix, model.tokenizer->encode(*prefix, SpecialTokenMode::kRecognize), what};
  if (prompt_tokens + p.ids.size() >= static_cast<size_t>(model.max_context)) {
    AS_LOG_WARN("{}: tool_choice asks for {}, but the call's opening does not fit the context: not enforced",
                request_id, what);
    return std::nullopt;
  }
  return p;
}

void enforce_tool_choice(const ServedModel& model, const ToolChoice& choice, const std::string& request_id,
                         GenerationSpec* spec) {
  auto p = tool_choice_prefill(model, choice, request_id, spec->prompt.size(), spec->starts_in_reasoning);
  if (!p) return;
  spec->prompt.insert(spec->prompt.end(), p->ids.begin(), p->ids.end());
  // The output must still fit the context behind the opening.
  const auto room = static_cast<int64_t>(model.max_context) - static_cast<int64_t>(spec->prompt.size());
  spec->max_tokens = static_cast<int32_t>(std::min<int64_t>(spec->max_tokens, room));
  spec->output_prefix = std::move(p->text);
  // The turn is a call from its first token: no reasoning block can open before it.
  spec->split_reasoning = false;
  AS_LOG_INFO("{}: tool_choice: the turn starts as {} ({} prefill tokens)", request_id, p->what, p->ids.size());
}

}  // namespace agentserve::server
