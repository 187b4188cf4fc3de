#include "server/anthropic/anthropic_conversation.h"

#include <string_view>

#include "server/prompt_hygiene.h"
#include "server/request_fields.h"

namespace agentserve::server::anthropic {
namespace {

using chat::ContentPart;
using chat::Message;
using chat::Role;
using nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& path, const std::string& expected, const ordered_json& found) {
  throw_request_error(path + ": expected " + expected + ", found " + json_type_name(found), path);
}

const std::string& required_string(const ordered_json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw_request_error(path + "." + key + ": Field required", path + "." + key);
  if (!it->is_string()) bad(path + "." + key, "a string", *it);
  return it->get_ref<const std::string&>();
}

std::string block_type(const ordered_json& block, const std::string& path) {
  if (!block.is_object()) bad(path, "a content block object", block);
  return required_string(block, "type", path);
}

ContentPart text_part(std::string text) { return {ContentPart::Kind::kText, std::move(text), {}}; }

// Where an image came from, for the placeholder ("[image]" in the prompt; never fetched).
ContentPart image_part(const ordered_json& block) {
  std::string ref;
  if (auto src = block.find("source"); src != block.end() && src->is_object()) {
    if (src->contains("url") && (*src)["url"].is_string()) {
      ref = (*src)["url"].get<std::string>().substr(0, 64);
    } else if (src->contains("media_type") && (*src)["media_type"].is_string()) {
      ref = (*src)["media_type"].get<std::string>();
    }
  }
  return {ContentPart::Kind::kImage, {}, ref};
}

// A document's text: a plain-text source, or the text blocks of a content source. PDFs and
// other binary sources have none (this server reads text only).
std::optional<std::string> document_text(const ordered_json& block) {
  auto src = block.find("source");
  if (src == block.end() || !src->is_object()) return std::nullopt;
  const std::string type = src->value("type", "");
  if (type == "text" && src->contains("data") && (*src)["data"].is_string())
    return (*src)["data"].get<std::string>();
  if (type == "content") {
    const ordered_json& c = src->value("content", ordered_json());
    if (c.is_string()) return c.get<std::string>();
    if (c.is_array()) {
      std::string out;
      for (const ordered_json& b : c) {
        if (!b.is_object() || b.value("type", "") != "text" || !b.contains("text") || !b["text"].is_string())
          continue;
        if (!out.empty()) out += "\n";
        out += b["text"].get<std::string>();
      }
      return out;
    }
  }
  return std::nullopt;
}

// A message's `content` as a block list: a string is one text block.
ordered_json content_blocks(const ordered_json& msg, const std::string& path, bool* was_string) {
  auto it = msg.find("content");
  if (it == msg.end() || it->is_null()) throw_request_error(path + ".content: Field required", path + ".content");
  if (it->is_string()) {
    *was_string = true;
    return ordered_json::array({{{"type", "text"}, {"text", *it}}});
  }
  if (!it->is_array()) bad(path + ".content", "a string or an array of content blocks", *it);
  *was_string = false;
  return *it;
}

struct Turn {
  Role role = Role::kUser;
  ordered_json blocks = ordered_json::array();
  std::vector<std::string> block_paths;
  bool was_string = true;  // every merged message sent its content as one string
};

// Text, image and document blocks shared by user and tool-result content. Returns false for a
// block of another type (the caller decides).
bool add_common_part(const std::string& type, const ordered_json& block, const std::string& path,
                     Message* m, std::vector<std::string>* dropped) {
  if (type == "text") {
    m->content.push_back(text_part(required_string(block, "text", path)));
  } else if (type == "image") {
    m->content.push_back(image_part(block));
  } else if (type == "document") {
    if (auto text = document_text(block)) {
      m->content.push_back(text_part(std::move(*text)));
    } else {
      dropped->push_back(path + " (document without a text source)");
    }
  } else {
    return false;
  }
  return true;
}

Message tool_result_message(const ordered_json& block, const std::string& path,
                            std::vector<std::string>* dropped) {
  Message m;
  m.role = Role::kTool;
  m.tool_call_id = required_string(block, "tool_use_id", path);
  auto it = block.find("content");
  if (it == block.end() || it->is_null()) {
    m.content.push_back(text_part(""));
  } else if (it->is_string()) {
    m.content.push_back(text_part(it->get<std::string>()));
  } else if (it->is_array()) {
    m.content_is_parts = true;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string ppath = path + ".content." + std::to_string(i);
      const ordered_json& part = (*it)[i];
      const std::string type = block_type(part, ppath);
      if (!add_common_part(type, part, ppath, &m, dropped))
        dropped->push_back(ppath + " (type \"" + type + "\")");
    }
  } else {
    bad(path + ".content", "a string or an array of content blocks", *it);
  }
  // The model should know that the call failed even where the result text does not say so.
  if (block.value("is_error", false)) {
    if (!m.content.empty() && m.content.front().kind == ContentPart::Kind::kText) {
      m.content.front().text = "Error: " + m.content.front().text;
    } else {
      m.content.insert(m.content.begin(), text_part("Error:"));
    }
  }
  return m;
}

