#include "tools/harmony_parser.h"

#include <array>

#include "base/log.h"
#include "base/utf8.h"
#include "tools/call_stream_parser.h"
#include "tools/parsers.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

constexpr std::string_view kStart = "<|start|>";
constexpr std::string_view kEnd = "<|end|>";
constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kConstrain = "<|constrain|>";
constexpr std::string_view kCall = "<|call|>";
constexpr std::string_view kReturn = "<|return|>";
constexpr std::array<std::string_view, 7> kMarkers = {kStart,     kEnd,  kMessage, kChannel,
                                                      kConstrain, kCall, kReturn};
// A header is a role, a channel, a recipient and a content type: a few dozen bytes. Past this
// the "header" is text of a message whose header the model left out.
constexpr size_t kMaxHeaderBytes = 512;

struct Found {
  size_t at = std::string::npos;
  std::string_view marker;
};

Found find_marker(std::string_view s) {
  for (size_t i = s.find("<|"); i != std::string_view::npos; i = s.find("<|", i + 1))
    for (std::string_view m : kMarkers)
      if (s.substr(i, m.size()) == m) return {i, m};
  return {};
}

// Bytes at the end of `s` that may be the start of a marker or of a UTF-8 character.
size_t held_tail(std::string_view s) {
  return std::max(
      possible_marker_tail(s, {kStart, kEnd, kMessage, kChannel, kConstrain, kCall, kReturn}),
      utf8_incomplete_tail(s));
}

bool name_char_end(char c) {
  return c == ' ' || c == '<' || c == '\n' || c == '\t';
}

// The word after `key` in a header ("to=" → recipient, "<|channel|>" → channel); *complete
// says whether something followed it (it cannot grow any more).
std::string_view header_word(std::string_view header, std::string_view key, bool* complete) {
  *complete = false;
  size_t at = header.find(key);
  // "to=" must start a word: not the tail of some other token of the header.
  while (at != std::string_view::npos && key == "to=" && at > 0 && !name_char_end(header[at - 1]) &&
         header[at - 1] != '>')
    at = header.find(key, at + 1);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = header.substr(at + key.size());
  size_t n = 0;
  while (n < rest.size() && !name_char_end(rest[n])) ++n;
  *complete = n < rest.size();
  return rest.substr(0, n);
}

// Recipients that address a function; "assistant" and the like address no tool.
bool is_tool_recipient(std::string_view r) {
  return !r.empty() && r != "assistant" && r != "user" && r != "all" && r != "functions." &&
         r != "functions";
}

std::string_view tool_name_of(std::string_view recipient) {
  constexpr std::string_view kNamespace = "functions.";
  if (recipient.substr(0, kNamespace.size()) == kNamespace)
    recipient.remove_prefix(kNamespace.size());
  return recipient;
}

ToolEvent event(ToolEvent::Kind kind, int index, std::string text = {}) {
  ToolEvent e;
  e.kind = kind;
  e.index = index;
  e.text = std::move(text);
  return e;
}

}  // namespace

HarmonyParser::HarmonyParser(ParserOptions options) : options_(std::move(options)) {}

void HarmonyParser::push(std::string_view text, std::vector<ToolEvent>* out) {
  out_ = out;
  first_new_ = out->size();
  buf_.append(text);
  while (step(false)) {
  }
}

void HarmonyParser::finish(std::vector<ToolEvent>* out) {
  out_ = out;
  first_new_ = out->size();
  while (step(true)) {
  }
  if (state_ == State::kHeader && !header_shown()) {
    // The answer never showed a header (no marker, not even "to="): it is text, which may be
    // all whitespace ("to", " "); nothing it holds may be left out.
    const std::string text = std::move(header_);
    start_headerless();
    body_content(text);
  }
  if (state_ == State::kHeader && call_begun_) {
    AS_LOG_WARN("harmony: generation ended in the header of tool call {}", call_index_);
    end_call(false, false);
  } else if (state_ == State::kHeader && !raw_.empty()) {
    // A header carries no content (channel, recipient, format); one cut off by the end of
    // generation is left out, but not silently.
    AS_LOG_WARN("harmony: generation ended inside a message header ({} bytes left out)", raw_.size());
  } else if (state_ == State::kBody && body_ == Body::kCall) {
    if (json_.state() == JsonStream::State::kComplete) {
      end_call(true, false);  // <|call|> is a stop token: the engine ended on it
    } else {
      AS_LOG_WARN("harmony: generation ended inside tool call {}", call_index_);
      end_call(false, false);
    }
  } else if (state_ == State::kBody && headerless_ && !saw_message_) {
    emit(ToolEvent::Kind::kText, blank_held_);  // the whole answer was whitespace
  }
  buf_.clear();
  blank_held_.clear();
  state_ = State::kBetween;
}

bool HarmonyParser::step(bool at_end) {
  switch (state_) {
    case State::kHeader:
      return step_header(at_end);
    case State::kBody:
      return step_body(at_end);
    case State::kBetween:
      return step_between(at_end);
  }
  return false;
}

