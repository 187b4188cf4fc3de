#include "tools/qwen3_coder_parser.h"

#include <algorithm>

#include "base/log.h"
#include "base/utf8.h"
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
// Names are one short line; anything longer is not a name but text that happens to follow
// "<function=" or "<parameter=", and waiting for its '>' would hold the whole stream.
constexpr size_t kMaxNameBytes = 256;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
// `s` could still grow into `marker` (it is a proper prefix of it).
bool could_become(std::string_view s, std::string_view marker) {
  return s.size() < marker.size() && starts_with(marker, s);
}
size_t leading_space(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_format_space(s[n])) ++n;
  return n;
}

// The name in front of '>' at the start of `s`: "" while it may still be coming (*more set),
// or when it is not a name (*more clear).
std::string_view name_before_gt(std::string_view s, bool* more) {
  const size_t gt = s.find('>');
  const std::string_view part = s.substr(0, gt);
  *more = false;
  if (part.size() > kMaxNameBytes || part.find_first_of("\n<") != std::string_view::npos)
    return {};
  if (gt == std::string_view::npos) {
    *more = true;
    return {};
  }
  return trim_space(part);
}

ToolEvent event(ToolEvent::Kind kind, int index, std::string text = {}) {
  ToolEvent e;
  e.kind = kind;
  e.index = index;
  e.text = std::move(text);
  return e;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  append_json_string_body(&out, text);
  out += '"';
  return out;
}

}  // namespace

Qwen3CoderParser::Qwen3CoderParser(ParserOptions options) : options_(std::move(options)) {}

void Qwen3CoderParser::push(std::string_view text, std::vector<ToolEvent>* out) {
  out_ = out;
  first_new_ = out->size();
  if (!options_.parse_calls) {
    emit(ToolEvent::Kind::kText, text);
    return;
  }
  buf_.append(text);
  while (step(false)) {
  }
}

void Qwen3CoderParser::finish(std::vector<ToolEvent>* out) {
  out_ = out;
  first_new_ = out->size();
  if (!options_.parse_calls) return;
  while (step(true)) {
  }
  switch (state_) {
    case State::kText:
      // Whitespace after the last call is formatting; with no call at all it is the answer.
      if (num_calls_ == 0) emit(ToolEvent::Kind::kText, blank_held_);
      break;
    case State::kAfterCall:
      // A cut-off </tool_call> or <function= is text: nothing generated is lost.
      if (!buf_.empty()) emit(ToolEvent::Kind::kText, after_space_ + buf_);
      break;
    case State::kWrapper:
    case State::kFunctionName:
      break;  // step(at_end) turned these into text
    case State::kBody:
    case State::kParamName:
    case State::kValue: {
      AS_LOG_WARN("qwen3_coder: generation ended inside tool call {}", num_calls_ - 1);
      ToolEvent end = event(ToolEvent::Kind::kCallEnd, num_calls_ - 1);
      end.complete = false;
      end.raw = call_raw_ + buf_;
      out_->push_back(std::move(end));
      break;
    }
  }
  buf_.clear();
  blank_held_.clear();
  state_ = State::kText;
}

bool Qwen3CoderParser::step(bool at_end) {
  switch (state_) {
    case State::kText: return step_text(at_end);
    case State::kWrapper: return step_wrapper(at_end);
    case State::kFunctionName: return step_function_name(at_end);
    case State::kBody: return step_body();
    case State::kParamName: return step_param_name();
    case State::kValue: return step_value();
    case State::kAfterCall: return step_after_call();
  }
  return false;
}

bool Qwen3CoderParser::step_text(bool at_end) {
  const size_t wrapped = buf_.find(kToolCall);
  const size_t bare = buf_.find(kFunction);
  const size_t at = std::min(wrapped, bare);
  if (at != std::string::npos) {
    text_out(std::string_view(buf_).substr(0, at));
    buf_.erase(0, at);
    start_call();
    if (at == wrapped) {
      consume(kToolCall.size());
      state_ = State::kWrapper;
    } else {
      consume(kFunction.size());
      state_ = State::kFunctionName;
    }
    return true;
  }
  size_t keep = 0;
  if (!at_end) {
    keep = std::max(marker_prefix_tail(buf_, {kToolCall, kFunction}),
                    utf8_incomplete_tail(buf_));
  }
  text_out(std::string_view(buf_).substr(0, buf_.size() - keep));
  buf_.erase(0, buf_.size() - keep);
  return false;
}

