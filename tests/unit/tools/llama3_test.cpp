// Llama 3.x JSON calls through the real Llama 3.1 tokenizer (<|python_tag|> is a special token).
#include <gtest/gtest.h>

#include "call_fixtures.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {
namespace {

const std::vector<std::string> kMarkers = {"<|python_tag|>", "\"parameters\""};

ParserOptions llama3() {
  ParserOptions o;
  o.format = ToolFormat::kLlama3Json;
  o.tools = tool_specs({"write_file", "search"});
  return o;
}

const Tokenizer& tok() {
  return family_tokenizer("llama3_1");
}

std::string call(const std::string& name, const std::string& args, const char* key = "parameters") {
  return "{\"name\": \"" + name + "\", \"" + key + "\": " + args + "}";
}

TEST(Llama3Json, OneCallWithLongArguments) {
  ParseCase c;
  c.label = "one";
  c.output = call("write_file", written(file_args()));
  c.expected = {begin_ev(0, "write_file"), args_ev(0, emitted(file_args())), end_ev(0)};
  c.name_ends = {"\"write_file\""};
  check_case(llama3(), tok(), c, kMarkers);
  EXPECT_GE(args_events_before_end(llama3(), tok(), c.output, 0), 20);
}

TEST(Llama3Json, PythonTagSeveralCallsAndTextAfter) {
  ParseCase c;
  c.label = "several";
  c.output = "\n<|python_tag|>" + call("search", written(nested_args())) + "; " +
             call("write_file", "{\"path\": \"a\"}", "arguments") + "\n" +
             "{\"type\": \"function\", \"name\": \"search\", \"parameters\": {}}" +
             "\n\nThat is all — 以上です 👍";
  c.expected = {begin_ev(0, "search"),
                args_ev(0, emitted(nested_args())),
                end_ev(0),
                begin_ev(1, "write_file"),
                args_ev(1, "{\"path\": \"a\"}"),
                end_ev(1),
                begin_ev(2, "search"),
                args_ev(2, "{}"),
                end_ev(2),
                text_ev("\n\nThat is all — 以上です 👍")};
  c.name_ends = {"\"search\"", "\"write_file\"", "\"search\""};
  check_case(llama3(), tok(), c, kMarkers);
}

TEST(Llama3Json, JsonAnswerIsText) {
  ParseCase c;
  c.label = "json answer";
  c.output = "  {\"title\": \"Report\", \"name\": \"x\", \"parameters\": {}}";
  c.expected = {text_ev(c.output)};
  check_case(llama3(), tok(), c, kMarkers);
  c.label = "type not function";
  c.output = "{\"type\": \"object\", \"name\": \"search\"}";
  c.expected = {text_ev(c.output)};
  check_case(llama3(), tok(), c, kMarkers);
  c.label = "name not a string";
  c.output = "{\"name\": 42}";
  c.expected = {text_ev(c.output)};
  check_case(llama3(), tok(), c, kMarkers);
}

TEST(Llama3Json, TextFirstIsNeverACall) {
  ParseCase c;
  c.label = "text first";
  c.output = "Here: " + call("search", "{}") + "\n";
  c.expected = {text_ev(c.output)};
  check_case(llama3(), tok(), c, kMarkers);
}

TEST(Llama3Json, PythonTagWithCodeIsText) {
  ParseCase c;
  c.label = "ipython";
  c.output = "<|python_tag|>import math\nprint(math.pi)";
  c.expected = {text_ev(c.output)};
  check_case(llama3(), tok(), c, kMarkers);
}

TEST(Llama3Json, MalformedAfterTheNameAndTruncation) {
  ParseCase c;
  c.label = "broken";
  const std::string head = "{\"name\": \"search\", \"parameters\": {\"q\": \"a\"";
  c.output = head + " \"b\": 1}}";
  // The space belongs to the arguments (JSON allows it there); the string after it does not.
  c.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": \"a\" }"), end_ev(0, false, head + " "),
                text_ev("\"b\": 1}}")};
  c.name_ends = {"\"search\""};
  check_case(llama3(), tok(), c, kMarkers);

  ParseCase t;
  t.label = "cut";
  t.output = "{\"name\": \"write_file\", \"parameters\": {\"path\": \"日本";
  t.expected = {begin_ev(0, "write_file"), args_ev(0, "{\"path\": \"日本"),
                end_ev(0, false, t.output)};
  t.name_ends = {"\"write_file\""};
  check_case(llama3(), tok(), t, kMarkers);
}

}  // namespace
}  // namespace agentserve::tools::testing