bool HarmonyParser::header_plausible() const {
  std::string_view h = header_;
  if (expect_role_) {
    constexpr std::string_view kRole = "assistant";
    if (h.size() < kRole.size()) return kRole.substr(0, h.size()) == h;
    if (h.substr(0, kRole.size()) != kRole) return false;
    h.remove_prefix(kRole.size());
  }
  if (h.empty()) return true;
  if (h.substr(0, kChannel.size()) == kChannel || h.substr(0, kConstrain.size()) == kConstrain)
    return true;
  if (h.front() == ' ') h.remove_prefix(1);
  constexpr std::string_view kTo = "to=";
  return h.size() < kTo.size() ? kTo.substr(0, h.size()) == h : h.substr(0, kTo.size()) == kTo;
}

bool HarmonyParser::header_shown() const {
  return find_marker(raw_).at != std::string::npos || raw_.find("to=") != std::string::npos;
}

bool HarmonyParser::step_header(bool at_end) {
  const Found found = find_marker(buf_);
  const size_t upto = found.at != std::string::npos ? found.at
                      : at_end                      ? buf_.size()
                                                    : buf_.size() - held_tail(buf_);
  header_.append(buf_, 0, upto);
  raw_.append(buf_, 0, upto);
  buf_.erase(0, upto);
  if (!header_plausible()) {
    header_is_text();
    return true;
  }
  // Judged on the header's first kMaxHeaderBytes only, before its length, so that the outcome
  // is the same however the text was cut (byte by byte, a call begins before the limit).
  maybe_begin_call();
  if (header_.size() > kMaxHeaderBytes) {
    if (call_begun_) {
      // The call breaks at the byte past the limit: the header before it is the call's raw
      // text, the rest is text (never both: a non-streamed answer returns raw as content).
      const std::string rest = header_.substr(kMaxHeaderBytes);
      raw_.resize(raw_.size() - rest.size());
      end_call(false, true);
      start_headerless();
      body_content(rest);
    } else {
      header_is_text();
    }
    return true;
  }
  if (found.at == std::string::npos) return false;
  buf_.erase(0, found.marker.size());
  if (found.marker == kMessage) {
    raw_.append(kMessage);
    open_body();
  } else if (found.marker == kChannel || found.marker == kConstrain) {
    header_.append(found.marker);
    raw_.append(found.marker);
  } else {
    // A message that ends (or a new one that starts) before its body: nothing to show.
    if (call_begun_) end_call(false, true);
    AS_LOG_DEBUG("harmony: a message header without a body");
    if (found.marker == kStart) {
      start_header(true, kStart);
    } else {
      state_ = State::kBetween;
    }
  }
  return true;
}

bool HarmonyParser::step_body(bool at_end) {
  const Found found = find_marker(buf_);
  const size_t upto = found.at != std::string::npos ? found.at
                      : at_end                      ? buf_.size()
                                                    : buf_.size() - held_tail(buf_);
  const std::string content = buf_.substr(0, upto);
  buf_.erase(0, upto);
  body_content(content);
  if (found.at == std::string::npos) return false;
  buf_.erase(0, found.marker.size());
  if (found.marker == kMessage || found.marker == kConstrain) {
    body_content(found.marker);  // no meaning inside a body
    return true;
  }
  if (body_ == Body::kCallAsText && found.marker != kStart && found.marker != kChannel)
    emit_text(found.marker);
  end_body();
  if (found.marker == kStart) {
    start_header(true, kStart);
  } else if (found.marker == kChannel) {
    start_header(false, kChannel);
  } else {
    state_ = State::kBetween;
  }
  return true;
}

bool HarmonyParser::step_between(bool at_end) {
  for (std::string_view opener : {kStart, kChannel}) {
    if (buf_.substr(0, opener.size()) == opener) {
      buf_.erase(0, opener.size());
      start_header(opener == kStart, opener);
      return true;
    }
    if (!at_end && buf_.size() < opener.size() && opener.substr(0, buf_.size()) == buf_ &&
        !buf_.empty())
      return false;
  }
  if (buf_.empty()) return false;
  start_headerless();
  return true;
}

void HarmonyParser::start_header(bool after_start_token, std::string_view opener) {
  state_ = State::kHeader;
  expect_role_ = after_start_token;
  // After <|start|> the header is the role and what follows; a bare <|channel|> is itself
  // part of the header.
  header_ = after_start_token ? std::string() : std::string(opener);
  raw_ = std::string(opener);
  call_begun_ = false;
}

void HarmonyParser::start_headerless() {
  state_ = State::kBody;
  body_ = Body::kText;
  headerless_ = true;
  blank_ = true;
  blank_held_.clear();
}

