// What a chat template can express, found once at load by rendering small probe conversations
// (a template's behaviour is its only reliable description). The renderer adapts each request
// to this table (adapt.h); `agentserve template` prints it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "base/error.h"
#include "text/template/template.h"

namespace agentserve::chat {

enum class ToolsPlacement {
  kParameter,      // the `tools` variable (most templates)
  kSystemMessage,  // a "tools" field of the system message, as a JSON string (Phi-4-mini)
  kNone,           // the template never renders tools
};
const char* tools_placement_name(ToolsPlacement placement);

struct TemplateCapabilities {
  bool system_role = false;            // a leading system message is rendered
  bool system_mid_conversation = false;  // a later system message is rendered in place
  bool developer_role = false;         // role "developer" is rendered as such
  bool requires_alternation = false;   // two user messages in a row fail or lose content
  bool tool_role = false;              // tool results render
  bool string_arguments = false;       // tool-call arguments accepted as a JSON string
  bool object_arguments = false;       // ... and as an object
  bool nine_char_call_ids = false;     // tool-call ids must be 9 alphanumerics (Mistral)
  bool single_call_per_message = false;  // two calls in one assistant turn fail (Llama 3.x)
  bool user_after_tool_fails = false;  // a user message right after tool results (Mistral)
  ToolsPlacement tools = ToolsPlacement::kNone;
  bool flat_tool_definitions = false;  // tools as bare function objects, not {"type", "function"}
  bool content_parts = false;          // content as a list of {"type": "text"} parts
  bool null_content_as_empty = false;  // `content: null` fails or prints "None": send ""
  bool calls_need_null_content = false;  // tool calls print only when content is null
  bool renders_reasoning = false;      // reasoning_content of the last assistant turn shows

  // One line per capability, for `agentserve template`.
  std::string describe() const;
};

// Probes `tmpl` (whose text is `source`). A "tool_use" template (for_tools) is only ever
// rendered with tools, so every probe passes some. Fails only when the template cannot render a
// single user message.
Result<TemplateCapabilities> probe_capabilities(const tmpl::Template& tmpl, std::string_view source,
                                                const nlohmann::ordered_json& special_tokens,
                                                bool for_tools = false);

}  // namespace agentserve::chat
