// The shared half of the JSON-argument parsers (Hermes, Llama 3, Mistral, DeepSeek): a buffer
// of text not yet decided, marker scanning that holds back only a possible marker start, the
// whitespace rules, and the life of a call (begin, arguments, end, break) with its raw text.
//
// Behaviour rules, the same for every format these parsers handle:
// - kCallBegin is emitted as soon as the call's name is complete, and arguments stream as
//   kCallArgs while they are generated (normalized by JsonStream: raw control characters in
//   strings escaped, all else as generated). Held back only where the format forces it:
//   arguments written before the name, and arguments written as a JSON string holding JSON
//   (emitted decoded, at once, when the string closes).
// - Text is delayed only while its end could still be the start of a marker, plus trailing
//   whitespace (held until it is known whether a call follows). Markers may be cut anywhere.
// - Whitespace before a call marker is formatting and is dropped (the template writes it);
//   so is a whitespace-only stretch between calls or after the last call. Text after a call
//   that has other characters keeps all of them, leading whitespace included. A turn without
//   calls keeps all its whitespace.
// - A would-be call that breaks before its kCallBegin (not JSON, no name, a bad name) comes
//   back whole as kText, markers included, with a warning in the log. A call that breaks after
//   kCallBegin gets a last kCallArgs with the closing that makes its arguments parse, then
//   kCallEnd{complete=false, raw = its text up to the break}, a warning; the rest is text and
//   parsing resumes at the next marker.
// - Generation ending inside a call: kCallEnd{complete=false, raw}, no closing fragment (the
//   API then has the raw text to return).
// - A name not among ParserOptions::tools is still a call (the client decides) but is logged;
//   with no tools listed every name is accepted.
// - A name must be non-empty, at most kMaxNameBytes long, without whitespace or control
//   characters.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tools/call_object_scanner.h"
#include "tools/json_stream.h"
#include "tools/tool_parser.h"

namespace agentserve::tools {

inline constexpr size_t kMaxNameBytes = 256;
bool is_valid_call_name(std::string_view name);

class CallStreamParser : public ToolParser {
 public:
  CallStreamParser(const ParserOptions& options, const char* format);

  void push(std::string_view text, std::vector<ToolEvent>* out) final;
  void finish(std::vector<ToolEvent>* out) final;

 protected:
  // One step over buf_: consumes something and returns true, or returns false when it needs
  // more input. With at_end no more input will come: a marker can no longer complete.
  virtual bool step(bool at_end) = 0;

  // Text mode: emits the text of buf_ before the first of `markers` and returns the index of
  // that marker, now at the start of buf_ (not consumed); -1 when none is there yet (then all
  // but a possible marker start was emitted).
  int scan_text(std::initializer_list<std::string_view> markers, bool at_end);
  // Content, under the whitespace rules.
  void text(std::string_view s);
  // Content that no marker can follow any more (Llama 3 after plain text): no hold-back.
  void plain_text(std::string_view s);

  // Starts a call at the start of buf_ (its first marker is the call's first raw text). The
  // whitespace held before it is dropped.
  void open_call();
  // Moves the first n bytes of buf_ into the open call's raw text.
  void consume(size_t n);
  // Drops the first n bytes of buf_ (separators between calls, markers outside calls).
  void skip(size_t n) { buf_.erase(0, n); }
  // The name is complete: emits kCallBegin. False (and nothing emitted) for an invalid name.
  bool begin_call(const std::string& name);
  void call_args(std::string fragment);
  // The call finished well. Separators after it are the format's to skip.
  void end_call();
  // The call broke at the start of buf_ (that byte not consumed): see the rules above.
  // `closing` completes the arguments emitted so far (unused before kCallBegin).
  void break_call(const std::string& closing, std::string_view why);
  // The open call was never one (Llama 3's plain JSON answer, ipython code): its held text
  // goes back to the content, no warning. Only before kCallBegin.
  void abandon_call() { call_to_text(); }
  // One step of an open call whose JSON is being read, for the formats' step():
  enum class CallProgress {
    kNeedInput,  // all of buf_ was taken; more input is needed
    kMore,       // something was taken and input is left: step again
    kComplete,   // the call ended well (end_call done)
    kBroken,     // the call broke (break_call done; an invalid name breaks it too)
    kNotACall,   // the envelope says this is no call (name_first scanners): the caller decides
  };
  // The call's {"name": ..., "arguments": ...} envelope (Hermes, Llama 3, Mistral's list):
  // begins the call once the name is complete, streams the arguments as they come.
  CallProgress scan_call_object(CallObjectScanner& scanner);
  // Bare arguments after a name already announced (Mistral's [ARGS], DeepSeek's separator).
  CallProgress scan_call_args(JsonStream& args);

  // Separators between calls (Llama 3's ';'): held like trailing whitespace, so they vanish
  // when a call follows and come back when text does.
  void hold(std::string_view s) { ws_held_.append(s); }
  bool in_call() const { return in_call_; }
  bool call_begun() const { return begun_; }
  // The call's raw text so far (markers included).
  const std::string& call_raw() const { return raw_; }

  std::string buf_;

 private:
  void emit(ToolEvent::Kind kind, std::string text);
  // kCallEnd for the open call (with its raw text when incomplete); the next call's number.
  void close_call(bool complete);
  // The held text of a call that never began goes back to the content.
  void call_to_text();

  ParserOptions options_;
  const char* format_;
  std::vector<ToolEvent>* out_ = nullptr;
  int num_calls_ = 0;  // calls begun in this turn
  bool in_call_ = false;
  bool begun_ = false;
  std::string raw_;
  std::string ws_held_;            // trailing whitespace of the text, not emitted yet
  std::string ws_before_call_;     // the whitespace dropped for the open call, if it never begins
  bool segment_has_text_ = false;  // the text since the last call has non-whitespace
};

// Longest suffix of `text` that is a proper prefix of one of `markers`.
size_t possible_marker_tail(std::string_view text, std::initializer_list<std::string_view> markers);

}  // namespace agentserve::tools
