// The request's blocks located in the rendered prompt, for the debug-level divergence log
// (prompt_divergence.h). Reads the body again: the conversation has merged turns and dropped
// blocks, and the log names blocks as the client sent them.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "server/anthropic/handlers.h"
#include "server/prompt_hygiene.h"
#include "server/request_fields.h"

namespace agentserve::server::anthropic {
namespace {

using nlohmann::ordered_json;

std::string text_of(const ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::shared_ptr<const PromptMap> prompt_map_for(const std::string& body_text, std::string rendered,
                                                bool prompt_hygiene) {
  auto map = std::make_shared<PromptMap>(std::move(rendered));
  ordered_json body;
  try {
    body = parse_body(body_text);
  } catch (...) {
    return map;  // already parsed once: cannot happen; an empty map only loses detail
  }
  auto system_text = [&](std::string text) {
    if (prompt_hygiene) normalize_attribution(&text);
    return text;
  };
  if (auto sys = body.find("system"); sys != body.end()) {
    if (sys->is_string()) map->add("system", system_text(sys->get<std::string>()));
    if (sys->is_array())
      for (size_t j = 0; j < sys->size(); ++j)
        if ((*sys)[j].is_object()) map->add(fmt::format("system[{}]", j), system_text(text_of((*sys)[j], "text")));
  }
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) return map;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ordered_json& m = (*msgs)[i];
    if (!m.is_object()) continue;
    const std::string role = text_of(m, "role");
    const bool in_order = role != "system";  // the chat layer may move these (adapt.h rule 3)
    auto content = m.find("content");
    if (content == m.end()) continue;
    if (content->is_string()) {
      map->add(fmt::format("messages[{}].content ({})", i, role), content->get<std::string>(), in_order);
      continue;
    }
    if (!content->is_array()) continue;
    for (size_t j = 0; j < content->size(); ++j) {
      const ordered_json& b = (*content)[j];
      if (!b.is_object()) continue;
      const std::string type = text_of(b, "type");
      const std::string label = fmt::format("messages[{}].content[{}] ({} {})", i, j, role, type);
      if (type == "text") {
        map->add(label, text_of(b, "text"), in_order);
      } else if (type == "thinking") {
        map->add(label, text_of(b, "thinking"), in_order);
      } else if (type == "tool_result") {
        auto c = b.find("content");
        if (c == b.end()) continue;
        if (c->is_string()) map->add(label, c->get<std::string>(), in_order);
        if (c->is_array())
          for (const ordered_json& part : *c)
            if (part.is_object()) map->add(label, text_of(part, "text"), in_order);
      }
      // tool_use: the template prints `input` as JSON in its own format; not searched.
    }
  }
  return map;
}

}  // namespace agentserve::server::anthropic
