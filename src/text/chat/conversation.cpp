#include "text/chat/conversation.h"

namespace agentserve::chat {

const char* role_name(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kDeveloper: return "developer";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";
  }
  return "?";
}

std::string Message::text(const char* joiner) const {
  std::string out;
  bool first = true;
  for (const ContentPart& part : content) {
    if (!first) out += joiner;
    first = false;
    out += part.kind == ContentPart::Kind::kText ? part.text : std::string("[image]");
  }
  return out;
}

std::string Tool::name() const {
  const nlohmann::ordered_json* fn = &definition;
  if (auto it = definition.find("function"); it != definition.end() && it->is_object()) fn = &*it;
  if (auto it = fn->find("name"); it != fn->end() && it->is_string()) return it->get<std::string>();
  return {};
}

}  // namespace agentserve::chat
