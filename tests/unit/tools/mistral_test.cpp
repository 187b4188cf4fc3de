// Mistral calls, both forms, through the real Mistral Nemo tokenizer ([TOOL_CALLS] is a special
// token there; [ARGS] and [CALL_ID] are not, so they arrive cut into ordinary tokens).
#include <gtest/gtest.h>

#include "call_fixtures.h"
#include "tool_test_util.h"

namespace agentserve::tools::testing {
namespace {

const std::vector<std::string> kMarkers = {"[TOOL_CALLS]", "[ARGS]", "[CALL_ID]"};

ParserOptions mistral() {
  ParserOptions o;
  o.format = ToolFormat::kMistral;
  o.tools = tool_specs({"write_file", "search"});
  return o;
}

const Tokenizer& tok() {
  return family_tokenizer("mistral_nemo");
}

TEST(Mistral, ListFormWithIds) {
  ParseCase c;
  c.label = "list";
  c.output = "Sure — 好的.\n\n[TOOL_CALLS][{\"name\": \"write_file\", \"arguments\": " +
             written(file_args()) +
             ", \"id\": \"a1b2c3d4e\"}, {\"name\": \"search\", "
             "\"arguments\": " +
             written(nested_args()) + ", \"id\": \"zzzzzzzzz\"}]";
  c.expected = {text_ev("Sure — 好的."),
                begin_ev(0, "write_file"),
                args_ev(0, emitted(file_args())),
                end_ev(0),
                begin_ev(1, "search"),
                args_ev(1, emitted(nested_args())),
                end_ev(1)};
  c.name_ends = {"\"write_file\"", "\"search\""};
  check_case(mistral(), tok(), c, kMarkers);
  EXPECT_GE(args_events_before_end(mistral(), tok(), c.output, 0), 20);
}

TEST(Mistral, NameArgsFormSeveralCalls) {
  ParseCase c;
  c.label = "name form";
  c.output = "[TOOL_CALLS]write_file[ARGS]" + written(file_args()) +
             "[TOOL_CALLS]search[CALL_ID]abc123XYZ[ARGS]" + written(nested_args()) +
             "\nAnything else? 🙂";
  c.expected = {begin_ev(0, "write_file"),       args_ev(0, emitted(file_args())),   end_ev(0),
                begin_ev(1, "search"),           args_ev(1, emitted(nested_args())), end_ev(1),
                text_ev("\nAnything else? 🙂")};
  c.name_ends = {"write_file[", "search["};
  check_case(mistral(), tok(), c, kMarkers);
}

TEST(Mistral, NotACallIsText) {
  ParseCase c;
  c.label = "prose";
  c.output = "The [TOOL_CALLS] token starts a call: see the docs.";
  c.expected = {text_ev(c.output)};
  check_case(mistral(), tok(), c, kMarkers);
  c.label = "empty list";
  c.output = "[TOOL_CALLS][]";
  c.expected = {text_ev(c.output)};
  check_case(mistral(), tok(), c, kMarkers);
}

TEST(Mistral, BrokenAndTruncated) {
  ParseCase c;
  c.label = "no args marker";
  c.output = "[TOOL_CALLS]search{\"q\": 1}";
  c.expected = {text_ev(c.output)};
  check_case(mistral(), tok(), c, kMarkers);

  ParseCase b;
  b.label = "bad args";
  b.output = "[TOOL_CALLS]search[ARGS]{\"q\": [1 2]}";
  b.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": [1 ]}"),
                end_ev(0, false, "[TOOL_CALLS]search[ARGS]{\"q\": [1 "), text_ev("2]}")};
  b.name_ends = {"search["};
  check_case(mistral(), tok(), b, kMarkers);

  ParseCase t;
  t.label = "cut";
  t.output = "[TOOL_CALLS][{\"name\": \"search\", \"arguments\": {\"q\": \"déjà";
  t.expected = {begin_ev(0, "search"), args_ev(0, "{\"q\": \"déjà"), end_ev(0, false, t.output)};
  t.name_ends = {"\"search\""};
  check_case(mistral(), tok(), t, kMarkers);
}

// Found by fuzz_test: an id that runs past 64 bytes without [ARGS] breaks the call after those
// 64 bytes, whether [ARGS] comes later in the same piece or the stream is cut byte by byte.
TEST(Mistral, CallIdTooLongBreaksAfterItsLimit) {
  ParseCase c;
  c.label = "long id";
  const std::string head = "[TOOL_CALLS]search[CALL_ID]";
  c.output = head + std::string(80, 'x') + "[ARGS]{}";
  c.expected = {begin_ev(0, "search"), args_ev(0, "{}"),
                end_ev(0, false, head + std::string(64, 'x')),
                text_ev(std::string(16, 'x') + "[ARGS]{}")};
  c.name_ends = {"search["};
  check_case(mistral(), tok(), c, kMarkers);
}

}  // namespace
}  // namespace agentserve::tools::testing