bool Qwen3CoderParser::step_wrapper(bool at_end) {
  consume(leading_space(buf_));
  if (starts_with(buf_, kFunction)) {
    consume(kFunction.size());
    state_ = State::kFunctionName;
    return true;
  }
  if (!at_end && could_become(buf_, kFunction)) return false;
  break_before_begin();
  return true;
}

bool Qwen3CoderParser::step_function_name(bool at_end) {
  bool more = false;
  const std::string_view name = name_before_gt(buf_, &more);
  if (more && !at_end) return false;
  if (name.empty()) {
    break_before_begin();
    return true;
  }
  const std::string owned(name);
  consume(buf_.find('>') + 1);
  begin_call(owned);
  state_ = State::kBody;
  return true;
}

bool Qwen3CoderParser::step_body() {
  consume(leading_space(buf_));
  if (starts_with(buf_, kParameter)) {
    state_ = State::kParamName;
    return true;
  }
  if (starts_with(buf_, kFunctionEnd)) {
    consume(kFunctionEnd.size());
    emit_args(args_open_ ? "}" : "{}");
    out_->push_back(event(ToolEvent::Kind::kCallEnd, num_calls_ - 1));
    in_call_ = false;
    call_raw_.clear();
    after_space_.clear();
    state_ = State::kAfterCall;
    return true;
  }
  if (buf_.empty() || could_become(buf_, kParameter) || could_become(buf_, kFunctionEnd))
    return false;
  break_after_begin();
  return true;
}

bool Qwen3CoderParser::step_param_name() {
  bool more = false;
  const std::string_view name =
      name_before_gt(std::string_view(buf_).substr(kParameter.size()), &more);
  if (more) return false;
  if (name.empty()) {
    break_after_begin();
    return true;
  }
  std::string args = args_open_ ? ", " : "{";
  args += json_string(name);
  args += ": ";
  param_ = param_type(tool_, name);
  if (param_.raw_string) args += '"';
  args_open_ = true;
  emit_args(args);
  consume(buf_.find('>') + 1);
  value_started_ = false;
  value_fresh_ = true;
  value_raw_.clear();
  state_ = State::kValue;
  return true;
}

bool Qwen3CoderParser::step_value() {
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
    const bool closes = starts_with(rest, kParameterEnd);
    if (!closes && !(line_start && (starts_with(rest, kParameter) ||
                                    starts_with(rest, kFunctionEnd))))
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
  // incomplete UTF-8 character; the rest of the value is final.
  size_t keep = std::max(marker_prefix_tail(buf_, {"\n</parameter>", kParameterEnd,
                                                   "\n<parameter=", "\n</function>"}),
                         utf8_incomplete_tail(buf_));
  if (value_fresh_ && (could_become(buf_, kParameter) || could_become(buf_, kFunctionEnd)))
    keep = buf_.size();
  const std::string_view done = std::string_view(buf_).substr(0, buf_.size() - keep);
  if (done.empty()) return false;
  if (param_.raw_string) {
    std::string fragment;
    append_json_string_body(&fragment, done);
    emit_args(fragment);
  } else {
    value_raw_.append(done);
  }
  consume(done.size());
  value_fresh_ = false;
  return false;
}

bool Qwen3CoderParser::step_after_call() {
  const size_t space = leading_space(buf_);
  after_space_.append(buf_, 0, space);
  buf_.erase(0, space);
  if (starts_with(buf_, kToolCallEnd)) {
    buf_.erase(0, kToolCallEnd.size());
    start_text_segment("");
    return true;
  }
  if (starts_with(buf_, kFunction)) {
    // Another call in the same wrapper: the whitespace between the two is formatting.
    start_text_segment("");
    start_call();
    consume(kFunction.size());
    state_ = State::kFunctionName;
    return true;
  }
  if (buf_.empty() || could_become(buf_, kToolCallEnd) || could_become(buf_, kFunction))
    return false;
  // No </tool_call>: what follows the call is text (its leading whitespace included).
  start_text_segment(std::move(after_space_));
  after_space_.clear();
  return true;
}

