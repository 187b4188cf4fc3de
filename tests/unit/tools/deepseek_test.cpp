// DeepSeek V3.1 and V3 calls through the real DeepSeek V3 tokenizer (the fullwidth markers are
// special tokens there).
#include <gtest/gtest.h>

#include "call_fixtures.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {
namespace {

const std::string kCallsBegin = "<｜tool▁calls▁begin｜>";
const std::string kCallBegin = "<｜tool▁call▁begin｜>";
const std::string kSep = "<｜tool▁sep｜>";
const std::string kCallEnd = "<｜tool▁call▁end｜>";
const std::string kCallsEnd = "<｜tool▁calls▁end｜>";
const std::vector<std::string> kMarkers = {kCallsBegin, kCallBegin, kSep,
                                           kCallEnd,    kCallsEnd,  "```"};

ParserOptions deepseek() {
  ParserOptions o;
  o.format = ToolFormat::kDeepSeekV31;
  o.tools = tool_specs({"write_file", "search", "function"});
  return o;
}

const Tokenizer& tok() {
  return family_tokenizer("deepseek_v3");
}

std::string v31(const std::string& name, const std::string& args) {
  return kCallBegin + name + kSep + args + kCallEnd;
}
std::string v3(const std::string& name, const std::string& args) {
  return kCallBegin + "function" + kSep + name + "\n```json\n" + args + "\n```" + kCallEnd;
}

TEST(DeepSeek, V31SeveralCallsWithTextAround) {
  ParseCase c;
  c.label = "v3.1";
  c.output = "I will write it — 我来写。\n\n" + kCallsBegin +
             v31("write_file", written(file_args())) + v31("search", written(nested_args())) +
             v31("function", "{}") + kCallsEnd + "\nDone 👍";
  c.expected = {text_ev("I will write it — 我来写。"),
                begin_ev(0, "write_file"),
                args_ev(0, emitted(file_args())),
                end_ev(0),
                begin_ev(1, "search"),
                args_ev(1, emitted(nested_args())),
                end_ev(1),
                begin_ev(2, "function"),
                args_ev(2, "{}"),
                end_ev(2),
                text_ev("\nDone 👍")};
  c.name_ends = {"write_file" + kSep, "search" + kSep, "function" + kSep + "{"};
  check_case(deepseek(), tok(), c, kMarkers);
  EXPECT_GE(args_events_before_end(deepseek(), tok(), c.output, 0), 20);
}

TEST(DeepSeek, V3FencedForm) {
  ParseCase c;
  c.label = "v3";
  c.output = kCallsBegin + v3("search", written(nested_args())) + "\n" +
             v3("write_file", written(file_args())) + kCallsEnd;
  c.expected = {begin_ev(0, "search"),     args_ev(0, emitted(nested_args())), end_ev(0),
                begin_ev(1, "write_file"), args_ev(1, emitted(file_args())),   end_ev(1)};
  c.name_ends = {"search\n", "write_file\n"};
  check_case(deepseek(), tok(), c, kMarkers);
}

TEST(DeepSeek, MalformedAndTruncated) {
  ParseCase bad_name;
  bad_name.label = "bad name";
  bad_name.output = "Hmm " + kCallsBegin + kCallBegin + "two words" + kSep + "{}" + kCallEnd;
  bad_name.expected = {text_ev(bad_name.output)};
  check_case(deepseek(), tok(), bad_name, kMarkers);

  ParseCase broken;
  broken.label = "broken args";
  const std::string head = kCallsBegin + kCallBegin + "search" + kSep + "{\"q\": \"x\",";
  broken.output = head + "}" + kCallEnd + kCallsEnd;
  broken.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": \"x\"}"), end_ev(0, false, head),
                     text_ev("}" + kCallEnd + kCallsEnd)};
  broken.name_ends = {"search" + kSep};
  check_case(deepseek(), tok(), broken, kMarkers);

  ParseCase cut;
  cut.label = "cut";
  cut.output =
      kCallsBegin + kCallBegin + "write_file" + kSep + "{\"path\": \"a\", \"content\": \"x\ty";
  cut.expected = {begin_ev(0, "write_file"), args_ev(0, "{\"path\": \"a\", \"content\": \"x\\ty"),
                  end_ev(0, false, cut.output)};
  cut.name_ends = {"write_file" + kSep};
  check_case(deepseek(), tok(), cut, kMarkers);
}

// Found by fuzz_test: a number too large for a double (nlohmann::json rejects it) breaks the
// call at the digit that makes it so; the arguments before it still parse.
TEST(DeepSeek, NumberTooLargeBreaksTheCall) {
  ParseCase c;
  c.label = "1e1234";
  const std::string head = kCallBegin + "search" + kSep + "{\"q\": 1e0123";
  c.output = head + "4567890}" + kCallEnd;
  c.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": 1e0123}"), end_ev(0, false, head),
                text_ev("4567890}" + kCallEnd)};
  c.name_ends = {"search" + kSep};
  check_case(deepseek(), tok(), c, kMarkers);
}

}  // namespace
}  // namespace agentserve::tools::testing
