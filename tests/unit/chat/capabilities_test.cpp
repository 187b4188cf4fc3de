// Capability probing against real templates: each expectation is a fact read off the template
// text (cited), so a probe that misreads a template fails here.
#include <gtest/gtest.h>

#include <map>

#include "chat_test_util.h"

namespace agentserve::chat {
namespace {

using testing::all_templates;
using testing::make;
using testing::qwen3_tokenizer;

std::map<std::string, TemplateCapabilities> probe_all() {
  std::map<std::string, TemplateCapabilities> out;
  for (const auto& t : all_templates()) {
    auto chat = make(t, qwen3_tokenizer());
    if (chat) out[t.name] = chat->capabilities();
  }
  return out;
}

TEST(Capabilities, MatchWhatTheTemplatesSay) {
  const auto caps = probe_all();
  ASSERT_GE(caps.size(), 14u);
  for (const auto& [name, c] : caps) {
    SCOPED_TRACE(name);
    // Every one of these renders a leading system message in some form, except Gemma 2's,
    // which raises "System role not supported" (rule 4 folds it into the first user turn).
    EXPECT_EQ(c.system_role, name != "extra/google-gemma-2-2b-it");
  }
  {
    // Qwen3: `message.role == "system" and not loop.first` renders in place; arguments "is
    // string" or tojson; `'</think>' in message.content` fails on null content.
    const auto& c = caps.at("npm/qwen3");
    EXPECT_TRUE(c.system_mid_conversation);
    EXPECT_TRUE(c.string_arguments && c.object_arguments);
    EXPECT_TRUE(c.null_content_as_empty);
    EXPECT_TRUE(c.renders_reasoning);
    EXPECT_EQ(c.tools, ToolsPlacement::kParameter);
    EXPECT_FALSE(c.requires_alternation);
    EXPECT_FALSE(c.developer_role);
  }
  // Llama 3.3 prints `tool_call.arguments | tojson`: a string would come out as a quoted string
  // literal, not as the JSON the model wrote, so only objects count.
  EXPECT_TRUE(caps.at("fixture/llama-3.3").object_arguments);
  EXPECT_FALSE(caps.at("fixture/llama-3.3").string_arguments);
  // Qwen3-Coder iterates `tool_call.arguments.items()`: objects only.
  EXPECT_TRUE(caps.at("fixture/qwen3-coder").object_arguments);
  EXPECT_FALSE(caps.at("fixture/qwen3-coder").string_arguments);
  {
    // DeepSeek V3.1 concatenates `tool['function']['arguments']` (strings only), gathers every
    // system message into the prompt's start (so not "in place"), renders no tool list.
    const auto& c = caps.at("fixture/deepseek-v3.1");
    EXPECT_TRUE(c.string_arguments);
    EXPECT_FALSE(c.object_arguments);
    EXPECT_FALSE(c.system_mid_conversation);
    EXPECT_EQ(c.tools, ToolsPlacement::kNone);
  }
  // DeepSeek V3 prints tool calls only `if message['content'] is none`.
  EXPECT_TRUE(caps.at("npm/deepseek_v3").calls_need_null_content);
  EXPECT_TRUE(caps.at("npm/deepseek_v3").string_arguments);
  {
    // Mistral Nemo raises unless ids are 9 alphanumerics and roles alternate.
    const auto& c = caps.at("fixture/mistral-nemo");
    EXPECT_TRUE(c.nine_char_call_ids);
    EXPECT_TRUE(c.requires_alternation);
  }
  // Phi-4-mini reads `message['tools']` of the system message.
  EXPECT_EQ(caps.at("fixture/phi-4-mini").tools, ToolsPlacement::kSystemMessage);
  {
    // Gemma 3: alternation enforced, no tool role, no tool calls.
    const auto& c = caps.at("npm/gemma3");
    EXPECT_TRUE(c.requires_alternation);
    EXPECT_FALSE(c.tool_role);
    EXPECT_FALSE(c.string_arguments || c.object_arguments);
    EXPECT_TRUE(c.content_parts);
  }
  // The npm Llama 3 template knows no tools at all.
  EXPECT_EQ(caps.at("npm/llama3").tools, ToolsPlacement::kNone);
  EXPECT_FALSE(caps.at("npm/llama3").string_arguments || caps.at("npm/llama3").object_arguments);
}

TEST(Capabilities, TemplateThatCannotRenderAUserMessageIsRefusedAtLoad) {
  auto bad = ChatTemplate::create("{{ raise_exception('nope') }}", "broken", {}, qwen3_tokenizer());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("single user message"), std::string::npos);
  EXPECT_NE(bad.error().message.find("nope"), std::string::npos);
  auto syntax = ChatTemplate::create("{% for x in %}", "syntax", {}, qwen3_tokenizer());
  ASSERT_FALSE(syntax.ok());
  // firefunction-v2 reads a `functions` variable that no API client sends: a clear load error.
  const auto path = testing::fs::path(AGENTSERVE_TEST_DATA_DIR) / "template" / "fixtures_extra" /
                    "fireworks-ai-llama-3-firefunction-v2.jinja";
  auto fire = ChatTemplate::create(testing::read_text(path), "firefunction", {}, qwen3_tokenizer());
  ASSERT_FALSE(fire.ok());
  EXPECT_NE(fire.error().message.find("'functions' is undefined"), std::string::npos)
      << fire.error().message;
}

// Named templates: "tool_use" is chosen when the conversation has tools (Command R, Hermes).
TEST(Capabilities, ToolUseTemplateIsSelectedWithTools) {
  auto chat = ChatTemplate::create({{"default", "DEFAULT {{ messages[0].content }}"},
                                    {"tool_use", "TOOLS {{ tools | length }} {{ messages[0].content }}"}},
                                   "pair", {}, qwen3_tokenizer());
  ASSERT_TRUE(chat.ok()) << chat.error().to_string();
  EXPECT_TRUE((*chat)->has_tool_use_template());
  Conversation c;
  c.messages.push_back(Message{});
  c.messages[0].content = {{ContentPart::Kind::kText, "hi", {}}};
  auto plain = (*chat)->render(c);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->text, "DEFAULT hi");
  Tool tool;
  tool.definition = nlohmann::ordered_json::parse(R"({"type": "function", "function": {"name": "f"}})");
  c.tools.push_back(tool);
  auto with_tools = (*chat)->render(c);
  ASSERT_TRUE(with_tools.ok());
  EXPECT_EQ(with_tools->text, "TOOLS 1 hi");
}

}  // namespace
}  // namespace agentserve::chat
