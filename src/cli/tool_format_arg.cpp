#include "cli/tool_format_arg.h"

namespace agentserve::cli {

tools::ToolFormat detected_tool_format(const Tokenizer& tokenizer) {
  // transformers renders conversations with tools through the "tool_use" template when the
  // model ships one; that is the one teaching the call format.
  if (const std::string* tool_use = tokenizer.chat_template_named("tool_use"))
    return tools::detect_format(*tool_use);
  return tools::detect_format(tokenizer.chat_template());
}

Result<tools::ToolFormat> resolve_tool_format(const Tokenizer& tokenizer, const std::string& flag) {
  if (flag.empty() || flag == "auto") return detected_tool_format(tokenizer);
  if (auto f = tools::format_from_name(flag)) return *f;
  return make_error(ErrorKind::kInvalidArgument,
                    "--tool-format " + flag + ": unknown format (known: auto, " + tools::format_names() + ")");
}

std::string describe_tool_format(tools::ToolFormat format, const std::string& flag) {
  const bool forced = !flag.empty() && flag != "auto";
  if (format == tools::ToolFormat::kNone)
    return forced ? "none (--tool-format): tool calls are returned as text"
                  : "none detected in the chat template: tool calls are returned as text "
                    "(--tool-format NAME to choose one)";
  return std::string(tools::format_name(format)) + (forced ? " (--tool-format)" : " (detected from the chat template)");
}

}  // namespace agentserve::cli
