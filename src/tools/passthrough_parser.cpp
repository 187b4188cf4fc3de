// The parser for "no calls": every piece is content, as generated.
#include "tools/parsers.h"

namespace agentserve::tools {
namespace {

class PassthroughParser final : public ToolParser {
 public:
  void push(std::string_view text, std::vector<ToolEvent>* out) override {
    if (text.empty()) return;
    ToolEvent e;
    e.text = std::string(text);
    out->push_back(std::move(e));
  }
  void finish(std::vector<ToolEvent>*) override {}
};

}  // namespace

std::unique_ptr<ToolParser> make_passthrough_parser() {
  return std::make_unique<PassthroughParser>();
}

}  // namespace agentserve::tools
