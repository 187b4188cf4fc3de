// Qwen3-Coder tool calls: hand-written model outputs, encoded with the real Qwen3 tokenizer and
// fed token by token, whole and in random byte cuts (check_case of tool_test_util.h).
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

// A JSON string literal, as an independent oracle for the parser's escaping.
std::string js(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

const Tokenizer& tok() {
  return family_tokenizer("qwen3");
}

// The case whole, token by token and in random cuts (check_case); name_ends: where each call's
// name is complete, by which piece its kCallBegin must be out.
void check(const ParserOptions& o, std::string_view text, std::vector<ToolEvent> expected,
           std::vector<std::string> name_ends = {}) {
  const ParseCase c{::testing::UnitTest::GetInstance()->current_test_info()->name(),
                    std::string(text), std::move(expected), std::move(name_ends)};
  check_case(
      o, tok(), c,
      {"<tool_call>", "</tool_call>", "<function=", "</function>", "<parameter=", "</parameter>"});
}

// The expected arguments text is the JSON of `object`, key order included.
void expect_args_are(const ToolEvent& args, const nlohmann::ordered_json& object) {
  ASSERT_EQ(args.kind, Kind::kCallArgs);
  EXPECT_EQ(nlohmann::ordered_json::parse(args.text).dump(), object.dump());
}

ParserOptions options() {
  ParserOptions o;
  o.format = ToolFormat::kQwen3Coder;
  o.tools.push_back({"write_file", Json::parse(R"({"type": "object", "properties": {
      "path": {"type": "string"}, "content": {"type": "string"}}})")});
  o.tools.push_back({"read_file", Json::parse(R"({"type": "object", "properties": {
      "path": {"type": "string", "description": "relative path"}}})")});
  o.tools.push_back({"list_files", Json::object()});
  o.tools.push_back({"get_time", Json::parse(R"({"properties": {"zone": {}, "format": {}}})")});
  o.tools.push_back({"configure", Json::parse(R"({"type": "object", "properties": {
      "count": {"type": "integer"},
      "ratio": {"type": "number"},
      "force": {"type": "boolean"},
      "nothing": {"type": "null"},
      "options": {"type": "object", "properties": {"nested": {"type": "object"}}},
      "tags": {"type": "array", "items": {}},
      "mode": {"enum": ["fast", "slow"]},
      "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
      "level": {"type": ["integer", "string"]},
      "weight": {"oneOf": [{"type": "number"}, {"type": "boolean"}]},
      "anything": {"type": "any"}}})")});
  return o;
}

// A whole C file: quotes, backslashes, tabs, '<' and a "</" that closes nothing, markers that
// sit mid-line, a line that starts like a tag but is none, CJK and an emoji ZWJ sequence.
const std::string kFileBody =
    "#include <stdio.h>\n"
    "// \"quotes\", 'single', a \\backslash\\ and a literal \\n\n"
    "int main(void) {\n"
    "\tprintf(\"a < b && c > d\\n\");\n"
    "\tif (x </ y) return 1;  /* a </ that closes nothing */\n"
    "\tputs(\"see <parameter=x> and </function> inline\");\n"
    "}\n"
    "</div>\n"
    "<parameterless>\n"
    "</functional>\n"
    "// 日本語のコメント: 完了 👩\u200d💻 and 👨\u200d👩\u200d👧\u200d👦\n";

TEST(Qwen3Coder, SpecialTokensOfTheCaseAreRecognised) {
  const std::string text = "<tool_call>\n<function=f>\n</function>\n</tool_call>";
  const auto ids = tok().encode(text);
  const auto id = tok().find_token("<tool_call>");
  ASSERT_TRUE(id.has_value());
  EXPECT_NE(std::find(ids.begin(), ids.end(), *id), ids.end());
}

TEST(Qwen3Coder, FileBodyStreamsAsAString) {
  const std::string text =
      "Let me create the file.\n\n<tool_call>\n<function=write_file>\n<parameter=path>\n"
      "src/main.c\n</parameter>\n<parameter=content>\n" +
      kFileBody + "\n</parameter>\n</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {
      text_ev("Let me create the file."),
      begin_ev(0, "write_file"),
      args_ev(0, "{\"path\": \"src/main.c\", \"content\": " + js(kFileBody) + "}"),
      end_ev(0),
  };
  check(options(), text, expected, {"<function=write_file>"});
  expect_args_are(expected[2], Json{{"path", "src/main.c"}, {"content", kFileBody}});
  // The body reaches the client while it is generated, not at </parameter>.
  EXPECT_GE(args_events_before_end(options(), tok(), text, 0), 10);
}

