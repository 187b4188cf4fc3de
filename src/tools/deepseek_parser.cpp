// DeepSeek calls (the markers use fullwidth ｜ and ▁):
//   V3.1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>
//         ... more calls ... <｜tool▁calls▁end｜>
//   V3: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```
//         <｜tool▁call▁end｜> ... <｜tool▁calls▁end｜>
// The two differ after the separator: V3.1 goes straight into the arguments object, V3 names
// the call there (before the separator it wrote the type, "function"). A call that opens with
// <｜tool▁call▁begin｜> without the list marker is accepted too.
#include "tools/call_stream_parser.h"
#include "tools/json_stream.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";

bool is_name_byte(unsigned char c) {
  return c > 0x20 && c != 0x7f && c != '<' && c != '{';
}


class DeepSeekParser final : public CallStreamParser {
 public:
  explicit DeepSeekParser(const ParserOptions& options)
      : CallStreamParser(options, "deepseek_v3_1") {}

 private:
  enum class State {
    kText,
    kList,  // after <｜tool▁calls▁begin｜> or a call: the next call or the list's end
    kName,  // after <｜tool▁call▁begin｜>: NAME (V3.1) or the type (V3) up to the separator
    kAfterType,  // the part before the separator was "function": '{' or a V3 name follows
    kV3Name,     // V3: the name up to the end of its line
    kFence,      // V3: ```json before the object
    kArgs,
    kCallTail,  // after the object: ``` (V3) and <｜tool▁call▁end｜>
  };

  bool step(bool at_end) override {
    switch (state_) {
      case State::kText: {
        const int which = scan_text({kCallsBegin, kCallBegin}, at_end);
        if (which < 0) return false;
        open_call();
        consume(which == 0 ? kCallsBegin.size() : kCallBegin.size());
        state_ = which == 0 ? State::kList : State::kName;
        return true;
      }
      case State::kList: {
        const size_t p = skip_format_space(buf_);
        const std::string_view rest = std::string_view(buf_).substr(p);
        if (rest.starts_with(kCallBegin)) {
          if (!in_call()) {
            skip(p);
            open_call();
            consume(kCallBegin.size());
          } else {
            consume(p + kCallBegin.size());
          }
          state_ = State::kName;
          return true;
        }
        if (rest.starts_with(kCallsEnd)) {
          if (in_call()) {
            consume(p + kCallsEnd.size());
            break_call("", "an empty list of calls");
          } else {
            skip(p + kCallsEnd.size());
          }
          state_ = State::kText;
          return true;
        }
        if (!at_end && (kCallBegin.starts_with(rest) || kCallsEnd.starts_with(rest))) return false;
        if (at_end && !in_call() && (kCallBegin.starts_with(rest) || kCallsEnd.starts_with(rest))) {
          skip(buf_.size());  // formatting of the last call, cut off
          return false;
        }
        if (in_call()) {
          consume(p);
          break_call("", "<｜tool▁call▁begin｜> was expected");
        }
        state_ = State::kText;
        return true;
      }
      case State::kName: {
        size_t q = 0;
        while (q < buf_.size() && is_name_byte(static_cast<unsigned char>(buf_[q])) &&
               q <= kMaxNameBytes)
          ++q;
        if (q == buf_.size()) return false;
        const std::string_view rest = std::string_view(buf_).substr(q);
        if (!rest.starts_with(kSep)) {
          if (!at_end && kSep.starts_with(rest) && q <= kMaxNameBytes) return false;
          consume(q);
          break_call("", "the call's name is not followed by <｜tool▁sep｜>");
          state_ = State::kText;
          return true;
        }
        name_ = buf_.substr(0, q);
        consume(q + kSep.size());
        if (name_ == "function") {
          state_ = State::kAfterType;
          return true;
        }
        return begin_or_break(State::kArgs);
      }
      case State::kAfterType:
        if (buf_.empty()) return false;
        if (buf_[0] == '{') return begin_or_break(State::kArgs);
        state_ = State::kV3Name;
        return true;
      case State::kV3Name: {
        size_t q = 0;
        while (q < buf_.size() && is_name_byte(static_cast<unsigned char>(buf_[q])) &&
               q <= kMaxNameBytes)
          ++q;
        if (q == buf_.size() && !at_end) return false;
        name_ = buf_.substr(0, q);
        consume(q);
        return begin_or_break(State::kFence);
      }
      case State::kFence: {
        // Whitespace, ```json, whitespace, then the object (each part optional).
        const size_t brace = buf_.find('{');
        std::string_view pre = std::string_view(buf_).substr(0, brace);
        size_t p = skip_format_space(pre);
        std::string_view fence = pre.substr(p);
        size_t fence_len = 0;
        while (fence_len < fence.size() && !is_format_space(fence[fence_len])) ++fence_len;
        const std::string_view word = fence.substr(0, fence_len);
        const bool word_ok = brace == std::string::npos
                                 ? std::string_view("```json").starts_with(word)
                                 : (word.empty() || word == "```" || word == "```json");
        const bool rest_ok = skip_format_space(fence, fence_len) == fence.size();
        if (!word_ok || !rest_ok) {
          break_call("{}", "```json and the arguments were expected after the name");
          state_ = State::kText;
          return true;
        }
        if (brace == std::string::npos) return false;
        consume(brace);
        args_ = JsonStream();
        state_ = State::kArgs;
        return true;
      }
      case State::kArgs: {
        const CallProgress p = scan_call_args(args_);
        if (p == CallProgress::kNeedInput) return false;
        state_ = p == CallProgress::kComplete ? State::kCallTail : State::kText;
        return true;
      }
      case State::kCallTail: {
        // Whitespace, ``` (V3), whitespace, <｜tool▁call▁end｜>: formatting of the call.
        size_t p = skip_format_space(buf_);
        if (std::string_view(buf_).substr(p).starts_with("```")) p = skip_format_space(buf_, p + 3);
        const std::string_view rest = std::string_view(buf_).substr(p);
        if (rest.starts_with(kCallEnd)) {
          skip(p + kCallEnd.size());
          state_ = State::kList;
          return true;
        }
        const bool maybe = kCallEnd.starts_with(rest) ||
                           (rest.empty() || std::string_view("```").starts_with(rest));
        if (maybe && !at_end) return false;
        if (maybe) {
          skip(buf_.size());
          return false;
        }
        state_ = State::kText;  // no end marker: what follows is text
        return true;
      }
    }
    return false;
  }

  bool begin_or_break(State next) {
    if (!begin_call(name_)) {
      break_call("", "invalid name");
      state_ = State::kText;
      return true;
    }
    args_ = JsonStream();
    state_ = next;
    return true;
  }

  State state_ = State::kText;
  std::string name_;
  JsonStream args_;
};

}  // namespace

std::unique_ptr<ToolParser> make_deepseek_v31_parser(const ParserOptions& options) {
  return std::make_unique<DeepSeekParser>(options);
}

}  // namespace agentserve::tools
