#include "text/chat/capabilities.h"

#include <optional>

#include "text/chat/template_context.h"

namespace agentserve::chat {
namespace {

using nlohmann::ordered_json;

// Distinctive strings that no template writes by itself.
constexpr const char* kSys = "PROBEsys7q";
constexpr const char* kUser = "PROBEuser7q";
constexpr const char* kUser2 = "PROBEuser8q";
constexpr const char* kAsst = "PROBEasst7q";
constexpr const char* kMid = "PROBEmid7q";
constexpr const char* kDev = "PROBEdev7q";
constexpr const char* kResult = "PROBEresult7q";
constexpr const char* kArgValue = "PROBEarg7q";
constexpr const char* kToolName = "probe_tool_7q";
constexpr const char* kReason = "PROBEthink7q";

ordered_json probe_tool();

class Prober {
 public:
  Prober(const tmpl::Template& t, const ordered_json& special) : tmpl_(t), special_(special) {}

  // The probe tool list in the shape the template reads (set once the shape is known).
  ordered_json tools() const {
    ordered_json tool = probe_tool();
    return ordered_json::array({flat_ ? tool["function"] : tool});
  }
  void set_flat(bool flat) { flat_ = flat; }
  // A "tool_use" template is only rendered with tools: give every probe some.
  void set_always_tools(bool always) { always_tools_ = always; }

  std::optional<std::string> render(ordered_json messages, ordered_json tools = nullptr,
                                    bool add_generation_prompt = true) const {
    TemplateInputs in;
    in.messages = std::move(messages);
    in.tools = tools.is_null() && always_tools_ ? this->tools() : std::move(tools);
    in.add_generation_prompt = add_generation_prompt;
    std::string out;
    tmpl::TemplateError err;
    if (!tmpl_.render(build_template_context(in, special_), &out, &err)) return std::nullopt;
    return out;
  }

