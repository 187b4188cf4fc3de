// Llama 3.1 / 3.2 / 3.3 calls: the answer itself is the call,
//   {"name": "NAME", "parameters": {...}}
// optionally after <|python_tag|>, possibly several separated by ';' or whitespace. There is no
// marker: a turn is a call candidate only when it starts (after whitespace) with '{' or
// <|python_tag|>, and it is held back until its first member decides — "name" (or "type":
// "function" then "name") makes it a call; anything else is the JSON answer the user asked for,
// and the turn is plain text from there on. <|python_tag|> followed by anything but '{' is the
// model's ipython code: text, tag included. Text after the calls is content.
#include "tools/call_object_scanner.h"
#include "tools/call_stream_parser.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kPythonTag = "<|python_tag|>";


class Llama3JsonParser final : public CallStreamParser {
 public:
  explicit Llama3JsonParser(const ParserOptions& options)
      : CallStreamParser(options, "llama3_json") {}

 private:
  enum class State {
    kStart,   // before anything but whitespace (or separators after a call)
    kTagged,  // after <|python_tag|>: '{' decides
    kCall,    // inside the object
    kPlain,   // plain text to the end of the turn
  };

  bool step(bool at_end) override {
    switch (state_) {
      case State::kStart: {
        // Whitespace (and after a call, ';') before a candidate is held, not emitted.
        size_t p = 0;
        while (p < buf_.size() && (is_format_space(buf_[p]) || (after_call_ && buf_[p] == ';'))) ++p;
        hold(std::string_view(buf_).substr(0, p));
        skip(p);
        if (buf_.empty()) return false;
        if (buf_.starts_with(kPythonTag)) {
          open_call();
          consume(kPythonTag.size());
          state_ = State::kTagged;
          return true;
        }
        if (!at_end && kPythonTag.starts_with(buf_)) return false;
        if (buf_[0] == '{') {
          open_call();
          scanner_ = CallObjectScanner(/*name_first=*/true);
          state_ = State::kCall;
          return true;
        }
        state_ = State::kPlain;
        return true;
      }
      case State::kTagged: {
        size_t p = skip_format_space(buf_);
        if (p == buf_.size()) {
          consume(p);
          return false;
        }
        if (buf_[p] != '{') {
          abandon_call();
          state_ = State::kPlain;
          return true;
        }
        consume(p);
        scanner_ = CallObjectScanner(/*name_first=*/true);
        state_ = State::kCall;
        return true;
      }
      case State::kCall:
        return call_step();
      case State::kPlain:
        if (after_call_) {
          // Text after calls: the whitespace rules still apply (a trailing blank is dropped).
          text(buf_);
        } else {
          plain_text(buf_);
        }
        buf_.clear();
        return false;
    }
    return false;
  }

  bool call_step() {
    switch (scan_call_object(scanner_)) {
      case CallProgress::kNeedInput: return false;
      case CallProgress::kMore: return true;
      case CallProgress::kComplete:
        after_call_ = true;
        state_ = State::kStart;
        return true;
      case CallProgress::kNotACall: abandon_call(); break;  // the JSON answer the user asked for
      case CallProgress::kBroken: break;
    }
    state_ = State::kPlain;
    return true;
  }

  State state_ = State::kStart;
  bool after_call_ = false;
  CallObjectScanner scanner_;
};

}  // namespace

std::unique_ptr<ToolParser> make_llama3_json_parser(const ParserOptions& options) {
  return std::make_unique<Llama3JsonParser>(options);
}

}  // namespace agentserve::tools