void convert_user(const Turn& turn, std::vector<Message>* out, std::vector<std::string>* dropped) {
  Message pending;
  pending.role = Role::kUser;
  pending.content_is_parts = !turn.was_string;
  bool have_pending = false;
  auto flush = [&] {
    if (!have_pending) return;
    out->push_back(std::move(pending));
    pending = Message();
    pending.role = Role::kUser;
    pending.content_is_parts = !turn.was_string;
    have_pending = false;
  };
  for (size_t i = 0; i < turn.blocks.size(); ++i) {
    const ordered_json& block = turn.blocks[i];
    const std::string& path = turn.block_paths[i];
    const std::string type = block_type(block, path);
    if (type == "tool_result") {
      flush();
      out->push_back(tool_result_message(block, path, dropped));
    } else if (add_common_part(type, block, path, &pending, dropped)) {
      have_pending = true;
    } else {
      dropped->push_back(path + " (type \"" + type + "\" in a user turn)");
    }
  }
  // A turn of nothing but dropped blocks still is a turn: keep the alternation the client sent.
  if (have_pending || out->empty() || out->back().role != Role::kTool) {
    have_pending = true;
    flush();
  }
}

void convert_assistant(const Turn& turn, std::vector<Message>* out, std::vector<std::string>* dropped) {
  Message m;
  m.role = Role::kAssistant;
  m.content_is_parts = !turn.was_string;
  for (size_t i = 0; i < turn.blocks.size(); ++i) {
    const ordered_json& block = turn.blocks[i];
    const std::string& path = turn.block_paths[i];
    const std::string type = block_type(block, path);
    if (type == "text") {
      m.content.push_back(text_part(required_string(block, "text", path)));
    } else if (type == "thinking") {
      const std::string& thinking = required_string(block, "thinking", path);
      m.reasoning_content = m.reasoning_content ? *m.reasoning_content + "\n" + thinking : thinking;
    } else if (type == "tool_use") {
      chat::ToolCall call;
      call.id = required_string(block, "id", path);
      call.name = required_string(block, "name", path);
      auto input = block.find("input");
      if (input == block.end() || input->is_null()) {
        call.arguments = ordered_json::object();
      } else if (input->is_object()) {
        call.arguments = *input;
      } else {
        bad(path + ".input", "an object", *input);
      }
      m.tool_calls.push_back(std::move(call));
    } else if (type == "redacted_thinking") {
      dropped->push_back(path + " (redacted_thinking: opaque to this server)");
    } else {
      dropped->push_back(path + " (type \"" + type + "\" in an assistant turn)");
    }
  }
  if (m.content.empty() && !m.tool_calls.empty()) m.content_is_null = true;
  out->push_back(std::move(m));
}

void convert_system(const Turn& turn, std::vector<Message>* out, std::vector<std::string>* dropped) {
  Message m;
  m.role = Role::kSystem;
  m.content_is_parts = !turn.was_string;
  for (size_t i = 0; i < turn.blocks.size(); ++i) {
    const ordered_json& block = turn.blocks[i];
    const std::string& path = turn.block_paths[i];
    const std::string type = block_type(block, path);
    if (type == "text") {
      m.content.push_back(text_part(required_string(block, "text", path)));
    } else {
      dropped->push_back(path + " (type \"" + type + "\" in a system message)");
    }
  }
  out->push_back(std::move(m));
}

