// Splits a thinking model's output into reasoning and answer: "<think>…</think>" at the start of
// the output (or the whole start, when the prompt already opened <think>) is reasoning, the rest
// is the answer. Newlines framing the reasoning and those before the answer are dropped, as the
// chat templates themselves strip them when the turn is rendered back. Tags split across tokens
// are held back until they resolve.
#pragma once

#include <string>
#include <string_view>

namespace agentserve::server {

class ReasoningSplitter {
 public:
  ReasoningSplitter(bool enabled, bool starts_in_reasoning, std::string open = "<think>",
                    std::string close = "</think>");

  // Appends text; *reasoning and *answer receive what can be released now.
  void push(std::string_view text, std::string* reasoning, std::string* answer);
  // Releases whatever is held at the end of generation.
  void flush(std::string* reasoning, std::string* answer);
  bool in_reasoning() const { return state_ == State::kReasoning; }

 private:
  enum class State { kStart, kReasoning, kAfterReasoning, kAnswer };
  void step(std::string* reasoning, std::string* answer, bool final);

  bool enabled_;
  std::string open_, close_;
  State state_;
  std::string buf_;
  bool reasoning_started_ = false;  // a first non-newline reasoning byte was released
  std::string held_newlines_;       // newlines inside reasoning, released only if more follows
};

}  // namespace agentserve::server
