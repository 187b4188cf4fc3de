#include "tools/call_prefix.h"

#include <nlohmann/json.hpp>

namespace agentserve::tools {
namespace {

// The name as it stands inside a JSON string (quotes and backslashes escaped), without quotes.
std::string json_name(std::string_view name) {
  std::string quoted = nlohmann::json(std::string(name)).dump();
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

// Each opening is what the format's own template writes before a call (and what the parser
// reads), up to the point where the model's choice begins: the name, or the arguments.
std::optional<std::string> call_prefix(ToolFormat format, std::string_view name) {
  const bool named = !name.empty();
  switch (format) {
    case ToolFormat::kHermes:
      return "<tool_call>\n{\"name\": \"" + (named ? json_name(name) + "\", \"arguments\": " : "");
    case ToolFormat::kQwen3Coder:
      return "<tool_call>\n<function=" + (named ? std::string(name) + ">\n" : "");
    case ToolFormat::kLlama3Json:
      return "{\"name\": \"" + (named ? json_name(name) + "\", \"parameters\": " : "");
    case ToolFormat::kMistral:
      return "[TOOL_CALLS][{\"name\": \"" + (named ? json_name(name) + "\", \"arguments\": " : "");
    case ToolFormat::kDeepSeekV31:
      return "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>" + (named ? std::string(name) + "<｜tool▁sep｜>" : "");
    case ToolFormat::kHarmony:
      return "<|channel|>commentary to=functions." +
             (named ? std::string(name) + " <|constrain|>json<|message|>" : "");
    case ToolFormat::kNone: break;
  }
  return std::nullopt;
}

}  // namespace agentserve::tools
