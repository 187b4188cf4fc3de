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
// and other values are converted when their parameter ends.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/param_value.h"
#include "tools/tool_parser.h"

namespace agentserve::tools {

class Qwen3CoderParser final : public ToolParser {
 public:
  explicit Qwen3CoderParser(ParserOptions options);

  void push(std::string_view text, std::vector<ToolEvent>* out) override;
  void finish(std::vector<ToolEvent>* out) override;

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

  // One step of the state machine over buf_; false when it needs more input. At the end of
  // generation (at_end) nothing that could still be a marker is held back.
  bool step(bool at_end);
  bool step_text(bool at_end);
  bool step_wrapper(bool at_end);
  bool step_function_name(bool at_end);
  bool step_body();
  bool step_param_name();
  bool step_value();
  bool step_after_call();

  void consume(size_t n);
  void start_call();
  void begin_call(std::string name);
  void break_before_begin();
  void break_after_begin();
  void end_value(std::string_view tail);
  void text_out(std::string_view text);
  void start_text_segment(std::string held_space);
  void emit(ToolEvent::Kind kind, std::string_view text);
  void emit_args(std::string_view text) { emit(ToolEvent::Kind::kCallArgs, text); }

  ParserOptions options_;
  std::vector<ToolEvent>* out_ = nullptr;
  size_t first_new_ = 0;  // events before this index came from earlier calls: never merged into

  State state_ = State::kText;
  std::string buf_;  // received, not yet consumed

  // Text segments: whitespace alone next to a call is formatting, so a segment's leading
  // whitespace waits until something else arrives (then it is text) or a call starts (dropped).
  bool segment_blank_ = true;
  std::string blank_held_;
  int num_calls_ = 0;

  // The call being parsed.
  bool in_call_ = false;
  bool began_ = false;           // kCallBegin was emitted
  std::string call_raw_;         // its text consumed so far, markers included
  std::string space_before_;     // the blank segment before it (text again if it breaks early)
  const ToolSpec* tool_ = nullptr;
  bool args_open_ = false;       // "{" was emitted
  ParamType param_;
  bool value_started_ = false;   // the value's leading newline was looked at
  bool value_fresh_ = false;     // nothing of the value consumed yet (it starts a line)
  std::string value_raw_;        // a non-string value, collected until it ends
  std::string after_space_;      // whitespace after </function>
};

}  // namespace agentserve::tools
