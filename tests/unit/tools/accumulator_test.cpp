// TurnAccumulator: a streamed turn folded into one response, from real parser output.
#include <gtest/gtest.h>

#include "call_fixtures.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {
namespace {

ParsedTurn accumulate(const std::vector<ToolEvent>& events) {
  TurnAccumulator acc;
  for (const auto& e : events) acc.add(e);
  return acc.take();
}

TEST(TurnAccumulator, CallsAndContent) {
  ParserOptions o;
  o.format = ToolFormat::kHermes;
  const std::string out =
      "Writing.\n<tool_call>\n{\"name\": \"write_file\", \"arguments\": " + written(file_args()) +
      "}\n</tool_call>\n<tool_call>\n{\"name\": "
      "\"search\", \"arguments\": {\"q\": 1}}\n</tool_call>";
  const ParsedTurn t = accumulate(run_parser(o, random_pieces(out, 7)));
  EXPECT_EQ(t.content, "Writing.");
  EXPECT_EQ(t.reasoning, "");
  ASSERT_EQ(t.calls.size(), 2u);
  EXPECT_EQ(t.calls[0].name, "write_file");
  EXPECT_EQ(nlohmann::ordered_json::parse(t.calls[0].arguments), file_args());
  EXPECT_EQ(t.calls[1].name, "search");
  EXPECT_EQ(t.calls[1].arguments, "{\"q\": 1}");
}

TEST(TurnAccumulator, IncompleteCallBecomesItsRawText) {
  ParserOptions o;
  o.format = ToolFormat::kHermes;
  const std::string cut = "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"ab";
  const std::string out =
      "A\n<tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call>"
      "\nB\n" +
      cut;
  const ParsedTurn t = accumulate(run_parser(o, random_pieces(out, 11)));
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].name, "search");
  EXPECT_EQ(t.calls[0].arguments, "{}");
  // The newline before the cut call was dropped as formatting; it returns with the call.
  EXPECT_EQ(t.content, "A\nB\n" + cut);
}

TEST(TurnAccumulator, ReasoningAndTakeResets) {
  TurnAccumulator acc;
  acc.add(reasoning_ev("think "));
  acc.add(reasoning_ev("more"));
  acc.add(text_ev("answer"));
  acc.add(begin_ev(0, "f"));
  acc.add(args_ev(0, "{\"a\""));
  acc.add(args_ev(0, ": 1}"));
  acc.add(end_ev(0));
  ParsedTurn t = acc.take();
  EXPECT_EQ(t.reasoning, "think more");
  EXPECT_EQ(t.content, "answer");
  ASSERT_EQ(t.calls.size(), 1u);
  EXPECT_EQ(t.calls[0].arguments, "{\"a\": 1}");
  t = acc.take();
  EXPECT_TRUE(t.content.empty() && t.reasoning.empty() && t.calls.empty());
}

}  // namespace
}  // namespace agentserve::tools::testing