void Qwen3CoderParser::consume(size_t n) {
  if (in_call_) call_raw_.append(buf_, 0, n);
  buf_.erase(0, n);
}

void Qwen3CoderParser::start_call() {
  in_call_ = true;
  began_ = false;
  call_raw_.clear();
  space_before_ = segment_blank_ ? std::move(blank_held_) : std::string();
  blank_held_.clear();
}

void Qwen3CoderParser::begin_call(std::string name) {
  began_ = true;
  space_before_.clear();
  tool_ = nullptr;
  for (const ToolSpec& t : options_.tools)
    if (t.name == name) tool_ = &t;
  if (tool_ == nullptr && !options_.tools.empty())
    AS_LOG_WARN("qwen3_coder: call to '{}', a tool the request does not declare", name);
  args_open_ = false;
  out_->push_back(event(ToolEvent::Kind::kCallBegin, num_calls_, std::move(name)));
  ++num_calls_;
}

void Qwen3CoderParser::break_before_begin() {
  AS_LOG_WARN("qwen3_coder: a tool call broke off before its name; kept as text");
  in_call_ = false;
  state_ = State::kText;
  // The segment the call interrupted goes on, its held whitespace back in place.
  blank_held_ = std::move(space_before_);
  space_before_.clear();
  text_out(call_raw_);
  call_raw_.clear();
}

void Qwen3CoderParser::break_after_begin() {
  AS_LOG_WARN("qwen3_coder: tool call {} broke its format; the rest is text", num_calls_ - 1);
  emit_args(args_open_ ? "}" : "{}");
  ToolEvent end = event(ToolEvent::Kind::kCallEnd, num_calls_ - 1);
  end.complete = false;
  end.raw = std::move(call_raw_);
  out_->push_back(std::move(end));
  in_call_ = false;
  call_raw_.clear();
  start_text_segment("");
}

void Qwen3CoderParser::end_value(std::string_view tail) {
  if (param_.raw_string) {
    std::string fragment;
    append_json_string_body(&fragment, tail);
    fragment += '"';
    emit_args(fragment);
    return;
  }
  value_raw_.append(tail);
  if (auto json = typed_value_json(value_raw_, param_)) {
    emit_args(*json);
    return;
  }
  AS_LOG_WARN("qwen3_coder: a value of call {} is not of its schema's type; passed as a string",
              num_calls_ - 1);
  emit_args(json_string(value_raw_));
}

void Qwen3CoderParser::text_out(std::string_view text) {
  if (text.empty()) return;
  if (segment_blank_) {
    if (is_blank(text)) {
      blank_held_.append(text);
      return;
    }
    segment_blank_ = false;
    std::string all = std::move(blank_held_);
    blank_held_.clear();
    all.append(text);
    emit(ToolEvent::Kind::kText, all);
    return;
  }
  emit(ToolEvent::Kind::kText, text);
}

void Qwen3CoderParser::start_text_segment(std::string held_space) {
  state_ = State::kText;
  segment_blank_ = true;
  blank_held_ = std::move(held_space);
}

void Qwen3CoderParser::emit(ToolEvent::Kind kind, std::string_view text) {
  if (text.empty()) return;
  const int index = kind == ToolEvent::Kind::kCallArgs ? num_calls_ - 1 : -1;
  // One event per kind and call within one push: fewer frames, same text.
  if (out_->size() > first_new_ && out_->back().kind == kind && out_->back().index == index) {
    out_->back().text.append(text);
    return;
  }
  out_->push_back(event(kind, index, std::string(text)));
}

std::unique_ptr<ToolParser> make_qwen3_coder_parser(const ParserOptions& options) {
  return std::make_unique<Qwen3CoderParser>(options);
}

}  // namespace agentserve::tools