TEST(Qwen3Coder, ValuesAreTypedByTheSchema) {
  const std::string text =
      "<tool_call>\n<function=configure>\n"
      "<parameter=tags>\n[\"a\", \"b\", {\"c\": [1, 2]}]\n</parameter>\n"
      "<parameter=count>\n42\n</parameter>\n"
      "<parameter=ratio>\n-1.5e3\n</parameter>\n"
      "<parameter=force>\nTrue\n</parameter>\n"
      "<parameter=nothing>\nnull\n</parameter>\n"
      "<parameter=options>\n{\n  \"nested\": {\"deep\": [true, null]},\n  \"z\": 1,\n"
      "  \"a\": \"\\u00e9 and a raw\ttab\"\n}\n</parameter>\n"
      "<parameter=mode>\nfast\n</parameter>\n"
      "<parameter=limit>\nNone\n</parameter>\n"
      "<parameter=level>\n7\n</parameter>\n"
      "<parameter=weight>\nfalse\n</parameter>\n"
      "<parameter=anything>\n12\n</parameter>\n"
      "<parameter=extra>\nnot in the schema\n</parameter>\n"
      "</function>\n</tool_call>";
  const std::string args =
      "{\"tags\": [\"a\", \"b\", {\"c\": [1, 2]}], \"count\": 42, \"ratio\": -1.5e3, "
      "\"force\": true, \"nothing\": null, \"options\": {\n  \"nested\": {\"deep\": [true, "
      "null]},\n  \"z\": 1,\n  \"a\": \"\\u00e9 and a raw\\ttab\"\n}, \"mode\": \"fast\", "
      "\"limit\": null, \"level\": \"7\", \"weight\": false, \"anything\": \"12\", "
      "\"extra\": \"not in the schema\"}";
  const std::vector<ToolEvent> expected = {begin_ev(0, "configure"), args_ev(0, args), end_ev(0)};
  check(options(), text, expected, {"<function=configure>"});
  expect_args_are(expected[1], Json::parse(R"({"tags": ["a", "b", {"c": [1, 2]}], "count": 42,
      "ratio": -1500.0, "force": true, "nothing": null,
      "options": {"nested": {"deep": [true, null]}, "z": 1, "a": "é and a raw\ttab"},
      "mode": "fast", "limit": null, "level": "7", "weight": false, "anything": "12",
      "extra": "not in the schema"})"));
}

TEST(Qwen3Coder, ValueNotOfItsTypeFallsBackToAString) {
  const std::string text =
      "<tool_call>\n<function=configure>\n<parameter=count>\nmany\n</parameter>\n"
      "<parameter=options>\n{\"open\": \n</parameter>\n<parameter=force>\nyes\n</parameter>\n"
      "<parameter=ratio>\n1.5\n</parameter>\n</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "configure"),
      args_ev(0,
              "{\"count\": \"many\", \"options\": \"{\\\"open\\\": \", \"force\": \"yes\", "
              "\"ratio\": 1.5}"),
      end_ev(0),
  };
  check(options(), text, expected);
}

TEST(Qwen3Coder, IntegerParameterRejectsAFraction) {
  const std::string text =
      "<tool_call>\n<function=configure>\n<parameter=count>\n2.5\n</parameter>\n</function>\n"
      "</tool_call>";
  const std::vector<ToolEvent> expected = {begin_ev(0, "configure"),
                                           args_ev(0, "{\"count\": \"2.5\"}"), end_ev(0)};
  check(options(), text, expected);
}

