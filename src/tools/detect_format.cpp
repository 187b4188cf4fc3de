// Which tool-call format a chat template teaches its model, read from the template's source:
// the template renders earlier calls (and often an example) exactly as the model was trained to
// write them, so the markers it prints name the format.
//
// Order matters where formats share markers: Qwen3-Coder's template also prints <tool_call>
// (around XML, not JSON), GLM prints <tool_call> around its own <arg_key> form, and
// functionary's Llama-based template prints <|python_tag|> next to its own <function=NAME>{...}
// form.
#include <string>
#include <string_view>

#include "tools/tool_parser.h"

namespace agentserve::tools {
namespace {

bool has(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

// A JSON key as a template writes it: "key" in a single-quoted string or raw text, \"key\"
// inside a double-quoted one.
bool has_json_key(std::string_view text, std::string_view key) {
  const std::string plain = "\"" + std::string(key) + "\"";
  const std::string escaped = "\\\"" + std::string(key) + "\\\"";
  return has(text, plain) || has(text, escaped);
}

}  // namespace

ToolFormat detect_format(std::string_view t) {
  if (has(t, "<|start|>") && has(t, "<|channel|>") && has(t, "<|message|>"))
    return ToolFormat::kHarmony;
  if (has(t, "<tool_call>") && has(t, "<function=") && has(t, "<parameter="))
    return ToolFormat::kQwen3Coder;
  // V3.1, and V3 / R1 (a type and a ```json block between the same markers): one parser.
  if (has(t, "<｜tool▁call▁begin｜>") && has(t, "<｜tool▁sep｜>")) return ToolFormat::kDeepSeekV31;
  if (has(t, "[TOOL_CALLS]")) return ToolFormat::kMistral;
  // Hermes: <tool_call> around {"name": ..., "arguments": ...}; the template may print the tag
  // and the object from different statements, so the keys are looked for anywhere.
  if (has(t, "<tool_call>") && has_json_key(t, "name") && has_json_key(t, "arguments"))
    return ToolFormat::kHermes;
  // Llama 3.1 – 3.3 ask for {"name": ..., "parameters": ...} in the header-token chat format.
  if (has(t, "<|start_header_id|>") && has(t, "\"parameters\"") && !has(t, "<function="))
    return ToolFormat::kLlama3Json;
  return ToolFormat::kNone;
}

}  // namespace agentserve::tools
