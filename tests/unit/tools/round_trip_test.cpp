// Round trips through real chat templates: a conversation whose assistant turn has tool calls
// is rendered by agentserve::chat::ChatTemplate exactly as the model saw such turns in training;
// the assistant turn's text (between the generation prompt and the end of the turn) is fed to
// the parser of the format detect_format finds in the template, and the same calls must come
// back — names, arguments equal as JSON with their key order, and the content where the
// template keeps it. The text goes through the family's real tokenizer token by token, whole,
// and in random cuts.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "text/chat/chat_template.h"
#include "tool_test_util.h"
#include "tools/tool_parser.h"

namespace agentserve::tools::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kTestData = AGENTSERVE_TEST_DATA_DIR;

struct Call {
  std::string name;
  Json arguments;
};

const std::string kFileBody =
    "def main():\n\tprint(\"héllo 👩\u200d💻 \\\\ done\")\n    return {'a': [1, 2]}  # x < y\n";

Call write_call() {
  return {"write_file", Json{{"path", "src/app.py"}, {"content", kFileBody}}};
}
Call weather_call() {
  return {"get_weather",
          Json{{"location", "東京 🗼"},
               {"days", 3},
               {"hourly", true},
               {"options", Json{{"units", "metric"}, {"langs", Json::array({"ja", "en"})}}}}};
}

std::vector<chat::Tool> tools() {
  std::vector<chat::Tool> out;
  out.push_back({Json::parse(R"({"type": "function", "function": {"name": "write_file",
      "description": "Write a file", "parameters": {"type": "object", "properties": {
      "path": {"type": "string"}, "content": {"type": "string"}},
      "required": ["path", "content"]}}})")});
  out.push_back({Json::parse(R"({"type": "function", "function": {"name": "get_weather",
      "description": "Weather forecast", "parameters": {"type": "object", "properties": {
      "location": {"type": "string"}, "days": {"type": "integer"},
      "hourly": {"type": "boolean"}, "options": {"type": "object"}},
      "required": ["location"]}}})")});
  return out;
}

chat::Message text_message(chat::Role role, std::string text) {
  chat::Message m;
  m.role = role;
  m.content.push_back({chat::ContentPart::Kind::kText, std::move(text), ""});
  return m;
}

struct Template {
  std::string label;
  std::string source;
  Json special_tokens;
  std::string family;       // tokenizer package: renders the prompt and cuts the text
  std::string end_of_turn;  // the marker that ends the assistant turn (cut off)
};

struct Expected {
  ToolFormat format;
  std::string content;    // the content the parser must give back ("" where the template drops it)
  std::string reasoning;  // harmony renders a tool-call turn's content as analysis
};

// Renders the conversation with and without the assistant turn and returns the turn's text.
std::string assistant_turn(const Template& t, const std::string& content,
                           const std::vector<Call>& calls) {
  const Tokenizer& tok = family_tokenizer(t.family);
  auto chat_template = chat::ChatTemplate::create(t.source, t.label, t.special_tokens, tok);
  EXPECT_TRUE(chat_template.ok()) << t.label << ": " << chat_template.error().to_string();
  if (!chat_template.ok()) return {};
  chat::Conversation prompt;
  prompt.tools = tools();
  prompt.messages.push_back(
      text_message(chat::Role::kUser, "Fix src/app.py, then tell me the weather in 東京."));
  prompt.add_generation_prompt = true;
  chat::Conversation with_turn = prompt;
  with_turn.add_generation_prompt = false;
  chat::Message assistant = text_message(chat::Role::kAssistant, content);
  assistant.content_is_null = content.empty();
  if (content.empty()) assistant.content.clear();
  int n = 0;
  for (const Call& c : calls) {
    chat::ToolCall tc;
    tc.id = "call" + std::to_string(n++) + "abcd";  // 9 alphanumerics: Mistral's rule
    tc.name = c.name;
    tc.arguments = c.arguments;
    assistant.tool_calls.push_back(std::move(tc));
  }
  with_turn.messages.push_back(std::move(assistant));
  auto before = (*chat_template)->render(prompt);
  auto after = (*chat_template)->render(with_turn);
  EXPECT_TRUE(before.ok() && after.ok()) << t.label;
  if (!before.ok() || !after.ok()) return {};
  const std::string& p = before->text;
  const std::string& full = after->text;
  EXPECT_TRUE(full.starts_with(p)) << t.label << ": the turn does not follow the generation "
                                   << "prompt\nprompt:\n"
                                   << p << "\nwith the turn:\n"
                                   << full;
  if (!full.starts_with(p)) return {};
  std::string turn = full.substr(p.size());
  const size_t end = turn.rfind(t.end_of_turn);
  EXPECT_NE(end, std::string::npos) << t.label << ": no " << t.end_of_turn << " in\n" << turn;
  if (end != std::string::npos) turn.resize(end);
  // Qwen3 renders an (empty) <think> block first; the server's reasoning split takes it and
  // the whitespace after it off before the tool parser sees the answer.
  if (turn.starts_with("<think>")) {
    size_t after = turn.find("</think>");
    EXPECT_NE(after, std::string::npos) << t.label;
    after += std::string_view("</think>").size();
    while (after < turn.size() && (turn[after] == '\n' || turn[after] == ' ')) ++after;
    turn.erase(0, after);
  }
  return turn;
}

