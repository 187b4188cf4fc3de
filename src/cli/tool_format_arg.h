// The tool-call format a model is served with: --tool-format NAME, else what its chat
// template teaches (tools::detect_format on the template used when a request has tools).
#pragma once

#include <string>

#include "base/error.h"
#include "text/tokenizer/tokenizer.h"
#include "tools/tool_parser.h"

namespace agentserve::cli {

// The format detected from the model's chat template.
tools::ToolFormat detected_tool_format(const Tokenizer& tokenizer);

// `flag` is --tool-format's value ("" or "auto": detect). Unknown names are an error that
// lists the known ones.
Result<tools::ToolFormat> resolve_tool_format(const Tokenizer& tokenizer, const std::string& flag);

// For startup lines: "hermes (detected from the chat template)", "mistral (--tool-format)",
// or what "none" means for a client.
std::string describe_tool_format(tools::ToolFormat format, const std::string& flag);

}  // namespace agentserve::cli
