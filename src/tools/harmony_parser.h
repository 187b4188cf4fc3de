// gpt-oss (harmony): the answer is a sequence of messages, each a header and a body.
//
//   <|channel|>analysis<|message|>REASONING<|end|>
//   <|start|>assistant<|channel|>commentary<|message|>PREAMBLE<|end|>
//   <|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{ARGS}<|call|>
//   <|start|>assistant<|channel|>final<|message|>ANSWER<|return|>
//
// The generation prompt ends with <|start|>assistant, so the first header has no role. The
// recipient (to=functions.NAME) may stand before or after the channel; <|constrain|>json (or a
// bare "json") may follow it. Headers never reach the API: analysis bodies are kReasoning,
// final and commentary bodies kText, a body with a recipient a call whose arguments stream
// through JsonStream. <|call|> and <|return|> are stop tokens (the engine usually stops on them
// before the parser sees them) but are accepted in the text too, as is a message whose header
// the model skipped (its text is kText). Without parse_calls, a call message comes back as its
// raw text (kText) while the channels are still split.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/json_stream.h"
#include "tools/tool_parser.h"

namespace agentserve::tools {

class HarmonyParser final : public ToolParser {
 public:
  explicit HarmonyParser(ParserOptions options);

  void push(std::string_view text, std::vector<ToolEvent>* out) override;
  void finish(std::vector<ToolEvent>* out) override;

 private:
  enum class State {
    kHeader,   // between a message's start and <|message|>
    kBody,     // a message's body
    kBetween,  // after <|end|> / <|call|> / <|return|>: <|start|> or <|channel|> next
  };
  enum class Body {
    kText,        // final, commentary without recipient, unknown channel, no header
    kReasoning,   // analysis
    kCall,        // a recipient, calls parsed
    kCallAsText,  // a recipient, calls not parsed: the raw message is text
  };

  bool step(bool at_end);
  bool step_header(bool at_end);
  bool step_body(bool at_end);
  bool step_between(bool at_end);

  // Whether header_ can still be a header (else the model skipped it and it is text).
  bool header_plausible() const;
  // Whether the header being read has a marker or a recipient: only then is it one for sure
  // (the answer's first header has no opener, so a plausible one may still be text).
  bool header_shown() const;
  void start_header(bool after_start_token, std::string_view opener);
  void start_headerless();
  void header_is_text();
  void open_body();
  void body_content(std::string_view text);
  void end_body();
  void maybe_begin_call();
  void begin_call(std::string_view name);
  // complete: the arguments are whole. at_break: the format broke (closing fragment sent).
  void end_call(bool complete, bool at_break);
  void emit(ToolEvent::Kind kind, std::string_view text, int index = -1);
  void emit_text(std::string_view text);

  ParserOptions options_;
  std::vector<ToolEvent>* out_ = nullptr;
  size_t first_new_ = 0;  // events before this index came from earlier calls: never merged into

  State state_ = State::kHeader;
  std::string buf_;  // received, not yet consumed

  // The header being read: its text after the role (markers included), the role's presence,
  // and the message's raw text so far (a call's `raw`, or its text without parse_calls).
  std::string header_;
  bool expect_role_ = false;
  std::string raw_;
  bool saw_message_ = false;  // a message with a header was read: blank text between is format

  Body body_ = Body::kText;
  // A message without a header: its leading whitespace is held while it is all it has, since
  // whitespace alone between messages is formatting.
  bool headerless_ = false;
  bool blank_ = false;
  std::string blank_held_;

  // The current call.
  bool call_begun_ = false;
  int call_index_ = -1;
  int num_calls_ = 0;
  JsonStream json_;
  bool json_done_ = false;     // the arguments completed: only whitespace may follow
  bool args_started_ = false;  // a fragment with more than whitespace was sent
};

}  // namespace agentserve::tools