void round_trip(const Template& t, const Expected& want, const std::string& content,
                const std::vector<Call>& calls) {
  SCOPED_TRACE(t.label);
  EXPECT_EQ(detect_format(t.source), want.format);
  const std::string turn = assistant_turn(t, content, calls);
  ASSERT_FALSE(turn.empty());
  ParserOptions options;
  options.format = want.format;
  for (const chat::Tool& tool : tools())
    options.tools.push_back({tool.definition["function"]["name"].get<std::string>(),
                             tool.definition["function"]["parameters"]});

  std::vector<std::pair<std::string, std::vector<std::string>>> cuts = {
      {"whole", {turn}}, {"tokens", token_pieces(family_tokenizer(t.family), turn)}};
  for (uint32_t seed = 1; seed <= 20; ++seed)
    cuts.push_back({"random " + std::to_string(seed), random_pieces(turn, seed)});
  for (const auto& [how, pieces] : cuts) {
    TurnAccumulator acc;
    for (const ToolEvent& e : run_parser(options, pieces)) acc.add(e);
    const ParsedTurn got = acc.take();
    EXPECT_EQ(got.content, want.content) << how << "\nturn text:\n" << turn;
    EXPECT_EQ(got.reasoning, want.reasoning) << how;
    ASSERT_EQ(got.calls.size(), calls.size()) << how << "\nturn text:\n" << turn;
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(got.calls[i].name, calls[i].name) << how;
      const Json args = Json::parse(got.calls[i].arguments, nullptr, false);
      ASSERT_FALSE(args.is_discarded()) << how << ": " << got.calls[i].arguments;
      EXPECT_EQ(args.dump(), calls[i].arguments.dump()) << how << " call " << i;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

Template fixture(const std::string& file, Json special, std::string family,
                 std::string end_of_turn) {
  return {file, read_file(kTestData / "template" / "fixtures" / file), std::move(special),
          std::move(family), std::move(end_of_turn)};
}

const Json kQwenSpecial = {{"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}};

TEST(RoundTrip, Qwen3Hermes) {
  round_trip(fixture("qwen3.jinja", kQwenSpecial, "qwen3", "<|im_end|>"),
             {ToolFormat::kHermes, "I'll fix the file, then check the weather.", ""},
             "I'll fix the file, then check the weather.", {write_call(), weather_call()});
}

TEST(RoundTrip, Qwen3Coder) {
  round_trip(fixture("qwen3-coder.jinja", kQwenSpecial, "qwen3", "<|im_end|>"),
             {ToolFormat::kQwen3Coder, "I'll fix the file, then check the weather.", ""},
             "I'll fix the file, then check the weather.", {write_call(), weather_call()});
}

TEST(RoundTrip, Llama33Json) {
  // Llama 3.x renders one call per turn and no content next to it.
  round_trip(
      fixture("llama-3.3.jinja", {{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}},
              "llama3_1", "<|eot_id|>"),
      {ToolFormat::kLlama3Json, "", ""}, "", {weather_call()});
}

TEST(RoundTrip, MistralNemo) {
  round_trip(fixture("mistral-nemo.jinja", {{"bos_token", "<s>"}, {"eos_token", "</s>"}},
                     "mistral_nemo", "</s>"),
             {ToolFormat::kMistral, "", ""}, "", {write_call(), weather_call()});
}

TEST(RoundTrip, DeepSeekV31) {
  round_trip(
      fixture("deepseek-v3.1.jinja",
              {{"bos_token", "<｜begin▁of▁sentence｜>"}, {"eos_token", "<｜end▁of▁sentence｜>"}},
              "deepseek_v3", "<｜end▁of▁sentence｜>"),
      {ToolFormat::kDeepSeekV31, "Fixing, then the weather.", ""}, "Fixing, then the weather.",
      {write_call(), weather_call()});
}

TEST(RoundTrip, GptOssHarmony) {
  // The template renders a tool-call turn's content as its analysis message, one call per
  // turn; <|call|> ends generation (a stop token), so the turn is cut there.
  Template t{"openai-gpt-oss-120b.jinja",
             read_file(kTestData / "template" / "fixtures_extra" / "openai-gpt-oss-120b.jinja"),
             {{"bos_token", "<|startoftext|>"}, {"eos_token", "<|return|>"}},
             "gptoss",
             "<|call|>"};
  round_trip(t, {ToolFormat::kHarmony, "", "The user wants the weather in Tokyo."},
             "The user wants the weather in Tokyo.", {weather_call()});
}

}  // namespace
}  // namespace agentserve::tools::testing