void HarmonyParser::header_is_text() {
  AS_LOG_WARN("harmony: a message without a channel header; its text is content");
  std::string_view text = header_;
  if (expect_role_ && text.substr(0, 9) == "assistant") text.remove_prefix(9);
  const std::string owned(text);
  start_headerless();
  body_content(owned);
}

void HarmonyParser::maybe_begin_call() {
  if (!options_.parse_calls || call_begun_) return;
  bool complete = false;
  const std::string_view header = std::string_view(header_).substr(0, kMaxHeaderBytes);
  const std::string_view recipient = header_word(header, "to=", &complete);
  if (!complete || !is_tool_recipient(recipient)) return;
  begin_call(tool_name_of(recipient));
}

void HarmonyParser::begin_call(std::string_view name) {
  bool known = options_.tools.empty();
  for (const ToolSpec& t : options_.tools) known = known || t.name == name;
  if (!known) AS_LOG_WARN("harmony: call to '{}', a tool the request does not declare", name);
  call_begun_ = true;
  args_started_ = false;
  call_index_ = num_calls_++;
  out_->push_back(event(ToolEvent::Kind::kCallBegin, call_index_, std::string(name)));
}

void HarmonyParser::open_body() {
  saw_message_ = true;
  headerless_ = false;
  state_ = State::kBody;
  bool complete = false;
  const std::string recipient(header_word(header_, "to=", &complete));
  const std::string channel(header_word(header_, kChannel, &complete));
  if (is_tool_recipient(recipient)) {
    if (options_.parse_calls) {
      if (!call_begun_) begin_call(tool_name_of(recipient));
      body_ = Body::kCall;
      json_ = JsonStream(JsonStream::Top::kObject);
      json_done_ = false;
    } else {
      body_ = Body::kCallAsText;
      emit_text(raw_);
    }
    return;
  }
  body_ = channel == "analysis" ? Body::kReasoning : Body::kText;
}

void HarmonyParser::body_content(std::string_view text) {
  if (text.empty()) return;
  switch (body_) {
    case Body::kText:
    case Body::kCallAsText:
      emit_text(text);
      return;
    case Body::kReasoning:
      emit(ToolEvent::Kind::kReasoning, text);
      return;
    case Body::kCall:
      break;
  }
  if (!json_done_) {
    std::string fragment;
    const size_t used = json_.feed(text, &fragment);
    raw_.append(text, 0, used);
    if (!is_blank(fragment)) args_started_ = true;
    emit(ToolEvent::Kind::kCallArgs, fragment, call_index_);
    text.remove_prefix(used);
    if (json_.state() == JsonStream::State::kBroken) {
      end_call(false, true);
      start_headerless();
      body_content(text);
      return;
    }
    if (json_.state() == JsonStream::State::kComplete) json_done_ = true;
  }
  if (text.empty()) return;
  // After the arguments only whitespace belongs to the call; anything else is text.
  size_t space = 0;
  while (space < text.size() && is_format_space(text[space])) ++space;
  raw_.append(text, 0, space);
  text.remove_prefix(space);
  if (text.empty()) return;
  end_call(true, false);
  start_headerless();
  body_content(text);
}

void HarmonyParser::end_body() {
  if (body_ == Body::kCall) end_call(json_done_, !json_done_);
  // Whitespace alone between two messages is formatting.
  blank_held_.clear();
  headerless_ = false;
}

void HarmonyParser::end_call(bool complete, bool at_break) {
  ToolEvent end = event(ToolEvent::Kind::kCallEnd, call_index_);
  end.complete = complete;
  if (!complete) {
    if (at_break) {
      AS_LOG_WARN("harmony: tool call {} broke its format; the rest is text", call_index_);
      // Without a body the arguments are still to open; else JsonStream closes what it sent.
      emit(ToolEvent::Kind::kCallArgs, args_started_ ? json_.closing() : "{}", call_index_);
    }
    end.raw = raw_;
  }
  out_->push_back(std::move(end));
  call_begun_ = false;
  body_ = Body::kText;
}

void HarmonyParser::emit_text(std::string_view text) {
  if (text.empty()) return;
  if (headerless_ && blank_) {
    if (is_blank(text)) {
      blank_held_.append(text);
      return;
    }
    blank_ = false;
    std::string all = std::move(blank_held_);
    blank_held_.clear();
    all.append(text);
    emit(ToolEvent::Kind::kText, all);
    return;
  }
  emit(ToolEvent::Kind::kText, text);
}

void HarmonyParser::emit(ToolEvent::Kind kind, std::string_view text, int index) {
  if (text.empty()) return;
  // One event per kind and call within one push: fewer frames, same text.
  if (out_->size() > first_new_ && out_->back().kind == kind && out_->back().index == index) {
    out_->back().text.append(text);
    return;
  }
  out_->push_back(event(kind, index, std::string(text)));
}

std::unique_ptr<ToolParser> make_harmony_parser(const ParserOptions& options) {
  return std::make_unique<HarmonyParser>(options);
}

}  // namespace agentserve::tools
