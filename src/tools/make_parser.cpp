// Picks the parser for a format. Calls are parsed only when asked (parse_calls): without tools
// every format but harmony is plain text, while harmony still has channels to split.
#include "tools/parsers.h"

namespace agentserve::tools {

std::unique_ptr<ToolParser> make_parser(const ParserOptions& options) {
  if (options.format == ToolFormat::kHarmony) return make_harmony_parser(options);
  if (!options.parse_calls) return make_passthrough_parser();
  switch (options.format) {
    case ToolFormat::kNone:
      return make_passthrough_parser();
    case ToolFormat::kHermes:
      return make_hermes_parser(options);
    case ToolFormat::kQwen3Coder:
      return make_qwen3_coder_parser(options);
    case ToolFormat::kLlama3Json:
      return make_llama3_json_parser(options);
    case ToolFormat::kMistral:
      return make_mistral_parser(options);
    case ToolFormat::kDeepSeekV31:
      return make_deepseek_v31_parser(options);
    case ToolFormat::kHarmony:
      break;
  }
  return make_passthrough_parser();
}

}  // namespace agentserve::tools
