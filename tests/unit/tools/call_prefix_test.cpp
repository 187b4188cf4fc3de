// tool_choice enforcement (tools/call_prefix.h): the opening prefilled for a named tool makes
// each format's parser announce the call before the model has written anything, and the opening
// plus what the model writes after it parses into that call; the opening for "required"
// (no name) plus a name and arguments parses into a call too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tool_test_util.h"
#include "tools/call_prefix.h"

namespace agentserve::tools {
namespace {

using testing::begin_ev;
using testing::normalized;

struct PrefixCase {
  ToolFormat format;
  std::string named_rest;     // what the model writes after the named opening
  std::string required_rest;  // ... after the opening without a name
};

const std::vector<PrefixCase>& cases() {
  static const std::vector<PrefixCase> all = {
      {ToolFormat::kHermes, "{\"city\": \"Oslo\"}}\n</tool_call>",
       "get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"},
      {ToolFormat::kQwen3Coder, "<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>",
       "get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>"},
      {ToolFormat::kLlama3Json, "{\"city\": \"Oslo\"}}", "get_weather\", \"parameters\": {\"city\": \"Oslo\"}}"},
      {ToolFormat::kMistral, "{\"city\": \"Oslo\"}}]", "get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]"},
      {ToolFormat::kDeepSeekV31, "{\"city\": \"Oslo\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "get_weather<｜tool▁sep｜>{\"city\": \"Oslo\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"},
      {ToolFormat::kHarmony, "{\"city\": \"Oslo\"}", "get_weather <|constrain|>json<|message|>{\"city\": \"Oslo\"}"},
  };
  return all;
}

ParserOptions options_for(ToolFormat format) {
  ParserOptions o;
  o.format = format;
  o.tools = {{"get_weather", nlohmann::ordered_json::parse(
                                 R"({"type": "object", "properties": {"city": {"type": "string"}}})")},
             {"bash", nlohmann::ordered_json::object()}};
  return o;
}

// The one call the events add up to: name and arguments; fails the test unless there is exactly
// one complete call and no text.
void expect_one_call(const std::vector<ToolEvent>& events, const std::string& label) {
  const std::vector<ToolEvent> n = normalized(events);
  ASSERT_EQ(n.size(), 3u) << label << ": " << testing::describe(n);
  EXPECT_EQ(n[0].kind, ToolEvent::Kind::kCallBegin) << label;
  EXPECT_EQ(n[0].text, "get_weather") << label;
  EXPECT_EQ(n[1].kind, ToolEvent::Kind::kCallArgs) << label;
  EXPECT_EQ(nlohmann::ordered_json::parse(n[1].text), nlohmann::ordered_json::parse(R"({"city": "Oslo"})"))
      << label << ": " << n[1].text;
  EXPECT_EQ(n[2].kind, ToolEvent::Kind::kCallEnd) << label;
  EXPECT_TRUE(n[2].complete) << label;
}

TEST(CallPrefix, NamedOpeningAnnouncesTheCallAtOnceAndParsesWithTheModelsArguments) {
  for (const PrefixCase& c : cases()) {
    const std::string label = format_name(c.format);
    const auto prefix = call_prefix(c.format, "get_weather");
    ASSERT_TRUE(prefix.has_value()) << label;
    auto parser = make_parser(options_for(c.format));
    std::vector<ToolEvent> events;
    parser->push(*prefix, &events);
    // The call is announced before the model writes a byte (the API shows it at once).
    ASSERT_FALSE(events.empty()) << label;
    EXPECT_EQ(events.front(), begin_ev(0, "get_weather")) << label;
    parser->push(c.named_rest, &events);
    parser->finish(&events);
    expect_one_call(events, label);
  }
}

TEST(CallPrefix, RequiredOpeningLeavesTheNameToTheModel) {
  for (const PrefixCase& c : cases()) {
    const std::string label = format_name(c.format);
    const auto prefix = call_prefix(c.format, "");
    ASSERT_TRUE(prefix.has_value()) << label;
    auto parser = make_parser(options_for(c.format));
    std::vector<ToolEvent> events;
    parser->push(*prefix, &events);
    EXPECT_TRUE(events.empty()) << label << ": nothing to say before the name: " << testing::describe(events);
    parser->push(c.required_rest, &events);
    parser->finish(&events);
    expect_one_call(events, label);
  }
}

TEST(CallPrefix, NamesAreEscapedWhereTheFormatQuotesThem) {
  const auto hermes = call_prefix(ToolFormat::kHermes, "say\"hi");
  ASSERT_TRUE(hermes.has_value());
  EXPECT_EQ(*hermes, "<tool_call>\n{\"name\": \"say\\\"hi\", \"arguments\": ");
  EXPECT_FALSE(call_prefix(ToolFormat::kNone, "x").has_value());
}

}  // namespace
}  // namespace agentserve::tools
