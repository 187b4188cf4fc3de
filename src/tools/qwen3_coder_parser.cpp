// Qwen3-Coder's tool calls: XML-like tags with bare-text values.
//
//   <tool_call>
//   <function=NAME>
//   <parameter=P>
//   VALUE (any text, many lines; the template adds one newline on each side)
//   </parameter>
//   </function>
//   </tool_call>
//
// Tolerated, as the model does write them: no <tool_call> wrapper (a call opens with
// <function=), a missing </parameter> (the value ends where a line starts with <parameter= or
// </function>), a missing </tool_call>, several <function> blocks in one wrapper.
//
// Values are typed by the tool's schema (param_value.h): string parameters stream as JSON
// string fragments while they are generated — a file body reaches the client as it is written —
// and other values are converted when their parameter ends. Bytes that are not UTF-8 become
// U+FFFD, so that the arguments always parse. The arguments object is built in
// generation order: "{" with the first parameter, `"P": ` once its name is complete, "}" at
// </function>. Text, whitespace and break rules are CallStreamParser's.
#include <algorithm>

#include "base/log.h"
#include "base/utf8.h"
#include "tools/call_stream_parser.h"
#include "tools/param_value.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kToolCall = "<tool_call>";
constexpr std::string_view kToolCallEnd = "</tool_call>";
constexpr std::string_view kFunction = "<function=";
constexpr std::string_view kFunctionEnd = "</function>";
constexpr std::string_view kParameter = "<parameter=";
constexpr std::string_view kParameterEnd = "</parameter>";

// `s` could still grow into `marker` (it is a proper prefix of it).
bool could_become(std::string_view s, std::string_view marker) {
  return s.size() < marker.size() && marker.starts_with(s);
}
size_t leading_space(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_format_space(s[n])) ++n;
  return n;
}

// The name in front of '>' at the start of `s`, trimmed; *more when the '>' may still come.
// Empty when it is not a name: one short line without '<' (waiting for the '>' of a longer one
// would hold the whole stream).
std::string_view name_before_gt(std::string_view s, bool* more) {
  const size_t gt = s.find('>');
  const std::string_view part = s.substr(0, gt);
  *more = false;
  if (part.size() > kMaxNameBytes || part.find_first_of("\n<") != std::string_view::npos) return {};
  if (gt == std::string_view::npos) {
    *more = true;
    return {};
  }
  return trim_space(part);
}

// Raw text into a JSON string. Bytes that are not UTF-8 (a cut or corrupted character) become
// U+FFFD: JSON text must be UTF-8, and the arguments must parse. Streamed pieces never end
// inside a character (step_value holds an incomplete one), so a piece's replacement is the one
// the whole value would get.
void append_json_text(std::string* out, std::string_view text) {
  if (utf8_is_valid(text)) {
    append_json_string_body(out, text);
  } else {
    append_json_string_body(out, utf8_sanitize(text));
  }
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  append_json_text(&out, text);
  out += '"';
  return out;
}

class Qwen3CoderParser final : public CallStreamParser {
 public:
  explicit Qwen3CoderParser(const ParserOptions& options)
      : CallStreamParser(options, "qwen3_coder"), tools_(options.tools) {}

 private:
  enum class State {
    kText,          // between calls
    kWrapper,       // after <tool_call>: <function= must follow
    kFunctionName,  // after <function=: the name up to '>'
    kBody,          // inside <function>: <parameter= or </function> next
    kParamName,     // buf_ starts with <parameter=: its name up to '>'
    kValue,         // a parameter's value
    kAfterCall,     // after </function>: </tool_call>, another <function= or text
  };

  bool step(bool at_end) override {
    switch (state_) {
      case State::kText:
        return step_text(at_end);
      case State::kWrapper:
        return step_wrapper(at_end);
      case State::kFunctionName:
        return step_function_name(at_end);
      case State::kBody:
        return step_body();
      case State::kParamName:
        return step_param_name();
      case State::kValue:
        return step_value();
      case State::kAfterCall:
        return step_after_call(at_end);
    }
    return false;
  }

  bool step_text(bool at_end) {
    const int which = scan_text({kToolCall, kFunction}, at_end);
    if (which < 0) return false;
    open_call();
    consume(which == 0 ? kToolCall.size() : kFunction.size());
    state_ = which == 0 ? State::kWrapper : State::kFunctionName;
    return true;
  }

  bool step_wrapper(bool at_end) {
    consume(leading_space(buf_));
    if (buf_.starts_with(kFunction)) {
      consume(kFunction.size());
      state_ = State::kFunctionName;
      return true;
    }
    if (!at_end && could_become(buf_, kFunction)) return false;
    break_call("", "<function= was expected after <tool_call>");
    state_ = State::kText;
    return true;
  }

  bool step_function_name(bool at_end) {
    bool more = false;
    const std::string name(name_before_gt(buf_, &more));
    if (more && !at_end) return false;
    if (name.empty() || !is_valid_call_name(name)) {
      break_call("", "no function name");
      state_ = State::kText;
      return true;
    }
    consume(buf_.find('>') + 1);
    begin_call(name);
    tool_ = nullptr;
    for (const ToolSpec& t : tools_)
      if (t.name == name) tool_ = &t;
    args_open_ = false;
    state_ = State::kBody;
    return true;
  }

