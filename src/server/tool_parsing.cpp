#include "server/tool_parsing.h"

namespace agentserve::server {

bool splits_think_blocks(const ServedModel& model) {
  return model.thinks && model.tool_format != tools::ToolFormat::kHarmony;
}

bool reports_reasoning(const ServedModel& model) {
  return model.thinks || model.tool_format == tools::ToolFormat::kHarmony;
}

tools::ParserOptions tool_parsing_for(const ServedModel& model, const chat::Conversation& conversation,
                                      bool tool_choice_none) {
  tools::ParserOptions options;
  options.format = model.tool_format;
  // With tool_choice "none" the tools stay in the prompt (a change of tool_choice must not
  // cost the prefix cache), so the model may still write a call: it comes back as text.
  options.parse_calls = !conversation.tools.empty() && !tool_choice_none;
  if (!options.parse_calls) return options;
  for (const chat::Tool& tool : conversation.tools) {
    tools::ToolSpec spec;
    spec.name = tool.name();
    const nlohmann::ordered_json& def = tool.definition;
    auto fn = def.find("function");
    const nlohmann::ordered_json& body = fn != def.end() && fn->is_object() ? *fn : def;
    if (auto params = body.find("parameters"); params != body.end() && params->is_object())
      spec.parameters = *params;
    options.tools.push_back(std::move(spec));
  }
  return options;
}

}  // namespace agentserve::server
