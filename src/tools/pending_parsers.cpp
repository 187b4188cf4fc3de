// Temporary: factories whose parsers have not landed yet answer with pass-through parsers so
// that the library links. Deleted as soon as the real ones exist.
#include "tools/parsers.h"

namespace agentserve::tools {

std::unique_ptr<ToolParser> make_harmony_parser(const ParserOptions&) {
  return make_passthrough_parser();
}

}  // namespace agentserve::tools
