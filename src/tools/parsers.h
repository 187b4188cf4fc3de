// One factory per tool-call format; make_parser (make_parser.cpp) picks among them. Each is
// called only with options.parse_calls true and options.format its own (harmony also without
// parse_calls: it still splits its channels).
#pragma once

#include <memory>

#include "tools/tool_parser.h"

namespace agentserve::tools {

std::unique_ptr<ToolParser> make_passthrough_parser();
std::unique_ptr<ToolParser> make_hermes_parser(const ParserOptions& options);
std::unique_ptr<ToolParser> make_qwen3_coder_parser(const ParserOptions& options);
std::unique_ptr<ToolParser> make_llama3_json_parser(const ParserOptions& options);
std::unique_ptr<ToolParser> make_mistral_parser(const ParserOptions& options);
std::unique_ptr<ToolParser> make_deepseek_v31_parser(const ParserOptions& options);
std::unique_ptr<ToolParser> make_harmony_parser(const ParserOptions& options);

}  // namespace agentserve::tools