 private:
  const tmpl::Template& tmpl_;
  const ordered_json& special_;
  bool flat_ = false;
  bool always_tools_ = false;
};

bool has(const std::optional<std::string>& s, const char* needle) {
  return s.has_value() && s->find(needle) != std::string::npos;
}

ordered_json msg(const char* role, const char* content) {
  return ordered_json{{"role", role}, {"content", content}};
}

ordered_json probe_tool() {
  return ordered_json::parse(std::string(R"({"type": "function", "function": {"name": ")") +
                             kToolName + R"(", "description": "Probe.", "parameters": {"type": )"
                             R"("object", "properties": {"probe_key": {"type": "string", )"
                             R"("description": "A key."}}, "required": ["probe_key"]}}})");
}

// user → assistant calling probe_tool → tool result; arguments and id as given.
ordered_json tool_round(ordered_json arguments, const std::string& id, ordered_json content) {
  ordered_json call = {{"id", id},
                       {"type", "function"},
                       {"function", {{"name", kToolName}, {"arguments", std::move(arguments)}}}};
  ordered_json assistant = {{"role", "assistant"}, {"content", std::move(content)},
                            {"tool_calls", ordered_json::array({call})}};
  ordered_json tool = {{"role", "tool"}, {"tool_call_id", id}, {"name", kToolName},
                       {"content", kResult}};
  return ordered_json::array({msg("user", kUser), assistant, tool});
}

}  // namespace

const char* tools_placement_name(ToolsPlacement placement) {
  switch (placement) {
    case ToolsPlacement::kParameter: return "the tools variable";
    case ToolsPlacement::kSystemMessage: return "a \"tools\" field of the system message";
    case ToolsPlacement::kNone: return "not rendered by the template";
  }
  return "?";
}

std::string TemplateCapabilities::describe() const {
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  std::string s;
  s += std::string("  system message first:          ") + yn(system_role) + "\n";
  s += std::string("  system message mid-conversation: ") + yn(system_mid_conversation) + "\n";
  s += std::string("  developer role:                ") + yn(developer_role) + "\n";
  s += std::string("  strict user/assistant alternation: ") + yn(requires_alternation) + "\n";
  s += std::string("  tool results:                  ") + yn(tool_role) + "\n";
  s += std::string("  tool-call arguments:           ") +
       (string_arguments && object_arguments ? "JSON string or object"
        : string_arguments                   ? "JSON string"
        : object_arguments                   ? "object"
                                             : "not rendered") +
       "\n";
  s += std::string("  9-character tool-call ids:     ") + yn(nine_char_call_ids) + "\n";
  s += std::string("  one tool call per message:     ") + yn(single_call_per_message) + "\n";
  s += std::string("  user message after tool results fails: ") + yn(user_after_tool_fails) + "\n";
  s += std::string("  tool definitions:              ") + tools_placement_name(tools) +
       (flat_tool_definitions ? " (bare function objects)" : "") + "\n";
  s += std::string("  content as a list of parts:    ") + yn(content_parts) + "\n";
  s += std::string("  reasoning_content rendered:    ") + yn(renders_reasoning) + "\n";
  s += std::string("  null content sent as \"\":       ") + yn(null_content_as_empty) + "\n";
  s += std::string("  tool calls need null content:  ") + yn(calls_need_null_content) + "\n";
  return s;
}

Result<TemplateCapabilities> probe_capabilities(const tmpl::Template& t, std::string_view source,
                                                const ordered_json& special_tokens,
                                                bool for_tools) {
  Prober p(t, special_tokens);
  TemplateCapabilities c;
  const ordered_json one_user = ordered_json::array({msg("user", kUser)});
  if (for_tools) {
    // Find the tool shape first: nothing renders without tools.
    p.set_always_tools(true);
    if (!has(p.render(one_user), kUser)) {
      p.set_flat(true);
      c.flat_tool_definitions = has(p.render(one_user), kUser);
      p.set_flat(c.flat_tool_definitions);
    }
  }
  {
    TemplateInputs in;
    in.messages = one_user;
    if (for_tools) in.tools = p.tools();
    tmpl::TemplateError err;
    std::string out;
    if (!t.render(build_template_context(in, special_tokens), &out, &err))
      return make_error(ErrorKind::kFormat, "chat template " + t.name() +
                                                " fails on a single user message: " +
                                                err.to_string());
    if (out.find(kUser) == std::string::npos)
      return make_error(ErrorKind::kFormat, "chat template " + t.name() +
                                                " does not render a user message's content");
  }

  // Tool definitions: the tools variable (OpenAI's wrapped shape, else bare function objects),
  // else a "tools" field of the system message.
  const ordered_json sys_user = ordered_json::array({msg("system", kSys), msg("user", kUser)});
  for (bool flat : {false, true}) {
    p.set_flat(flat);
    if (has(p.render(sys_user, p.tools()), kToolName)) {
      c.tools = ToolsPlacement::kParameter;
      c.flat_tool_definitions = flat;
      break;
    }
  }
  p.set_flat(c.flat_tool_definitions);
  if (c.tools == ToolsPlacement::kNone && !for_tools) {
    ordered_json sys = msg("system", kSys);
    sys["tools"] = p.tools().dump();
    if (has(p.render(ordered_json::array({sys, msg("user", kUser)})), kToolName))
      c.tools = ToolsPlacement::kSystemMessage;
  }

  c.system_role = has(p.render(ordered_json::array({msg("system", kSys), msg("user", kUser)})), kSys);
  {
    auto out = p.render(ordered_json::array({msg("system", kSys), msg("user", kUser),
                                             msg("assistant", kAsst), msg("system", kMid),
                                             msg("user", kUser2)}));
    // In place: after the assistant turn that preceded it, not moved to the front.
    c.system_mid_conversation = has(out, kMid) && has(out, kAsst) &&
                                out->find(kMid) > out->find(kAsst);
  }
  // A template that prints any role generically would print an untrained "developer" header:
  // count the role only where the template names it.
  c.developer_role =
      source.find("developer") != std::string_view::npos &&
      has(p.render(ordered_json::array({msg("developer", kDev), msg("user", kUser)})), kDev);
  {
    auto out = p.render(ordered_json::array({msg("user", kUser), msg("user", kUser2)}));
    c.requires_alternation = !(has(out, kUser) && has(out, kUser2));
  }

  // Tool calls: which argument forms render, whether ids must be 9 alphanumerics, and what the
  // assistant's content must be (null or "") for the calls to print.
  const ordered_json object_args = {{"probe_key", kArgValue}};
  const std::string string_args = std::string("{\"probe_key\": \"") + kArgValue + "\"}";
  auto round = [&](const ordered_json& args, const std::string& id, const ordered_json& content) {
    return p.render(tool_round(args, id, content), p.tools());
  };
  auto accepts = [&](const ordered_json& args, const std::string& id, const ordered_json& content) {
    auto out = round(args, id, content);
    // Printed as JSON, not as a Python dict ('probe_key'); null content not printed as "None".
    // A string must print as the very text sent: Llama 3.x pipes arguments through tojson,
    // which turns a string into a quoted, escaped string literal (the value is still there,
    // but the model never wrote that) — such templates take only objects.
    const bool printed = args.is_string() ? has(out, args.get<std::string>().c_str()) : has(out, kArgValue);
    return printed && out->find("'probe_key'") == std::string::npos && out->find("None") == std::string::npos;
  };
  bool found = false;
  ordered_json content_that_works;
  for (const std::string id : {"call_probe_0123456789", "Pr0beId7q"}) {
    for (const ordered_json& content : {ordered_json(nullptr), ordered_json("")}) {
      c.string_arguments = accepts(string_args, id, content);
      c.object_arguments = accepts(object_args, id, content);
      if (c.string_arguments || c.object_arguments) {
        c.nine_char_call_ids = id.size() == 9;
        content_that_works = content;
        found = true;
        break;
      }
    }
    if (found) break;
  }
  const std::string call_id = c.nine_char_call_ids ? "Pr0beId7q" : "call_probe_0123456789";
  if (found) {
    const ordered_json args = c.object_arguments ? object_args : ordered_json(string_args);
    c.tool_role = has(round(args, call_id, content_that_works), kResult);
    // Two calls in one turn: both must print.
    ordered_json two = tool_round(args, call_id, content_that_works);
    ordered_json second = two[1]["tool_calls"][0];
    second["id"] = c.nine_char_call_ids ? "Pr0beId8q" : "call_probe_second";
    second["function"]["name"] = "probe_tool_8q";
    two[1]["tool_calls"].push_back(second);
    auto out = p.render(two, p.tools());
    c.single_call_per_message = !has(out, "probe_tool_8q");
    // A user message right after the tool results.
    ordered_json after = tool_round(args, call_id, content_that_works);
    after.push_back(msg("user", kUser2));
    c.user_after_tool_fails = !has(p.render(after, p.tools()), kUser2);
    c.null_content_as_empty = !content_that_works.is_null();
    c.calls_need_null_content = content_that_works.is_null() && !accepts(args, call_id, "");
  } else {
    c.tool_role = has(p.render(ordered_json::array({msg("user", kUser), msg("assistant", kAsst),
                                                    ordered_json{{"role", "tool"},
                                                                 {"tool_call_id", call_id},
                                                                 {"content", kResult}}})),
                      kResult);
    // Without calls, null content only has to render without "None".
    ordered_json null_asst = {{"role", "assistant"}, {"content", nullptr}};
    auto out = p.render(ordered_json::array({msg("user", kUser), null_asst, msg("user", kUser2)}));
    c.null_content_as_empty = !out.has_value() || out->find("None") != std::string::npos;
  }

  {
    ordered_json parts = {{"role", "user"},
                          {"content", ordered_json::array({{{"type", "text"}, {"text", kUser}}})}};
    auto out = p.render(ordered_json::array({parts}));
    c.content_parts = has(out, kUser) && out->find("'type'") == std::string::npos &&
                      out->find("\"type\"") == std::string::npos;
  }
  {
    ordered_json asst = msg("assistant", kAsst);
    asst["reasoning_content"] = kReason;
    c.renders_reasoning =
        has(p.render(ordered_json::array({msg("user", kUser), asst}), nullptr, false), kReason);
  }
  return c;
}

}  // namespace agentserve::chat
