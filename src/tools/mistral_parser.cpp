// Mistral calls, in both forms its templates teach:
//   [TOOL_CALLS][{"name": "NAME", "arguments": {...}, "id": "abc123def"}, ...]   (Nemo, v3)
//   [TOOL_CALLS]NAME[CALL_ID]abc123def[ARGS]{...}                                 (newer; one
//                                                       [TOOL_CALLS] per call, [CALL_ID] optional)
// Ids the model writes are dropped: the API assigns its own. Text before [TOOL_CALLS] is content.
#include "tools/call_object_scanner.h"
#include "tools/call_stream_parser.h"
#include "tools/json_stream.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kToolCalls = "[TOOL_CALLS]";
constexpr std::string_view kArgs = "[ARGS]";
constexpr std::string_view kCallId = "[CALL_ID]";
// An id is a short token (9 alphanumerics in Mistral's templates); longer means broken.
constexpr size_t kMaxIdBytes = 64;


class MistralParser final : public CallStreamParser {
 public:
  explicit MistralParser(const ParserOptions& options) : CallStreamParser(options, "mistral") {}

 private:
  enum class State {
    kText,
    kAfterMarker,  // after [TOOL_CALLS]: '[' (a list) or a name
    kListItem,     // in the list, before an element (first: ']' allowed too)
    kObject,       // an element
    kListNext,     // after an element: ',' or ']'
    kName,         // NAME up to [CALL_ID] / [ARGS]
    kIdOrArgs,     // right after the name
    kCallId,       // the id, up to [ARGS]
    kArgs,         // the arguments object
  };

  bool step(bool at_end) override {
    switch (state_) {
      case State::kText:
        if (scan_text({kToolCalls}, at_end) < 0) return false;
        open_call();
        consume(kToolCalls.size());
        state_ = State::kAfterMarker;
        return true;
      case State::kAfterMarker: {
        size_t p = skip_format_space(buf_);
        if (p == buf_.size()) return false;
        if (buf_[p] == '[') {
          consume(p + 1);
          first_item_ = true;
          state_ = State::kListItem;
        } else {
          consume(p);
          state_ = State::kName;
        }
        return true;
      }
      case State::kListItem: {
        size_t p = skip_format_space(buf_);
        if (p == buf_.size()) return false;
        if (buf_[p] == '{') {
          if (!in_call()) {
            skip(p);
            open_call();
          } else {
            consume(p);
          }
          scanner_ = CallObjectScanner();
          state_ = State::kObject;
          return true;
        }
        consume(p);
        if (in_call()) {
          break_call("", first_item_ && buf_[0] == ']' ? "an empty list of calls"
                                                       : "a list element is not an object");
        }
        state_ = State::kText;
        return true;
      }
      case State::kObject:
        return object_step();
      case State::kListNext: {
        size_t p = skip_format_space(buf_);
        if (p == buf_.size()) return false;
        if (buf_[p] == ',') {
          skip(p + 1);
          first_item_ = false;
          state_ = State::kListItem;
        } else if (buf_[p] == ']') {
          skip(p + 1);
          state_ = State::kText;
        } else {
          // The list was not closed; what follows is text.
          state_ = State::kText;
        }
        return true;
      }
      case State::kName:
        return name_step(at_end);
      case State::kIdOrArgs:
        if (buf_.starts_with(kArgs)) {
          consume(kArgs.size());
          args_ = JsonStream();
          state_ = State::kArgs;
          return true;
        }
        if (buf_.starts_with(kCallId)) {
          consume(kCallId.size());
          state_ = State::kCallId;
          return true;
        }
        if (!at_end && (kArgs.starts_with(buf_) || kCallId.starts_with(buf_))) return false;
        break_call("{}", "[ARGS] was expected after the name");
        state_ = State::kText;
        return true;
      case State::kCallId: {
        const size_t pos = buf_.find(kArgs);
        if (pos == std::string::npos) {
          if (buf_.size() <= kMaxIdBytes + kArgs.size()) return false;
          consume(kMaxIdBytes);  // as when [ARGS] comes too late: the same break however cut
          break_call("{}", "[ARGS] was expected after the call id");
          state_ = State::kText;
          return true;
        }
        if (pos > kMaxIdBytes) {
          consume(kMaxIdBytes);
          break_call("{}", "the call id is too long");
          state_ = State::kText;
          return true;
        }
        consume(pos + kArgs.size());
        args_ = JsonStream();
        state_ = State::kArgs;
        return true;
      }
      case State::kArgs:
        if (scan_call_args(args_) == CallProgress::kNeedInput) return false;
        state_ = State::kText;
        return true;
    }
    return false;
  }

  bool object_step() {
    switch (scan_call_object(scanner_)) {
      case CallProgress::kNeedInput: return false;
      case CallProgress::kMore: return true;
      case CallProgress::kComplete: state_ = State::kListNext; return true;
      case CallProgress::kNotACall:  // only name_first scanners say so; not used here
        break_call(scanner_.args_closing(), scanner_.error());
        break;
      case CallProgress::kBroken: break;
    }
    state_ = State::kText;
    return true;
  }

  // The name ends at the '[' of [CALL_ID] / [ARGS]; whitespace, control characters, quotes or
  // braces inside it mean this was no call.
  bool name_step(bool at_end) {
    size_t q = 0;
    while (q < buf_.size()) {
      const unsigned char c = static_cast<unsigned char>(buf_[q]);
      if (c == '[') break;
      if (c <= 0x20 || c == 0x7f || c == '"' || c == '{' || c == '}' || q >= kMaxNameBytes) {
        consume(q);
        break_call("", "no valid name after [TOOL_CALLS]");
        state_ = State::kText;
        return true;
      }
      ++q;
    }
    if (q == buf_.size()) {
      (void)at_end;  // at the end, finish() returns the held text
      return false;
    }
    const std::string name = buf_.substr(0, q);
    consume(q);
    if (!begin_call(name)) {
      break_call("", "no valid name after [TOOL_CALLS]");
      state_ = State::kText;
      return true;
    }
    state_ = State::kIdOrArgs;
    return true;
  }

  State state_ = State::kText;
  bool first_item_ = true;
  CallObjectScanner scanner_;
  JsonStream args_;
};

}  // namespace

std::unique_ptr<ToolParser> make_mistral_parser(const ParserOptions& options) {
  return std::make_unique<MistralParser>(options);
}

}  // namespace agentserve::tools
