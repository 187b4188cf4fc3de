// gpt-oss (harmony): hand-written model outputs after the generation prompt
// "<|start|>assistant", encoded with the real gpt-oss tokenizer (its <|channel|>, <|message|>,
// ... are special tokens) and fed token by token, whole and in random byte cuts (check_case of
// tool_test_util.h).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tool_test_util.h"
#include "tools/tool_parser.h"

namespace agentserve::tools::testing {
namespace {

using Json = nlohmann::ordered_json;

const Tokenizer& tok() {
  return family_tokenizer("gptoss");
}

// The case whole, token by token and in random cuts (check_case); name_ends: where each call's
// name is complete, by which piece its kCallBegin must be out.
void check(const ParserOptions& o, std::string_view text, std::vector<ToolEvent> expected,
           std::vector<std::string> name_ends = {}) {
  const ParseCase c{::testing::UnitTest::GetInstance()->current_test_info()->name(),
                    std::string(text), std::move(expected), std::move(name_ends)};
  check_case(o, tok(), c,
             {"<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|call|>", "<|return|>",
              "<|constrain|>"});
}

// The expected arguments text is the JSON of `object`, key order included.
void expect_args_are(const ToolEvent& args, const nlohmann::ordered_json& object) {
  ASSERT_EQ(args.kind, Kind::kCallArgs);
  EXPECT_EQ(nlohmann::ordered_json::parse(args.text).dump(), object.dump());
}

ParserOptions options(bool parse_calls = true) {
  ParserOptions o;
  o.format = ToolFormat::kHarmony;
  o.parse_calls = parse_calls;
  if (parse_calls) o.tools = tool_specs({"get_weather", "read_file", "write_file", "run"});
  return o;
}

TEST(Harmony, ChannelMarkersAreSpecialTokens) {
  const auto ids = tok().encode("<|channel|>final<|message|>hi<|return|>");
  for (const char* marker : {"<|channel|>", "<|message|>", "<|return|>"}) {
    const auto id = tok().find_token(marker);
    ASSERT_TRUE(id.has_value()) << marker;
    EXPECT_TRUE(tok().is_special(*id)) << marker;
    EXPECT_NE(std::find(ids.begin(), ids.end(), *id), ids.end()) << marker;
  }
}

TEST(Harmony, AnalysisIsReasoningAndFinalIsText) {
  const std::string text =
      "<|channel|>analysis<|message|>The user wants a poem with \"quotes\", 日本語 and 👩\u200d🚀."
      "<|end|><|start|>assistant<|channel|>final<|message|>Roses are red,\n\tviolets 💐 are "
      "blue <|and|> a < b.<|return|>";
  check(options(), text,
        {reasoning_ev("The user wants a poem with \"quotes\", 日本語 and 👩\u200d🚀."),
         text_ev("Roses are red,\n\tviolets 💐 are blue <|and|> a < b.")});
}

TEST(Harmony, ChannelsAreSplitWithoutTools) {
  const std::string text =
      "<|channel|>analysis<|message|>Short answer.<|end|><|start|>assistant<|channel|>final"
      "<|message|>42";
  check(options(false), text, {reasoning_ev("Short answer."), text_ev("42")});
}

TEST(Harmony, CallAsTheTemplateRendersIt) {
  // Recipient right after the role, content type "json" after the channel, <|call|> at the end.
  const std::string text =
      "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant "
      "to=functions.get_weather<|channel|>commentary json<|message|>{\"location\": \"Tokyo, "
      "東京\", \"unit\": \"celsius\", \"days\": [1, 2], \"opts\": {\"hourly\": true}}<|call|>";
  const std::string args =
      "{\"location\": \"Tokyo, 東京\", \"unit\": \"celsius\", \"days\": [1, 2], \"opts\": "
      "{\"hourly\": true}}";
  const std::vector<ToolEvent> expected = {reasoning_ev("Need the weather."),
                                           begin_ev(0, "get_weather"), args_ev(0, args), end_ev(0)};
  check(options(), text, expected, {"to=functions.get_weather<|channel|>"});
  expect_args_are(expected[2], Json::parse(args));
}

TEST(Harmony, RecipientAfterChannelWithConstrainStreamsAFileBody) {
  // The engine stops on <|call|> (a stop token), so the text ends with the object.
  std::string body;
  for (int i = 0; i < 30; ++i)
    body += "line " + std::to_string(i) + ": \"q\" \\ \t <div> </span> <|x 漢字 🧑\u200d💻\n";
  const std::string args =
      "{\"path\": \"src/a.html\", \"content\": " + nlohmann::json(body).dump() +
      ", \"mode\": {\"append\": false}}";
  const std::string text =
      "<|channel|>commentary to=functions.write_file <|constrain|>json<|message|>" + args;
  const std::vector<ToolEvent> expected = {begin_ev(0, "write_file"), args_ev(0, args), end_ev(0)};
  check(options(), text, expected, {"to=functions.write_file "});
  expect_args_are(expected[1],
                  Json{{"path", "src/a.html"}, {"content", body}, {"mode", {{"append", false}}}});
  EXPECT_GE(args_events_before_end(options(), tok(), text, 0), 10);
}

TEST(Harmony, PreambleAndSeveralCalls) {
  const std::string text =
      "<|channel|>analysis<|message|>Plan: read two files.<|end|><|start|>assistant"
      "<|channel|>commentary<|message|>Reading both files now.<|end|><|start|>assistant "
      "to=functions.read_file<|channel|>commentary json<|message|>{\"path\": \"a.txt\"}"
      "<|call|><|start|>assistant to=functions.read_file<|channel|>commentary <|constrain|>json"
      "<|message|>{\"path\": \"目录/b.txt\"}<|call|>";
  check(options(), text,
        {reasoning_ev("Plan: read two files."), text_ev("Reading both files now."),
         begin_ev(0, "read_file"), args_ev(0, "{\"path\": \"a.txt\"}"), end_ev(0),
         begin_ev(1, "read_file"), args_ev(1, "{\"path\": \"目录/b.txt\"}"), end_ev(1)},
        {"to=functions.read_file<|channel|>", "to=functions.read_file<|channel|>"});
}

TEST(Harmony, CallMessageIsRawTextWithoutParseCalls) {
  const std::string call =
      "<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>"
      "{\"location\": \"Paris\"}<|call|>";
  const std::string text = "<|channel|>analysis<|message|>Need the weather.<|end|>" + call;
  check(options(false), text, {reasoning_ev("Need the weather."), text_ev(call)});
}

TEST(Harmony, UndeclaredToolIsStillACallAndAnyNameWithoutTools) {
  const std::string text =
      " to=functions.search_web<|channel|>commentary json<|message|>{\"q\": \"x\"}";
  const std::vector<ToolEvent> expected = {begin_ev(0, "search_web"), args_ev(0, "{\"q\": \"x\"}"),
                                           end_ev(0)};
  check(options(), text, expected);
  ParserOptions no_tools;
  no_tools.format = ToolFormat::kHarmony;
  check(no_tools, text, expected);
}

TEST(Harmony, MessageWithoutHeaderIsText) {
  check(options(), "Hello there, no header here.", {text_ev("Hello there, no header here.")});
  check(options(), "<|channel|>analysis<|message|>think<|end|>Plain answer.",
        {reasoning_ev("think"), text_ev("Plain answer.")});
}

TEST(Harmony, WhitespaceBetweenMessagesIsFormatting) {
  const std::string text =
      "<|channel|>analysis<|message|>a<|end|>\n<|start|>assistant<|channel|>final<|message|>"
      "b<|end|>\n\n";
  check(options(), text, {reasoning_ev("a"), text_ev("b")});
}

TEST(Harmony, MissingEndBetweenMessages) {
  check(options(),
        "<|channel|>analysis<|message|>thinking<|start|>assistant<|channel|>final<|message|>ok",
        {reasoning_ev("thinking"), text_ev("ok")});
  check(options(), "<|channel|>analysis<|message|>thinking<|channel|>final<|message|>ok",
        {reasoning_ev("thinking"), text_ev("ok")});
}

TEST(Harmony, CallWhoseBodyIsNotJsonBreaks) {
  const std::string header = " to=functions.run<|channel|>commentary code<|message|>";
  check(options(), header + "print(1)",
        {begin_ev(0, "run"), args_ev(0, "{}"), end_ev(0, false, header), text_ev("print(1)")});
}

TEST(Harmony, CallThatBreaksMidObjectIsClosed) {
  const std::string header = " to=functions.run<|channel|>commentary json<|message|>";
  check(options(), header + "{\"a\": 1, oops}<|call|>",
        {begin_ev(0, "run"), args_ev(0, "{\"a\": 1}"), end_ev(0, false, header + "{\"a\": 1, "),
         text_ev("oops}")});
}

TEST(Harmony, TextAfterCompleteArgumentsIsText) {
  const std::string text =
      " to=functions.run<|channel|>commentary json<|message|>{\"cmd\": \"ls\"} and more";
  check(options(), text,
        {begin_ev(0, "run"), args_ev(0, "{\"cmd\": \"ls\"}"), end_ev(0), text_ev("and more")});
}

TEST(Harmony, TruncatedInsideArgumentsOrHeader) {
  const std::string mid_args =
      " to=functions.get_weather<|channel|>commentary json<|message|>{\"location\": \"San Fr";
  check(options(), mid_args,
        {begin_ev(0, "get_weather"), args_ev(0, "{\"location\": \"San Fr"),
         end_ev(0, false, mid_args)});
  // The name is complete once the header goes on: the call has begun.
  const std::string mid_header = "<|start|>assistant to=functions.get_weather<|channel|>comm";
  const std::string after_end = "<|channel|>analysis<|message|>x<|end|>" + mid_header;
  check(options(), after_end,
        {reasoning_ev("x"), begin_ev(0, "get_weather"), end_ev(0, false, mid_header)});
}

// Found by fuzz_test: an answer that only begins like the first header's recipient (" to=")
// and ends there is text; it was left out as a cut-off header.
TEST(Harmony, AnswerThatOnlyBeginsLikeAHeaderIsText) {
  check(options(), "to", {text_ev("to")});
  check(options(), " ", {text_ev(" ")});
  check(options(false), " t", {text_ev(" t")});
}

// Found by fuzz_test: a call's header past 512 bytes breaks the call at the limit, whether the
// header came in one piece or byte by byte (whole, it used to be text without a call), and its
// bytes are either the call's raw text or content, never both.
TEST(Harmony, CallHeaderPastTheLimitBreaksAtTheLimit) {
  const std::string text =
      "<|channel|>commentary to=functions.run " + std::string(600, 'x') + "<|message|>{}";
  check(options(), text,
        {begin_ev(0, "run"), args_ev(0, "{}"), end_ev(0, false, text.substr(0, 512)),
         text_ev(text.substr(512))},
        {"to=functions.run "});
}

}  // namespace
}  // namespace agentserve::tools::testing