  bool step_body() {
    consume(leading_space(buf_));
    if (buf_.starts_with(kParameter)) {
      state_ = State::kParamName;
      return true;
    }
    if (buf_.starts_with(kFunctionEnd)) {
      consume(kFunctionEnd.size());
      call_args(args_open_ ? "}" : "{}");
      end_call();
      after_space_.clear();
      state_ = State::kAfterCall;
      return true;
    }
    if (buf_.empty() || could_become(buf_, kParameter) || could_become(buf_, kFunctionEnd))
      return false;
    break_call(args_open_ ? "}" : "{}", "<parameter= or </function> was expected");
    state_ = State::kText;
    return true;
  }

  bool step_param_name() {
    bool more = false;
    const std::string name(name_before_gt(std::string_view(buf_).substr(kParameter.size()), &more));
    if (more) return false;
    if (name.empty()) {
      break_call(args_open_ ? "}" : "{}", "a parameter without a name");
      state_ = State::kText;
      return true;
    }
    std::string args = args_open_ ? ", " : "{";
    args += json_string(name);
    args += ": ";
    param_ = param_type(tool_, name);
    if (param_.raw_string) args += '"';
    args_open_ = true;
    call_args(std::move(args));
    consume(buf_.find('>') + 1);
    value_started_ = false;
    value_fresh_ = true;
    value_raw_.clear();
    state_ = State::kValue;
    return true;
  }

  bool step_value() {
    if (!value_started_) {
      if (buf_.empty()) return false;
      // The template writes a newline after <parameter=P>; it is not part of the value.
      if (buf_[0] == '\n') consume(1);
      value_started_ = true;
    }
    // </parameter> ends the value anywhere; <parameter= and </function> (a forgotten
    // </parameter>) only at the start of a line, so that code mentioning them stays inside.
    for (size_t i = buf_.find('<'); i != std::string::npos; i = buf_.find('<', i + 1)) {
      const std::string_view rest = std::string_view(buf_).substr(i);
      const bool line_start = i == 0 ? value_fresh_ : buf_[i - 1] == '\n';
      const bool closes = rest.starts_with(kParameterEnd);
      if (!closes &&
          !(line_start && (rest.starts_with(kParameter) || rest.starts_with(kFunctionEnd))))
        continue;
      std::string_view value = std::string_view(buf_).substr(0, i);
      // ... and a newline before the closing tag.
      if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
      end_value(value);
      consume(i);
      if (closes) consume(kParameterEnd.size());
      state_ = State::kBody;
      return true;
    }
    // Hold back what may be the start of a terminator (with the newline before it) and an
    // incomplete UTF-8 character; the rest of the value is final. The newline is always held
    // (it may precede </parameter>), so what was sent never ends with one.
    size_t keep = std::max(possible_marker_tail(buf_, {"\n</parameter>", kParameterEnd,
                                                       "\n<parameter=", "\n</function>"}),
                           utf8_incomplete_tail(buf_));
    if (value_fresh_ && (could_become(buf_, kParameter) || could_become(buf_, kFunctionEnd)))
      keep = buf_.size();
    const std::string_view done = std::string_view(buf_).substr(0, buf_.size() - keep);
    if (done.empty()) return false;
    if (param_.raw_string) {
      std::string fragment;
      append_json_text(&fragment, done);
      call_args(std::move(fragment));
    } else {
      value_raw_.append(done);
    }
    consume(done.size());
    value_fresh_ = false;
    return false;
  }

  bool step_after_call(bool at_end) {
    // Whitespace inside the wrapper or between calls is formatting; before text it is text.
    const size_t space = leading_space(buf_);
    after_space_.append(buf_, 0, space);
    skip(space);
    if (buf_.starts_with(kToolCallEnd)) {
      skip(kToolCallEnd.size());
      after_space_.clear();
      state_ = State::kText;
      return true;
    }
    if (buf_.starts_with(kFunction)) {
      // Another call in the same wrapper.
      after_space_.clear();
      open_call();
      consume(kFunction.size());
      state_ = State::kFunctionName;
      return true;
    }
    if (buf_.empty()) return false;
    if (!at_end && (could_become(buf_, kToolCallEnd) || could_become(buf_, kFunction)))
      return false;
    // No </tool_call>: what follows the call (a cut-off closing tag included) is text.
    text(after_space_);
    after_space_.clear();
    state_ = State::kText;
    return true;
  }

  void end_value(std::string_view tail) {
    if (param_.raw_string) {
      std::string fragment;
      append_json_text(&fragment, tail);
      fragment += '"';
      call_args(std::move(fragment));
      return;
    }
    value_raw_.append(tail);
    if (auto json = typed_value_json(value_raw_, param_)) {
      call_args(std::move(*json));
      return;
    }
    AS_LOG_WARN("qwen3_coder: a value is not of its schema's type; passed as a string");
    call_args(json_string(value_raw_));
  }

  std::vector<ToolSpec> tools_;  // the base keeps its own copy private
  State state_ = State::kText;
  const ToolSpec* tool_ = nullptr;  // the called tool's spec (nullptr: not declared)
  bool args_open_ = false;          // "{" was sent
  ParamType param_;
  bool value_started_ = false;  // the value's leading newline was looked at
  bool value_fresh_ = false;    // nothing of the value consumed yet (it starts a line)
  std::string value_raw_;       // a non-string value, collected until it ends
  std::string after_space_;     // whitespace after </function>
};

}  // namespace

std::unique_ptr<ToolParser> make_qwen3_coder_parser(const ParserOptions& options) {
  return std::make_unique<Qwen3CoderParser>(options);
}

}  // namespace agentserve::tools