TEST(Qwen3Coder, SeveralCallsWithTextBeforeBetweenAndAfter) {
  const std::string text =
      "Checking both files.\n<tool_call>\n<function=read_file>\n<parameter=path>\na.txt\n"
      "</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=read_file>\n"
      "<parameter=path>\n目录/b 📄.txt\n</parameter>\n</function>\n</tool_call>\n\nBoth read.";
  const std::vector<ToolEvent> expected = {
      text_ev("Checking both files."),
      begin_ev(0, "read_file"),
      args_ev(0, "{\"path\": \"a.txt\"}"),
      end_ev(0),
      begin_ev(1, "read_file"),
      args_ev(1, "{\"path\": \"目录/b 📄.txt\"}"),
      end_ev(1),
      text_ev("\n\nBoth read."),
  };
  check(options(), text, expected, {"<function=read_file>", "<function=read_file>"});
}

TEST(Qwen3Coder, WhitespaceAroundCallsIsFormatting) {
  const std::string text =
      "\n\n<tool_call>\n<function=list_files>\n</function>\n</tool_call>\n \n<tool_call>\n"
      "<function=list_files>\n</function>\n</tool_call>\n\n";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "list_files"), args_ev(0, "{}"), end_ev(0),
      begin_ev(1, "list_files"), args_ev(1, "{}"), end_ev(1),
  };
  check(options(), text, expected);
}

TEST(Qwen3Coder, WhitespaceOnlyAnswerWithoutCallsIsText) {
  const std::vector<ToolEvent> expected = {text_ev("\n \n")};
  check(options(), "\n \n", expected);
}

TEST(Qwen3Coder, ToleratesMissingWrapperClosingTagsAndSeveralFunctionsInOneWrapper) {
  // No <tool_call>, no </parameter>, no </tool_call>; then two functions in one wrapper.
  const std::string text =
      "<function=list_files>\n</function>\n<function=get_time>\n<parameter=zone>\nUTC\n"
      "<parameter=format>\niso 8601\n</function>\n<tool_call>\n<function=read_file>\n"
      "<parameter=path>\nx\n</parameter>\n</function>\n<function=read_file>\n"
      "<parameter=path>\ny\n</parameter>\n</function>";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "list_files"),
      args_ev(0, "{}"),
      end_ev(0),
      begin_ev(1, "get_time"),
      args_ev(1, "{\"zone\": \"UTC\", \"format\": \"iso 8601\"}"),
      end_ev(1),
      begin_ev(2, "read_file"),
      args_ev(2, "{\"path\": \"x\"}"),
      end_ev(2),
      begin_ev(3, "read_file"),
      args_ev(3, "{\"path\": \"y\"}"),
      end_ev(3),
  };
  check(options(), text, expected,
        {"<function=list_files>", "<function=get_time>", "<function=read_file>",
         "<function=read_file>"});
}

TEST(Qwen3Coder, EmptyAndBlankLineValues) {
  // The template renders "" as an empty line between the tags; a value of one newline as two.
  const std::string text =
      "<tool_call>\n<function=write_file>\n<parameter=path>\n\n</parameter>\n"
      "<parameter=content>\n\n\n</parameter>\n</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "write_file"), args_ev(0, "{\"path\": \"\", \"content\": \"\\n\"}"), end_ev(0)};
  check(options(), text, expected);
}

TEST(Qwen3Coder, UnicodeNamesAndUndeclaredTool) {
  // A call to a tool the request did not declare is still a call; its values stay strings.
  const std::string text =
      "好的 👍\n<tool_call>\n<function=翻译>\n<parameter=文本>\n你好，世界 👩\u200d👩\u200d👧\n"
      "</parameter>\n<parameter=n>\n3\n</parameter>\n</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {
      text_ev("好的 👍"),
      begin_ev(0, "翻译"),
      args_ev(0, "{\"文本\": \"你好，世界 👩\u200d👩\u200d👧\", \"n\": \"3\"}"),
      end_ev(0),
  };
  check(options(), text, expected);
}

TEST(Qwen3Coder, AnyNameIsACallWithoutDeclaredTools) {
  ParserOptions o;
  o.format = ToolFormat::kQwen3Coder;
  const std::string text =
      "<tool_call>\n<function=anything>\n<parameter=k>\n1\n</parameter>\n"
      "</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {begin_ev(0, "anything"), args_ev(0, "{\"k\": \"1\"}"),
                                           end_ev(0)};
  check(o, text, expected);
}

