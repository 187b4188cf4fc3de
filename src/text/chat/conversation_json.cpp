#include "text/chat/conversation_json.h"

namespace agentserve::chat {
namespace {

using nlohmann::ordered_json;

Error bad(const std::string& path, const std::string& expected, const ordered_json& found) {
  std::string shown = found.dump();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  return make_error(ErrorKind::kInvalidArgument,
                    path + ": expected " + expected + ", found " + shown);
}

Result<std::string> string_field(const ordered_json& obj, const char* key, const std::string& path,
                                 bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return make_error(ErrorKind::kInvalidArgument, path + "." + key + ": missing");
    return std::string();
  }
  if (!it->is_string()) return bad(path + "." + key, "a string", *it);
  return it->get<std::string>();
}

Status parse_content(const ordered_json& content, const std::string& path, Message* m,
                     ParseNotes* notes) {
  if (content.is_null()) {
    m->content_is_null = true;
    return {};
  }
  if (content.is_string()) {
    m->content.push_back({ContentPart::Kind::kText, content.get<std::string>(), {}});
    return {};
  }
  if (!content.is_array()) return bad(path, "a string, null or an array of content parts", content);
  m->content_is_parts = true;
  for (size_t i = 0; i < content.size(); ++i) {
    const ordered_json& part = content[i];
    const std::string ppath = path + "[" + std::to_string(i) + "]";
    if (part.is_string()) {  // some clients send bare strings in the list
      m->content.push_back({ContentPart::Kind::kText, part.get<std::string>(), {}});
      continue;
    }
    if (!part.is_object()) return bad(ppath, "a content part object", part);
    AS_ASSIGN_OR_RETURN(std::string type, string_field(part, "type", ppath, true));
    if (type == "text" || type == "input_text") {
      AS_ASSIGN_OR_RETURN(std::string text, string_field(part, "text", ppath, true));
      m->content.push_back({ContentPart::Kind::kText, std::move(text), {}});
    } else if (type == "image_url" || type == "input_image") {
      std::string ref;
      if (auto it = part.find("image_url"); it != part.end()) {
        if (it->is_string()) ref = it->get<std::string>();
        else if (it->is_object() && it->contains("url") && (*it)["url"].is_string())
          ref = (*it)["url"].get<std::string>();
      }
      m->content.push_back({ContentPart::Kind::kImage, {}, ref.substr(0, 64)});
    } else {
      notes->dropped.push_back(ppath + " (type \"" + type + "\")");
    }
  }
  return {};
}

Result<ToolCall> parse_tool_call(const ordered_json& call, const std::string& path) {
  if (!call.is_object()) return bad(path, "a tool call object", call);
  ToolCall tc;
  AS_ASSIGN_OR_RETURN(tc.id, string_field(call, "id", path, false));
  const ordered_json* fn = &call;
  if (auto it = call.find("function"); it != call.end()) {
    if (!it->is_object()) return bad(path + ".function", "an object", *it);
    fn = &*it;
  }
  const std::string fpath = fn == &call ? path : path + ".function";
  AS_ASSIGN_OR_RETURN(tc.name, string_field(*fn, "name", fpath, true));
  if (auto it = fn->find("arguments"); it != fn->end() && !it->is_null()) {
    if (it->is_string()) {
      tc.arguments_text = it->get<std::string>();
      ordered_json parsed = ordered_json::parse(*tc.arguments_text, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) tc.arguments = std::move(parsed);
    } else if (it->is_object()) {
      tc.arguments = *it;
    } else {
      return bad(fpath + ".arguments", "a JSON string or an object", *it);
    }
  }
  return tc;
}

Result<Role> parse_role(const ordered_json& msg, const std::string& path) {
  AS_ASSIGN_OR_RETURN(std::string role, string_field(msg, "role", path, true));
  if (role == "system") return Role::kSystem;
  if (role == "developer") return Role::kDeveloper;
  if (role == "user") return Role::kUser;
  if (role == "assistant") return Role::kAssistant;
  if (role == "tool" || role == "function") return Role::kTool;
  return bad(path + ".role", "one of system, developer, user, assistant, tool", msg["role"]);
}

}  // namespace

Result<std::vector<Message>> messages_from_openai(const ordered_json& messages, ParseNotes* notes) {
  if (!messages.is_array()) return bad("messages", "an array", messages);
  std::vector<Message> out;
  out.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string path = "messages[" + std::to_string(i) + "]";
    const ordered_json& msg = messages[i];
    if (!msg.is_object()) return bad(path, "a message object", msg);
    Message m;
    AS_ASSIGN_OR_RETURN(m.role, parse_role(msg, path));
    if (auto it = msg.find("content"); it != msg.end()) {
      AS_TRY(parse_content(*it, path + ".content", &m, notes));
    } else {
      m.content_is_null = true;
    }
    for (const char* key : {"reasoning_content", "reasoning"}) {
      if (auto it = msg.find(key); it != msg.end() && it->is_string()) {
        m.reasoning_content = it->get<std::string>();
        break;
      }
    }
    if (auto it = msg.find("tool_calls"); it != msg.end() && !it->is_null()) {
      if (m.role != Role::kAssistant)
        return make_error(ErrorKind::kInvalidArgument,
                          path + ".tool_calls: only assistant messages carry tool calls");
      if (!it->is_array()) return bad(path + ".tool_calls", "an array", *it);
      for (size_t j = 0; j < it->size(); ++j) {
        AS_ASSIGN_OR_RETURN(ToolCall tc, parse_tool_call((*it)[j], path + ".tool_calls[" +
                                                                       std::to_string(j) + "]"));
        m.tool_calls.push_back(std::move(tc));
      }
    }
    if (m.role == Role::kTool) {
      AS_ASSIGN_OR_RETURN(m.tool_call_id, string_field(msg, "tool_call_id", path, false));
    }
    AS_ASSIGN_OR_RETURN(m.name, string_field(msg, "name", path, false));
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<Tool>> tools_from_openai(const ordered_json& tools) {
  std::vector<Tool> out;
  if (tools.is_null()) return out;
  if (!tools.is_array()) return bad("tools", "an array", tools);
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = "tools[" + std::to_string(i) + "]";
    const ordered_json& t = tools[i];
    if (!t.is_object()) return bad(path, "a tool object", t);
    Tool tool;
    tool.definition = t;
    if (!t.contains("function")) {
      // A bare function definition ({name, description, parameters}): wrap it as OpenAI does.
      tool.definition = ordered_json{{"type", "function"}, {"function", t}};
    } else if (!t["function"].is_object()) {
      return bad(path + ".function", "an object", t["function"]);
    }
    if (tool.name().empty())
      return make_error(ErrorKind::kInvalidArgument, path + ".function.name: missing");
    out.push_back(std::move(tool));
  }
  return out;
}

}  // namespace agentserve::chat
