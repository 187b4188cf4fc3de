// serve --test-script FILE: scripted model output, for end-to-end tests only. A random-weight
// test model cannot be made to write a given tool call; with a script, a request whose rendered
// prompt contains a rule's substrings gets that rule's text as its output (forced tokens
// behind the sampler, engine/request.h), so the whole text pipeline after the engine
// (detokenizer, stop strings, reasoning split, tool-call parsing, API encoders) runs on real
// model-shaped token ids.
//
// File format (JSON):
//   {"rules": [{"when": ["substring", ...], "output": "text", "end": true}, ...]}
// or, in place of "end", "fail": "message": after the output the request fails as if the
// backend had failed (the APIs' mid-stream and non-streamed error answers).
// The first rule (in file order) all of whose `when` strings occur in the prompt text (the
// prompt ids decoded, special tokens as their text) applies; an empty `when` matches every
// prompt. `output` is encoded with special tokens recognised ("<tool_call>" becomes its
// token); with `end` (default true) the model's first stop token follows, so the turn ends.
// No rule matches: the model samples as usual.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "engine/request.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::server {

class TestScript {
 public:
  // Reads and checks the file; errors name it and say what is wrong where. `stop_token_ids`:
  // the model's, the first of which ends an `end` rule's output.
  static Result<std::unique_ptr<TestScript>> load(const std::string& path,
                                                  const Tokenizer& tokenizer,
                                                  std::span<const int32_t> stop_token_ids);
  // The same from the file's text; `name` stands for the file in error messages.
  static Result<std::unique_ptr<TestScript>> parse(std::string_view text, const std::string& name,
                                                   const Tokenizer& tokenizer,
                                                   std::span<const int32_t> stop_token_ids);

  // The index of the first rule that matches a prompt's text; -1 when none does.
  int match(std::string_view prompt_text) const;
  // Sets the request's forced output (and failure) from the rule its prompt matches, logging
  // the rule (the prompt is decoded here, which costs a pass over it: test use only); leaves
  // the request as it is when no rule matches.
  void apply(GenerationRequest* request) const;

  size_t num_rules() const { return rules_.size(); }

 private:
  struct Rule {
    std::vector<std::string> when;
    std::shared_ptr<const std::vector<int32_t>> tokens;  // output, then the stop token if `end`
    std::string failure;                                 // "fail": the request fails after it
  };
  explicit TestScript(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  const Tokenizer& tokenizer_;
  std::vector<Rule> rules_;
};

}  // namespace agentserve::server
