// The conversation model that both APIs (OpenAI chat/completions, Anthropic messages) convert
// into, and that the chat template renders. Plain data; no JSON parsing here (see
// conversation_json.h for the OpenAI wire shape).
//
// Byte stability is the point: everything that reaches the prompt keeps what the client sent
// (tool-call argument text verbatim, JSON key order of objects and schemas), so that turn N+1
// renders turn N's history to the same bytes and the prefix cache reuses it.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace agentserve::chat {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };
const char* role_name(Role role);  // "system", "developer", "user", "assistant", "tool"

struct ContentPart {
  enum class Kind { kText, kImage };
  Kind kind = Kind::kText;
  std::string text;       // kText
  std::string image_ref;  // kImage: where the image came from (never fetched)
};

struct ToolCall {
  std::string id;
  std::string name;
  // The arguments object, key order as received (Anthropic `input`, or an OpenAI arguments
  // string that parsed as a JSON object).
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
  // OpenAI sends arguments as a string — the model's own text. Kept verbatim, because a
  // template that prints the string reproduces exactly what was generated.
  std::optional<std::string> arguments_text;
};

struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;
  bool content_is_null = false;    // OpenAI `content: null` (assistant turns with only calls)
  bool content_is_parts = false;   // sent as a list of parts rather than one string
  std::optional<std::string> reasoning_content;  // the model's thinking, when a client sends it
  std::vector<ToolCall> tool_calls;              // assistant
  std::string tool_call_id;                      // tool: which call this answers
  std::string name;                              // tool: the function's name (optional)

  // Concatenated text parts, joined by `joiner`; images as "[image]".
  std::string text(const char* joiner = "\n") const;
};

struct Tool {
  // As received, in OpenAI's shape: {"type": "function", "function": {"name", "description",
  // "parameters"}}. Key order is kept: templates print schemas with tojson.
  nlohmann::ordered_json definition;
  std::string name() const;
};

struct Conversation {
  std::vector<Message> messages;
  std::vector<Tool> tools;
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;  // Qwen3-style templates; absent = template default
  // Further template variables (OpenAI `chat_template_kwargs`), passed through as they are.
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
};

}  // namespace agentserve::chat