void convert_top_system(const ordered_json& body, std::vector<Message>* out,
                        std::vector<std::string>* dropped, bool prompt_hygiene) {
  auto it = body.find("system");
  if (it == body.end() || it->is_null()) return;
  auto push = [&](std::string text) {
    Message m;
    m.role = Role::kSystem;
    m.content.push_back(text_part(std::move(text)));
    out->push_back(std::move(m));
  };
  if (it->is_string()) {
    std::string text = it->get<std::string>();
    if (prompt_hygiene) normalize_attribution(&text);
    if (!text.empty()) push(std::move(text));
    return;
  }
  if (!it->is_array()) bad("system", "a string or an array of text blocks", *it);
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string path = "system." + std::to_string(i);
    const ordered_json& block = (*it)[i];
    const std::string type = block_type(block, path);
    if (type != "text") {
      dropped->push_back(path + " (type \"" + type + "\")");
      continue;
    }
    std::string text = required_string(block, "text", path);
    if (prompt_hygiene) normalize_attribution(&text);
    push(std::move(text));
  }
}

Role parse_role(const ordered_json& msg, const std::string& path) {
  const std::string& role = required_string(msg, "role", path);
  if (role == "user") return Role::kUser;
  if (role == "assistant") return Role::kAssistant;
  if (role == "system") return Role::kSystem;
  throw_request_error(path + ".role: expected \"user\", \"assistant\" or \"system\", found \"" + role + "\"",
                      path + ".role");
}

std::vector<chat::Tool> convert_tools(const ordered_json& body, std::vector<std::string>* dropped) {
  std::vector<chat::Tool> tools;
  auto it = body.find("tools");
  if (it == body.end() || it->is_null()) return tools;
  if (!it->is_array()) bad("tools", "an array", *it);
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string path = "tools." + std::to_string(i);
    const ordered_json& t = (*it)[i];
    if (!t.is_object()) bad(path, "a tool object", t);
    const std::string type = t.contains("type") && t["type"].is_string() ? t["type"].get<std::string>() : "";
    if (!t.contains("input_schema") && !type.empty() && type != "custom") {
      dropped->push_back(path + " (server tool \"" + type + "\")");
      continue;
    }
    ordered_json fn = ordered_json::object();
    fn["name"] = required_string(t, "name", path);
    if (auto d = t.find("description"); d != t.end() && !d->is_null()) {
      if (!d->is_string()) bad(path + ".description", "a string", *d);
      fn["description"] = *d;
    }
    auto schema = t.find("input_schema");
    if (schema == t.end() || schema->is_null())
      throw_request_error(path + ".input_schema: Field required", path + ".input_schema");
    if (!schema->is_object()) bad(path + ".input_schema", "an object", *schema);
    fn["parameters"] = *schema;
    chat::Tool tool;
    tool.definition = ordered_json{{"type", "function"}, {"function", std::move(fn)}};
    tools.push_back(std::move(tool));
  }
  return tools;
}

}  // namespace

void conversation_from_anthropic(const ordered_json& body, chat::Conversation* conversation,
                                 std::vector<std::string>* dropped, bool prompt_hygiene) {
  std::vector<Message>& out = conversation->messages;
  convert_top_system(body, &out, dropped, prompt_hygiene);

  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) throw_request_error("messages: Field required", "messages");
  if (!it->is_array()) bad("messages", "an array of messages", *it);
  if (it->empty()) throw_request_error("messages: at least one message is required", "messages");

  std::vector<Turn> turns;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string path = "messages." + std::to_string(i);
    const ordered_json& msg = (*it)[i];
    if (!msg.is_object()) bad(path, "a message object", msg);
    const Role role = parse_role(msg, path);
    bool was_string = false;
    ordered_json blocks = content_blocks(msg, path, &was_string);
    if (turns.empty() || turns.back().role != role) {
      Turn turn;
      turn.role = role;
      turns.push_back(std::move(turn));
    } else {
      turns.back().was_string = false;  // merged turns are lists of parts
    }
    Turn& turn = turns.back();
    turn.was_string = turn.was_string && was_string;
    for (size_t j = 0; j < blocks.size(); ++j) {
      turn.block_paths.push_back(path + ".content." + std::to_string(j));
      turn.blocks.push_back(std::move(blocks[j]));
    }
  }
  for (const Turn& turn : turns) {
    switch (turn.role) {
      case Role::kUser: convert_user(turn, &out, dropped); break;
      case Role::kAssistant: convert_assistant(turn, &out, dropped); break;
      default: convert_system(turn, &out, dropped); break;
    }
  }
  conversation->tools = convert_tools(body, dropped);
}

}  // namespace agentserve::server::anthropic