TEST(Qwen3Coder, WouldBeCallThatBreaksBeforeItsNameIsText) {
  const std::string text =
      "Here: <tool_call>\n{\"name\": \"read_file\", \"arguments\": {}}\n</tool_call> and "
      "<function=bad name\nspans lines> done";
  const std::vector<ToolEvent> expected = {text_ev(text)};
  check(options(), text, expected);
}

TEST(Qwen3Coder, CallThatBreaksAfterItsNameIsClosedAndTheRestIsText) {
  const std::string text =
      "<tool_call>\n<function=read_file>\n<parameter=path>\na.txt\n</parameter>\n"
      "path=b.txt\n</function>\n</tool_call>\n<tool_call>\n<function=list_files>\nls -la\n"
      "</function>\n</tool_call>";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "read_file"),
      args_ev(0, "{\"path\": \"a.txt\"}"),
      end_ev(0, false,
             "<tool_call>\n<function=read_file>\n<parameter=path>\na.txt\n</parameter>\n"),
      text_ev("path=b.txt\n</function>\n</tool_call>"),
      begin_ev(1, "list_files"),
      args_ev(1, "{}"),
      end_ev(1, false, "\n<tool_call>\n<function=list_files>\n"),
      text_ev("ls -la\n</function>\n</tool_call>"),
  };
  check(options(), text, expected);
}

TEST(Qwen3Coder, TruncatedInsideAStringValue) {
  const std::string text =
      "<tool_call>\n<function=write_file>\n<parameter=path>\nnotes.md\n</parameter>\n"
      "<parameter=content>\n# Notes\n\n\"first\" line\n</para";
  const std::vector<ToolEvent> expected = {
      begin_ev(0, "write_file"),
      // The held-back "\n</para" could have been the closing tag: it is not sent.
      args_ev(0, "{\"path\": \"notes.md\", \"content\": \"# Notes\\n\\n\\\"first\\\" line"),
      end_ev(0, false, text),
  };
  check(options(), text, expected);
}

TEST(Qwen3Coder, TruncatedInsideATypedValueOrAName) {
  const std::string typed = "<tool_call>\n<function=configure>\n<parameter=count>\n4";
  check(options(), typed,
        {begin_ev(0, "configure"), args_ev(0, "{\"count\": "), end_ev(0, false, typed)});
  const std::string param = "<tool_call>\n<function=configure>\n<parameter=cou";
  check(options(), param, {begin_ev(0, "configure"), end_ev(0, false, param)});
  const std::string name = "Sure.\n<tool_call>\n<function=conf";
  check(options(), name, {text_ev(name)});
}

TEST(Qwen3Coder, TruncatedClosingWrapperIsText) {
  const std::string text = "<function=list_files>\n</function>\n</tool_";
  check(options(), text,
        {begin_ev(0, "list_files"), args_ev(0, "{}"), end_ev(0), text_ev("\n</tool_")});
}

TEST(Qwen3Coder, MarkerLikeTextOutsideCallsIsText) {
  const std::string text = "Use <tool_ and <function( or <func in prose; a < b.";
  check(options(), text, {text_ev(text)});
}

// Found by fuzz_test: bytes that are not UTF-8 (a cut or corrupted character) in a value
// become U+FFFD, so that the arguments are JSON (they were passed through, and did not parse).
// Not through check(): the tokenizer would not round-trip them.
TEST(Qwen3Coder, ValueBytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string text =
      "<tool_call>\n<function=configure>\n<parameter=anything>\nab\xF0\x9F cd\xE4\xB8\n"
      "</parameter>\n<parameter=count>\n\xFF\n</parameter>\n</function>\n</tool_call>";
  const std::string args =
      "{\"anything\": \"ab\xEF\xBF\xBD cd\xEF\xBF\xBD\", \"count\": \"\xEF\xBF\xBD\"}";
  const std::vector<ToolEvent> expected = {begin_ev(0, "configure"), args_ev(0, args), end_ev(0)};
  EXPECT_TRUE(Json::accept(args));
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(normalized(run_parser(options(), {text})), expected);
  EXPECT_EQ(normalized(run_parser(options(), bytes)), expected);
  for (uint32_t seed = 1; seed <= 20; ++seed)
    EXPECT_EQ(normalized(run_parser(options(), random_pieces(text, seed))), expected) << seed;
}

}  // namespace
}  // namespace agentserve::tools::testing
