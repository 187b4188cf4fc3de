// Hermes / Qwen calls, generations encoded with the real Qwen3 tokenizer (<tool_call> is one
// token there) and cut every way.
#include <gtest/gtest.h>

#include "call_fixtures.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {
namespace {

const std::vector<std::string> kMarkers = {"<tool_call>", "</tool_call>"};

ParserOptions hermes(std::vector<ToolSpec> tools = tool_specs({"write_file", "search"})) {
  ParserOptions o;
  o.format = ToolFormat::kHermes;
  o.tools = std::move(tools);
  return o;
}

std::string call(const std::string& name, const std::string& args_written,
                 const char* key = "arguments") {
  return "<tool_call>\n{\"name\": \"" + name + "\", \"" + key + "\": " + args_written +
         "}\n</tool_call>";
}

const Tokenizer& tok() {
  return family_tokenizer("qwen3");
}

TEST(Hermes, TextCallsAndTextAfter) {
  ParseCase c;
  c.label = "two calls";
  c.output = "I'll write the file, then search.\n" + call("write_file", written(file_args())) +
             "\n" + call("search", written(nested_args())) + "\n\nDone — 完了 ✅";
  c.expected = {text_ev("I'll write the file, then search."),
                begin_ev(0, "write_file"),
                args_ev(0, emitted(file_args())),
                end_ev(0),
                begin_ev(1, "search"),
                args_ev(1, emitted(nested_args())),
                end_ev(1),
                text_ev("\n\nDone — 完了 ✅")};
  c.name_ends = {"\"write_file\"", "\"search\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, ArgumentsStreamBeforeTheCallEnds) {
  const std::string out = call("write_file", written(file_args()));
  EXPECT_GE(args_events_before_end(hermes(), tok(), out, 0), 20);
}

TEST(Hermes, BlankTextAroundCallsIsFormatting) {
  ParseCase c;
  c.label = "blank";
  c.output = "\n\n" + call("search", "{\"q\": 1}") + "\n  \n" + call("search", "{}") + "\n\n";
  c.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": 1}"), end_ev(0),
                begin_ev(1, "search"), args_ev(1, "{}"),         end_ev(1)};
  c.name_ends = {"\"search\"", "\"search\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, ParametersAliasStringArgumentsAndNameLast) {
  ParseCase c;
  c.label = "alias";
  const std::string as_string = nlohmann::json(py_json(nested_args())).dump();
  c.output = call("search", "{\"a\": [1, 2]}", "parameters") +
             "\n<tool_call>\n{\"name\": \"search\", \"arguments\": " + as_string +
             "}\n</tool_call>\n<tool_call>\n{\"arguments\": {\"x\": \"y\"}, \"name\": "
             "\"write_file\"}\n</tool_call>";
  c.expected = {begin_ev(0, "search"),     args_ev(0, "{\"a\": [1, 2]}"),      end_ev(0),
                begin_ev(1, "search"),     args_ev(1, emitted(nested_args())), end_ev(1),
                begin_ev(2, "write_file"), args_ev(2, "{\"x\": \"y\"}"),       end_ev(2)};
  c.name_ends = {"\"search\"", "\"search\"", "\"write_file\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, MissingCloseTagAndNoArguments) {
  ParseCase c;
  c.label = "no close";
  c.output = "<tool_call>\n{\"name\": \"search\"}\n";
  c.expected = {begin_ev(0, "search"), args_ev(0, "{}"), end_ev(0)};
  c.name_ends = {"\"search\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, MarkerInPlainTextIsText) {
  ParseCase c;
  c.label = "mention";
  c.output = "Wrap calls in <tool_call> tags, like <tool_call>this</tool_call>. 好的";
  c.expected = {text_ev(c.output)};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, BadNameIsText) {
  ParseCase c;
  c.label = "bad name";
  c.output = "Hi\n<tool_call>\n{\"name\": \"two words\", \"arguments\": {}}\n</tool_call>";
  c.expected = {text_ev(c.output)};
  check_case(hermes(), tok(), c, kMarkers);
}

// Found by fuzz_test: the bad name breaks the call where the name ends, however the text was
// cut; the <tool_call> written after it opens the next call (whole, the scanner used to read on
// and take it in as a member name, so the call was text).
TEST(Hermes, BadNameBreaksWhereTheNameEnds) {
  ParseCase c;
  c.label = "bad name, then a call";
  c.output = "<tool_call>{\"name\": \"\", \"<tool_call>{\"arguments\": {}, \"name\": \"search\"}";
  c.expected = {text_ev("<tool_call>{\"name\": \"\", \""), begin_ev(0, "search"), args_ev(0, "{}"),
                end_ev(0)};
  c.name_ends = {"\"search\""};
  // No marker check: the broken call's <tool_call> is text (the expected events say so).
  check_case(hermes(), tok(), c, {});
}

TEST(Hermes, BreakAfterBeginClosesTheArguments) {
  ParseCase c;
  c.label = "broken";
  const std::string head = "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"a\": [1, tru";
  c.output = "ok\n" + head + "x]}}\n</tool_call> then\n" + call("search", "{}");
  c.expected = {text_ev("ok"),
                begin_ev(0, "search"),
                args_ev(0, "{\"a\": [1, true]}"),
                end_ev(0, false, "\n" + head),  // with the whitespace dropped before it
                text_ev("x]}}\n</tool_call> then"),
                begin_ev(1, "search"),
                args_ev(1, "{}"),
                end_ev(1)};
  c.name_ends = {"\"search\"", "\"search\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, TruncatedInsideArguments) {
  ParseCase c;
  c.label = "cut";
  const std::string w = written(file_args());
  const std::string e = emitted(file_args());
  c.output = "Writing.\n<tool_call>\n{\"name\": \"write_file\", \"arguments\": " + w.substr(0, 200);
  // The emitted prefix: the same bytes with the raw newlines and tabs escaped.
  std::string expect_args;
  for (char ch : w.substr(0, 200)) {
    expect_args += ch == '\n' ? "\\n" : ch == '\t' ? "\\t" : std::string(1, ch);
  }
  // A cut UTF-8 character is held back, never emitted.
  while (!expect_args.empty() && (static_cast<unsigned char>(expect_args.back()) & 0xC0) == 0x80)
    expect_args.pop_back();
  if (!expect_args.empty() && static_cast<unsigned char>(expect_args.back()) >= 0xC0)
    expect_args.pop_back();
  ASSERT_EQ(e.compare(0, expect_args.size(), expect_args), 0);
  c.expected = {text_ev("Writing."), begin_ev(0, "write_file"), args_ev(0, expect_args),
                end_ev(0, false, c.output.substr(c.output.find("<tool_call>") - 1))};  // "\n" too
  c.name_ends = {"\"write_file\""};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, TruncatedBeforeTheName) {
  ParseCase c;
  c.label = "cut early";
  c.output = "Let me check.\n<tool_call>\n{\"name\": \"sea";
  c.expected = {text_ev(c.output)};
  check_case(hermes(), tok(), c, kMarkers);
}

TEST(Hermes, UnknownToolIsStillACallAndNoToolsAcceptsAny) {
  ParseCase c;
  c.label = "unknown";
  c.output = call("rm_rf", "{\"path\": \"/\"}");
  c.expected = {begin_ev(0, "rm_rf"), args_ev(0, "{\"path\": \"/\"}"), end_ev(0)};
  c.name_ends = {"\"rm_rf\""};
  check_case(hermes(), tok(), c, kMarkers);
  check_case(hermes({}), tok(), c, kMarkers);
}

TEST(Hermes, WithoutParseCallsEverythingIsText) {
  ParserOptions o = hermes();
  o.parse_calls = false;
  const std::string out = "a\n" + call("search", "{}") + "\n";
  EXPECT_EQ(normalized(run_parser(o, token_pieces(tok(), out))),
            std::vector<ToolEvent>{text_ev(out)});
  ParserOptions none;
  none.format = ToolFormat::kNone;
  EXPECT_EQ(normalized(run_parser(none, random_pieces(out, 3))),
            std::vector<ToolEvent>{text_ev(out)});
}

}  // namespace
}  // namespace agentserve::tools::testing
