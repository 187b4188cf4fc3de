// Buffering, text rules and call bookkeeping shared by the JSON-argument parsers; the rules
// are listed in call_stream_parser.h.
#include "tools/call_stream_parser.h"

#include <algorithm>

#include "base/log.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {


}  // namespace

bool is_valid_call_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

size_t possible_marker_tail(std::string_view text,
                            std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view m : markers) {
    for (size_t n = std::min(text.size(), m.size() - 1); n > best; --n) {
      if (text.substr(text.size() - n) == m.substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

CallStreamParser::CallStreamParser(const ParserOptions& options, const char* format)
    : options_(options), format_(format) {}

void CallStreamParser::push(std::string_view text, std::vector<ToolEvent>* out) {
  out_ = out;
  buf_.append(text);
  while (step(false)) {
  }
  out_ = nullptr;
}

void CallStreamParser::finish(std::vector<ToolEvent>* out) {
  out_ = out;
  while (step(true)) {
  }
  if (in_call_) {
    raw_ += buf_;
    buf_.clear();
    if (begun_) {
      AS_LOG_WARN("{} tool call #{} cut off by the end of generation", format_, num_calls_);
      close_call(/*complete=*/false);
    } else {
      AS_LOG_WARN("{} tool call cut off by the end of generation before its name; kept as text",
                  format_);
      call_to_text();
    }
  } else if (!buf_.empty()) {
    text(buf_);
    buf_.clear();
  }
  // Whitespace after the last call is formatting; a turn without calls keeps all of its own.
  if (!ws_held_.empty() && (num_calls_ == 0 || segment_has_text_)) {
    emit(ToolEvent::Kind::kText, std::move(ws_held_));
  }
  ws_held_.clear();
  out_ = nullptr;
}

int CallStreamParser::scan_text(std::initializer_list<std::string_view> markers, bool at_end) {
  size_t best = std::string::npos;
  int which = -1;
  int i = 0;
  for (std::string_view m : markers) {
    const size_t pos = buf_.find(m);
    if (pos < best) best = pos, which = i;
    ++i;
  }
  if (which >= 0) {
    text(std::string_view(buf_).substr(0, best));
    buf_.erase(0, best);
    return which;
  }
  const size_t keep = at_end ? 0 : possible_marker_tail(buf_, markers);
  text(std::string_view(buf_).substr(0, buf_.size() - keep));
  buf_.erase(0, buf_.size() - keep);
  return -1;
}

void CallStreamParser::text(std::string_view s) {
  size_t last = s.size();
  while (last > 0 && is_format_space(s[last - 1])) --last;
  if (last == 0) {
    ws_held_.append(s);
    return;
  }
  std::string t = std::move(ws_held_);
  t.append(s.substr(0, last));
  ws_held_.assign(s.substr(last));
  segment_has_text_ = true;
  emit(ToolEvent::Kind::kText, std::move(t));
}

void CallStreamParser::plain_text(std::string_view s) {
  if (s.empty()) return;
  std::string t = std::move(ws_held_);
  ws_held_.clear();
  t.append(s);
  segment_has_text_ = true;
  emit(ToolEvent::Kind::kText, std::move(t));
}

void CallStreamParser::open_call() {
  in_call_ = true;
  begun_ = false;
  raw_.clear();
  ws_before_call_ = std::move(ws_held_);
  ws_held_.clear();
}

void CallStreamParser::consume(size_t n) {
  raw_.append(buf_, 0, n);
  buf_.erase(0, n);
}

bool CallStreamParser::begin_call(const std::string& name) {
  if (!is_valid_call_name(name)) return false;
  if (!options_.tools.empty() && std::none_of(options_.tools.begin(), options_.tools.end(),
                                              [&](const ToolSpec& t) { return t.name == name; })) {
    AS_LOG_WARN("{} tool call #{} names an unknown tool \"{}\"", format_, num_calls_, name);
  }
  begun_ = true;
  // The whitespace dropped before the call belongs to its raw text: a call that does not
  // complete is returned as text (non-streamed answers), and then nothing may be missing.
  raw_.insert(0, ws_before_call_);
  ws_before_call_.clear();
  emit(ToolEvent::Kind::kCallBegin, name);
  return true;
}

CallStreamParser::CallProgress CallStreamParser::scan_call_object(CallObjectScanner& scanner) {
  if (buf_.empty()) return CallProgress::kNeedInput;
  consume(scanner.feed(buf_));
  if (!begun_ && scanner.has_name() && !begin_call(scanner.name())) {
    break_call("", "invalid name");
    return CallProgress::kBroken;
  }
  if (begun_) call_args(scanner.take_args());
  switch (scanner.status()) {
    case CallObjectScanner::Status::kInProgress:
      // The scanner stops right after the name (judged above), so input may be left.
      return buf_.empty() ? CallProgress::kNeedInput : CallProgress::kMore;
    case CallObjectScanner::Status::kComplete:
      end_call();
      return CallProgress::kComplete;
    case CallObjectScanner::Status::kNotACall:
      return CallProgress::kNotACall;
    case CallObjectScanner::Status::kBroken:
      break;
  }
  break_call(scanner.args_closing(), scanner.error());
  return CallProgress::kBroken;
}

CallStreamParser::CallProgress CallStreamParser::scan_call_args(JsonStream& args) {
  if (buf_.empty()) return CallProgress::kNeedInput;
  std::string fragment;
  consume(args.feed(buf_, &fragment));
  call_args(std::move(fragment));
  switch (args.state()) {
    case JsonStream::State::kInProgress: return CallProgress::kNeedInput;
    case JsonStream::State::kComplete: end_call(); return CallProgress::kComplete;
    case JsonStream::State::kBroken: break;
  }
  break_call(args.closing(), "the arguments are not a JSON object");
  return CallProgress::kBroken;
}

void CallStreamParser::call_args(std::string fragment) {
  if (!fragment.empty()) emit(ToolEvent::Kind::kCallArgs, std::move(fragment));
}

void CallStreamParser::end_call() { close_call(/*complete=*/true); }

void CallStreamParser::close_call(bool complete) {
  ToolEvent e;
  e.kind = ToolEvent::Kind::kCallEnd;
  e.index = num_calls_;
  e.complete = complete;
  if (!complete) e.raw = std::move(raw_);
  out_->push_back(std::move(e));
  raw_.clear();
  ++num_calls_;
  in_call_ = begun_ = false;
  segment_has_text_ = false;
}

void CallStreamParser::break_call(const std::string& closing, std::string_view why) {
  if (!begun_) {
    AS_LOG_WARN("{} tool call malformed before its name ({}); kept as text", format_, why);
    call_to_text();
    return;
  }
  AS_LOG_WARN("{} tool call #{} malformed ({}); ended incomplete", format_, num_calls_, why);
  call_args(closing);
  close_call(/*complete=*/false);
}

void CallStreamParser::call_to_text() {
  in_call_ = begun_ = false;
  // ws_held_ is empty here: open_call() moved it into ws_before_call_.
  std::string held = std::move(ws_before_call_);
  ws_before_call_.clear();
  held += raw_;
  raw_.clear();
  text(held);
}

void CallStreamParser::emit(ToolEvent::Kind kind, std::string text) {
  ToolEvent e;
  e.kind = kind;
  e.index = kind == ToolEvent::Kind::kText || kind == ToolEvent::Kind::kReasoning ? -1 : num_calls_;
  e.text = std::move(text);
  out_->push_back(std::move(e));
}

}  // namespace agentserve::tools
