#include "text/chat/adapt.h"

#include <algorithm>
#include <cctype>

#include "text/template/template.h"

namespace agentserve::chat {
namespace {

using nlohmann::ordered_json;

constexpr const char* kBlankLine = "\n\n";

bool is_nine_alnum(const std::string& s) {
  if (s.size() != 9) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

// Working copy of a message while rules apply.
struct Draft {
  Message m;
  size_t source_index = 0;
};

// into's content becomes "<text>\n\n<its own text>" (one string).
void prepend_text(Message* into, const std::string& text) {
  const std::string rest = into->content_is_null ? std::string() : into->text();
  into->content = {{ContentPart::Kind::kText, rest.empty() ? text : text + kBlankLine + rest, {}}};
  into->content_is_null = false;
  into->content_is_parts = false;
}

// Appends b's content to a (blank line between), and b's tool calls.
void merge_into(Message* a, const Message& b) {
  const std::string bt = b.text();
  if (!bt.empty()) {
    std::string at = a->content_is_null ? std::string() : a->text();
    a->content = {{ContentPart::Kind::kText, at.empty() ? bt : at + kBlankLine + bt, {}}};
    a->content_is_null = false;
    a->content_is_parts = false;
  }
  a->tool_calls.insert(a->tool_calls.end(), b.tool_calls.begin(), b.tool_calls.end());
  if (b.reasoning_content.has_value()) {
    a->reasoning_content = a->reasoning_content.value_or("") +
                           (a->reasoning_content.has_value() ? kBlankLine : "") + *b.reasoning_content;
  }
}

Result<ordered_json> arguments_for(const ToolCall& tc, const TemplateCapabilities& caps,
                                   const std::string& path) {
  if (caps.string_arguments && tc.arguments_text.has_value()) return ordered_json(*tc.arguments_text);
  if (caps.object_arguments || !caps.string_arguments) {
    if (tc.arguments_text.has_value() && tc.arguments.empty()) {
      ordered_json parsed = ordered_json::parse(*tc.arguments_text, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object())
        return make_error(ErrorKind::kInvalidArgument,
                          path + ".function.arguments: this model's chat template needs tool-call "
                                 "arguments as a JSON object, but they are not one");
    }
    return tc.arguments;
  }
  // Only strings print: serialise the object as json.dumps would.
  AS_ASSIGN_OR_RETURN(std::string text, tmpl::to_python_json(tmpl::Value::from_json(tc.arguments)));
  return ordered_json(std::move(text));
}

}  // namespace

std::string nine_char_call_id(const std::string& id) {
  if (is_nine_alnum(id)) return id;
  static const char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ull;
  std::string out(9, '0');
  for (char& c : out) {
    c = kAlphabet[h % 62];
    h /= 62;
  }
  return out;
}

Result<AdaptedConversation> adapt_conversation(const Conversation& conv,
                                               const TemplateCapabilities& caps) {
  AdaptedConversation out;
  std::vector<Draft> drafts;
  drafts.reserve(conv.messages.size());
  for (size_t i = 0; i < conv.messages.size(); ++i) drafts.push_back({conv.messages[i], i});
  auto note = [&](std::string s) { out.notes.push_back(std::move(s)); };

  // 1. developer → system.
  if (!caps.developer_role) {
    bool any = false;
    for (Draft& d : drafts) {
      if (d.m.role == Role::kDeveloper) {
        d.m.role = Role::kSystem;
        any = true;
      }
    }
    if (any) note("developer messages rendered as system messages (rule 1)");
  }
  // 2. One leading system message.
  size_t leading = 0;
  while (leading < drafts.size() && drafts[leading].m.role == Role::kSystem) ++leading;
  if (leading > 1) {
    for (size_t i = 1; i < leading; ++i) merge_into(&drafts[0].m, drafts[i].m);
    drafts.erase(drafts.begin() + 1, drafts.begin() + static_cast<std::ptrdiff_t>(leading));
    note(std::to_string(leading) + " leading system messages joined into one (rule 2)");
    leading = 1;
  }
  // 3. Later system messages.
  if (!caps.system_mid_conversation) {
    for (size_t i = leading; i < drafts.size(); ++i) {
      if (drafts[i].m.role != Role::kSystem) continue;
      drafts[i].m.role = Role::kUser;
      note("system message " + std::to_string(drafts[i].source_index) +
           " rendered as a user message in place (rule 3)");
    }
  }
  // 4. A leading system message the template cannot render.
  if (leading == 1 && !caps.system_role) {
    const std::string text = drafts[0].m.text();
    auto user = std::find_if(drafts.begin() + 1, drafts.end(),
                             [](const Draft& d) { return d.m.role == Role::kUser; });
    if (user != drafts.end() && user == drafts.begin() + 1) {
      prepend_text(&user->m, text);
      drafts.erase(drafts.begin());
      note("system message folded into the first user message (rule 4)");
    } else {
      drafts[0].m.role = Role::kUser;
      note("system message rendered as a user message (rule 4)");
    }
  }
  // 5. Templates without tool support.
  const bool prints_calls = caps.string_arguments || caps.object_arguments;
  for (Draft& d : drafts) {
    if (d.m.role == Role::kTool && !caps.tool_role) {
      d.m.role = Role::kUser;
      d.m.content_is_parts = false;
      note("tool result " + std::to_string(d.source_index) + " rendered as a user message (rule 5)");
    }
    if (!d.m.tool_calls.empty() && !prints_calls) {
      std::string text = d.m.content_is_null ? std::string() : d.m.text();
      for (const ToolCall& tc : d.m.tool_calls) {
        ordered_json line = {{"name", tc.name}, {"arguments", tc.arguments}};
        if (tc.arguments_text.has_value() && tc.arguments.empty() && *tc.arguments_text != "{}")
          line["arguments"] = *tc.arguments_text;
        AS_ASSIGN_OR_RETURN(std::string json, tmpl::to_python_json(tmpl::Value::from_json(line)));
        text += (text.empty() ? "" : "\n") + json;
      }
      d.m.content = {{ContentPart::Kind::kText, std::move(text), {}}};
      d.m.content_is_null = false;
      d.m.content_is_parts = false;
      d.m.tool_calls.clear();
      note("tool calls of message " + std::to_string(d.source_index) +
           " written into its text: the template prints none (rule 5)");
    }
  }
  // 5 (cont.). One call per assistant turn: call 1, its result, call 2, its result, ...
  if (caps.single_call_per_message && prints_calls) {
    std::vector<Draft> split;
    split.reserve(drafts.size());
    for (size_t i = 0; i < drafts.size(); ++i) {
      const Draft& d = drafts[i];
      if (d.m.role != Role::kAssistant || d.m.tool_calls.size() < 2) {
        split.push_back(d);
        continue;
      }
      // The tool results that follow this turn, by call id.
      size_t end = i + 1;
      while (end < drafts.size() && drafts[end].m.role == Role::kTool) ++end;
      std::vector<bool> used(end - i - 1, false);
      for (size_t c = 0; c < d.m.tool_calls.size(); ++c) {
        Draft one = d;
        one.m.tool_calls = {d.m.tool_calls[c]};
        if (c > 0) {
          one.m.content.clear();
          one.m.content_is_null = true;
          one.m.reasoning_content.reset();
        }
        split.push_back(std::move(one));
        for (size_t r = i + 1; r < end; ++r) {
          if (!used[r - i - 1] && drafts[r].m.tool_call_id == d.m.tool_calls[c].id) {
            used[r - i - 1] = true;
            split.push_back(drafts[r]);
            break;
          }
        }
      }
      for (size_t r = i + 1; r < end; ++r)
        if (!used[r - i - 1]) split.push_back(drafts[r]);
      note("assistant message " + std::to_string(d.source_index) + " with " +
           std::to_string(d.m.tool_calls.size()) +
           " tool calls split into one turn per call, each followed by its result (rule 5)");
      i = end - 1;
    }
    drafts = std::move(split);
  }
  // 5 (cont.). No user message right after tool results: fold it into the last result.
  if (caps.user_after_tool_fails && caps.tool_role) {
    for (size_t i = 1; i < drafts.size();) {
      if (drafts[i].m.role == Role::kUser && drafts[i - 1].m.role == Role::kTool) {
        merge_into(&drafts[i - 1].m, drafts[i].m);
        note("user message " + std::to_string(drafts[i].source_index) +
             " appended to the tool result before it (rule 5)");
        drafts.erase(drafts.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  // 6. Strict alternation.
  if (caps.requires_alternation) {
    for (size_t i = 1; i < drafts.size();) {
      const Role r = drafts[i].m.role;
      if (r == drafts[i - 1].m.role && (r == Role::kUser || r == Role::kAssistant)) {
        merge_into(&drafts[i - 1].m, drafts[i].m);
        note(std::string("consecutive ") + role_name(r) + " messages " +
             std::to_string(drafts[i - 1].source_index) + " and " +
             std::to_string(drafts[i].source_index) + " merged (rule 6)");
        drafts.erase(drafts.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }

  // 7–9. Messages as the template reads them.
  bool images = false;
  for (const Draft& d : drafts) {
    const Message& m = d.m;
    const std::string path = "messages[" + std::to_string(d.source_index) + "]";
    ordered_json j = ordered_json::object();
    j["role"] = role_name(m.role);
    bool has_image = false;
    for (const ContentPart& part : m.content) has_image |= part.kind == ContentPart::Kind::kImage;
    images |= has_image;
    const bool empty = m.content_is_null || m.text().empty();
    if (empty && !m.tool_calls.empty() && caps.calls_need_null_content) {
      j["content"] = nullptr;
    } else if (m.content_is_null) {
      j["content"] = caps.null_content_as_empty ? ordered_json("") : ordered_json(nullptr);
    } else if (m.content_is_parts && caps.content_parts && !has_image) {
      ordered_json parts = ordered_json::array();
      for (const ContentPart& part : m.content)
        parts.push_back({{"type", "text"}, {"text", part.text}});
      j["content"] = std::move(parts);
    } else {
      j["content"] = m.text();
    }
    if (m.reasoning_content.has_value()) j["reasoning_content"] = *m.reasoning_content;
    if (!m.tool_calls.empty()) {
      ordered_json calls = ordered_json::array();
      for (size_t c = 0; c < m.tool_calls.size(); ++c) {
        const ToolCall& tc = m.tool_calls[c];
        AS_ASSIGN_OR_RETURN(ordered_json args,
                            arguments_for(tc, caps, path + ".tool_calls[" + std::to_string(c) + "]"));
        calls.push_back({{"id", caps.nine_char_call_ids ? nine_char_call_id(tc.id) : tc.id},
                         {"type", "function"},
                         {"function", {{"name", tc.name}, {"arguments", std::move(args)}}}});
      }
      j["tool_calls"] = std::move(calls);
    }
    if (m.role == Role::kTool) {
      j["tool_call_id"] = caps.nine_char_call_ids ? nine_char_call_id(m.tool_call_id) : m.tool_call_id;
      if (!m.name.empty()) j["name"] = m.name;
    }
    out.inputs.messages.push_back(std::move(j));
  }
  if (images) note("images replaced by the text \"[image]\" (rule 7)");
  if (caps.nine_char_call_ids) note("tool-call ids mapped to 9 alphanumerics (rule 9)");

  // 10. Tool definitions.
  if (!conv.tools.empty()) {
    ordered_json defs = ordered_json::array();
    for (const Tool& t : conv.tools) {
      const bool wrapped = t.definition.contains("function");
      defs.push_back(caps.flat_tool_definitions && wrapped ? t.definition["function"] : t.definition);
    }
    if (caps.tools == ToolsPlacement::kSystemMessage) {
      ordered_json& msgs = out.inputs.messages;
      if (msgs.empty() || msgs[0]["role"] != "system") {
        msgs.insert(msgs.begin(), ordered_json{{"role", "system"}, {"content", ""}});
        note("an empty system message added to carry the tool definitions (rule 10)");
      }
      AS_ASSIGN_OR_RETURN(std::string text, tmpl::to_python_json(tmpl::Value::from_json(defs)));
      msgs[0]["tools"] = std::move(text);
      note("tool definitions given in the system message (rule 10)");
    } else {
      if (caps.tools == ToolsPlacement::kNone)
        note("this chat template does not render tool definitions: the model will not see them");
      out.inputs.tools = std::move(defs);
    }
  }
  out.inputs.add_generation_prompt = conv.add_generation_prompt;
  out.inputs.enable_thinking = conv.enable_thinking;
  out.inputs.kwargs = conv.template_kwargs;
  return out;
}

}  // namespace agentserve::chat
