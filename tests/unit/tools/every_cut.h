// Checks shared by the Qwen3-Coder and harmony parser tests: one generation fed in every way the
// server can cut it (token by token through the real tokenizer's streaming detokenizer, whole,
// and seeded random byte chunks) must give the same normalized events.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tools/tool_parser.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {

constexpr int kRandomCuts = 60;

// Runs `text` through every cut, expects `expected` (normalized) from each, and returns the
// per-push events of the token-by-token run for promptness checks.
inline std::vector<std::vector<ToolEvent>> expect_events_every_cut(
    const ParserOptions& options, const Tokenizer& tok, std::string_view text,
    const std::vector<ToolEvent>& expected) {
  std::vector<std::vector<ToolEvent>> per_token;
  const auto tokens = token_pieces(tok, text);
  std::string joined;
  for (const auto& p : tokens) joined += p;
  EXPECT_EQ(joined, text) << "the tokenizer does not round-trip the case text";
  const auto by_token = normalized(run_parser(options, tokens, &per_token));
  EXPECT_EQ(by_token, expected) << "token by token:\n"
                                << describe(by_token) << "expected:\n"
                                << describe(expected);
  const auto whole = normalized(run_parser(options, {std::string(text)}));
  EXPECT_EQ(whole, expected) << "whole:\n" << describe(whole);
  for (int seed = 1; seed <= kRandomCuts; ++seed) {
    const auto cut = normalized(run_parser(options, random_pieces(text, seed)));
    EXPECT_EQ(cut, expected) << "random cut, seed " << seed << ":\n" << describe(cut);
    if (cut != expected) break;  // one failing seed says it all
  }
  return per_token;
}

// The concatenated kCallArgs of call `index`.
inline std::string args_of(const std::vector<ToolEvent>& events, int index) {
  std::string args;
  for (const auto& e : events)
    if (e.kind == Kind::kCallArgs && e.index == index) args += e.text;
  return args;
}

// The arguments parse as JSON and equal `expected`, key order included.
inline void expect_args_json(const std::vector<ToolEvent>& events, int index,
                             const nlohmann::ordered_json& expected) {
  const std::string args = args_of(events, index);
  const auto parsed = nlohmann::ordered_json::parse(args, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << "call " << index << " arguments do not parse: " << args;
  EXPECT_EQ(parsed.dump(), expected.dump()) << "call " << index;
}

// Promptness of call `index` in a token-by-token run: its kCallBegin arrives in an earlier push
// than its last arguments fragment, and its arguments come in at least `min_fragments` pushes.
inline void expect_prompt_call(const std::vector<std::vector<ToolEvent>>& per_push, int index,
                               int min_fragments) {
  int begin_push = -1, last_args_push = -1, fragments = 0;
  for (int i = 0; i < static_cast<int>(per_push.size()); ++i) {
    for (const auto& e : per_push[i]) {
      if (e.index != index) continue;
      if (e.kind == Kind::kCallBegin) begin_push = i;
      if (e.kind == Kind::kCallArgs && !e.text.empty()) {
        last_args_push = i;
        ++fragments;
      }
    }
  }
  ASSERT_GE(begin_push, 0) << "no kCallBegin for call " << index;
  EXPECT_LT(begin_push, last_args_push) << "call " << index << " began only with its arguments";
  EXPECT_GE(fragments, min_fragments) << "call " << index << " arguments came all at once";
}

}  // namespace agentserve::tools::testing
