// Hermes / Qwen2.5 / Qwen3 calls:
//   <tool_call>\n{"name": "NAME", "arguments": {...}}\n</tool_call>
// any number of them, with text before, between and after. The closing tag is optional (a
// complete object is a complete call): the call ends when its object closes.
#include "tools/call_object_scanner.h"
#include "tools/call_stream_parser.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";


class HermesParser final : public CallStreamParser {
 public:
  explicit HermesParser(const ParserOptions& options) : CallStreamParser(options, "hermes") {}

 private:
  enum class State { kText, kCall, kAfterCall };

  bool step(bool at_end) override {
    switch (state_) {
      case State::kText:
        if (scan_text({kOpen}, at_end) < 0) return false;
        open_call();
        consume(kOpen.size());
        scanner_ = CallObjectScanner();
        state_ = State::kCall;
        return true;
      case State::kCall:
        return call_step();
      case State::kAfterCall: {
        size_t p = skip_format_space(buf_);
        const std::string_view rest = std::string_view(buf_).substr(p);
        if (rest.starts_with(kClose)) {
          skip(p + kClose.size());
          state_ = State::kText;
          return true;
        }
        if (kClose.starts_with(rest)) {
          // Whitespace or a cut closing tag: the call's formatting, dropped at the end.
          if (!at_end) return false;
          skip(buf_.size());
        }
        state_ = State::kText;
        return true;
      }
    }
    return false;
  }

  bool call_step() {
    switch (scan_call_object(scanner_)) {
      case CallProgress::kNeedInput: return false;
      case CallProgress::kMore: return true;
      case CallProgress::kComplete: state_ = State::kAfterCall; return true;
      case CallProgress::kNotACall:  // only name_first scanners say so; not used here
        break_call(scanner_.args_closing(), scanner_.error());
        break;
      case CallProgress::kBroken: break;
    }
    state_ = State::kText;
    return true;
  }

  State state_ = State::kText;
  CallObjectScanner scanner_;
};

}  // namespace

std::unique_ptr<ToolParser> make_hermes_parser(const ParserOptions& options) {
  return std::make_unique<HermesParser>(options);
}

}  // namespace agentserve::tools
