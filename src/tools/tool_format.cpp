// Names of the tool-call formats (the --tool-format values and what `agentserve template`
// prints).
#include <array>
#include <utility>

#include "tools/tool_parser.h"

namespace agentserve::tools {
namespace {

constexpr std::array<std::pair<ToolFormat, const char*>, 7> kNames = {{
    {ToolFormat::kNone, "none"},
    {ToolFormat::kHermes, "hermes"},
    {ToolFormat::kQwen3Coder, "qwen3_coder"},
    {ToolFormat::kLlama3Json, "llama3_json"},
    {ToolFormat::kMistral, "mistral"},
    {ToolFormat::kDeepSeekV31, "deepseek_v3_1"},
    {ToolFormat::kHarmony, "harmony"},
}};

}  // namespace

const char* format_name(ToolFormat format) {
  for (const auto& [f, name] : kNames)
    if (f == format) return name;
  return "none";
}

std::optional<ToolFormat> format_from_name(std::string_view name) {
  for (const auto& [f, n] : kNames)
    if (name == n) return f;
  return std::nullopt;
}

bool uses_parameter_schemas(ToolFormat format) { return format == ToolFormat::kQwen3Coder; }

std::string format_names() {
  std::string out;
  for (const auto& [f, name] : kNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace agentserve::tools
