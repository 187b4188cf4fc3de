// Loading: tokenizer_config.json facts, model directories, and the errors for broken, missing
// or unsupported files (each must name the file and say what was expected and found).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "text/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json tiny_json() {
  json vocab = json::object();
  int id = 0;
  for (const char* s : {"a", "b", "ab", "\xC4\xA0"}) vocab[s] = id++;
  return {
      {"added_tokens", json::array({{{"id", 4}, {"content", "<s>"}, {"special", true},
                                     {"lstrip", false}, {"rstrip", false},
                                     {"single_word", false}, {"normalized", false}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b"})}}},
  };
}

Error load_error(const json& j, const std::string& config = "") {
  auto r = Tokenizer::load_from_strings(j.dump(), config, "broken/tokenizer.json");
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : r.error();
}

void expect_message(const Error& e, ErrorKind kind, std::initializer_list<const char*> parts) {
  EXPECT_EQ(e.kind, kind) << e.to_string();
  for (const char* p : parts) EXPECT_NE(e.message.find(p), std::string::npos) << e.message << " lacks: " << p;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("tok_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary) << text;
  }
};

TEST(Load, TinyTokenizerLoads) {
  auto r = Tokenizer::load_from_strings(tiny_json().dump(), "", "tiny");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)->encode("ab<s>ab"), (std::vector<int32_t>{2, 4, 2}));
  EXPECT_EQ((*r)->vocab_size(), 5);
  EXPECT_FALSE((*r)->bos_token_id().has_value());
  EXPECT_EQ((*r)->chat_template(), "");
}

TEST(Load, MissingFilesAndDirectories) {
  auto r = Tokenizer::load("/nonexistent/dir/tokenizer.json", "");
  ASSERT_FALSE(r.ok());
  expect_message(r.error(), ErrorKind::kNotFound, {"/nonexistent/dir/tokenizer.json"});
  auto d = Tokenizer::load_from_model_dir("/nonexistent/model");
  ASSERT_FALSE(d.ok());
  expect_message(d.error(), ErrorKind::kNotFound, {"/nonexistent/model", "expected a model directory"});
  TempDir empty;
  auto e = Tokenizer::load_from_model_dir(empty.path.string());
  ASSERT_FALSE(e.ok());
  expect_message(e.error(), ErrorKind::kNotFound, {"tokenizer.json", "not found"});
  auto is_dir = Tokenizer::load(empty.path.string(), "");
  ASSERT_FALSE(is_dir.ok());
  expect_message(is_dir.error(), ErrorKind::kInvalidArgument, {"found a directory"});
  empty.write("empty.json", "");
  auto empty_file = Tokenizer::load((empty.path / "empty.json").string(), "");
  ASSERT_FALSE(empty_file.ok());
  expect_message(empty_file.error(), ErrorKind::kFormat, {"empty.json", "found an empty file"});
  auto c = Tokenizer::load(testing::model_dir("qwen3") + "/tokenizer.json", "/nonexistent/cfg.json");
  ASSERT_FALSE(c.ok());
  expect_message(c.error(), ErrorKind::kNotFound, {"/nonexistent/cfg.json"});
}

TEST(Load, BrokenJson) {
  auto r = Tokenizer::load_from_strings("{\"model\": {", "", "broken/tokenizer.json");
  ASSERT_FALSE(r.ok());
  expect_message(r.error(), ErrorKind::kFormat, {"broken/tokenizer.json", "not valid JSON"});
  TempDir dir;
  dir.write("tokenizer.json", tiny_json().dump());
  dir.write("tokenizer_config.json", "[1, 2");
  auto c = Tokenizer::load_from_model_dir(dir.path.string());
  ASSERT_FALSE(c.ok());
  expect_message(c.error(), ErrorKind::kFormat, {"tokenizer_config.json", "not valid JSON"});
}

TEST(Load, WrongShapesSayExpectedAndFound) {
  json j = tiny_json();
  j["model"]["vocab"] = json::array();
  expect_message(load_error(j), ErrorKind::kFormat,
                 {"broken/tokenizer.json", "model.vocab", "expected an object", "found array"});
  j = tiny_json();
  j["model"]["merges"] = json::array({"a b c"});
  expect_message(load_error(j), ErrorKind::kFormat, {"model.merges[0]", "expected", "\"a b c\""});
  j = tiny_json();
  j["model"]["merges"] = json::array({"a z"});
  expect_message(load_error(j), ErrorKind::kFormat, {"model.merges[0]", "'z'", "not in model.vocab"});
  j = tiny_json();
  j["added_tokens"][0]["id"] = "four";
  expect_message(load_error(j), ErrorKind::kFormat, {"added_tokens[0].id", "found string \"four\""});
  j = tiny_json();
  j["model"]["vocab"]["a"] = -3;
  expect_message(load_error(j), ErrorKind::kFormat, {"model.vocab[\"a\"]", "non-negative"});
  expect_message(load_error(tiny_json(), "{\"chat_template\": 5}"), ErrorKind::kFormat,
                 {"chat_template", "found number 5"});
}

TEST(Load, UnsupportedFeaturesAreNamed) {
  json j = tiny_json();
  j["model"]["type"] = "WordPiece";
  expect_message(load_error(j), ErrorKind::kUnsupported, {"model.type", "\"WordPiece\"", "BPE"});
  j = tiny_json();
  j["normalizer"] = {{"type", "NFKC"}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"normalizer", "\"NFKC\""});
  j = tiny_json();
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}, {{"type", "Lowercase"}}})}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"normalizer.normalizers[1]", "\"Lowercase\""});
  j = tiny_json();
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"pre_tokenizer", "\"Metaspace\""});
  j = tiny_json();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({{{"type", "Digits"}}})}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"without a ByteLevel pre-tokenizer"});
  j = tiny_json();
  j["decoder"] = {{"type", "WordPiece"}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"decoder", "\"WordPiece\""});
  j = tiny_json();
  j["model"]["byte_fallback"] = true;
  expect_message(load_error(j), ErrorKind::kUnsupported, {"byte_fallback"});
  j = tiny_json();
  j["model"]["dropout"] = 0.1;
  expect_message(load_error(j), ErrorKind::kUnsupported, {"dropout"});
  j = tiny_json();
  j["model"]["continuing_subword_prefix"] = "##";
  expect_message(load_error(j), ErrorKind::kUnsupported, {"continuing_subword_prefix"});
  j = tiny_json();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({
      {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}},
      {{"type", "ByteLevel"}}})}};
  expect_message(load_error(j), ErrorKind::kUnsupported, {"pretokenizers[0]", "PCRE2", "(unclosed"});
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "a";
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways";
  expect_message(load_error(j), ErrorKind::kUnsupported, {"behavior", "\"Sideways\""});
}

TEST(Load, ConfigFactsOfTheShippedTokenizers) {
  const Tokenizer& qwen = testing::qwen3();
  EXPECT_EQ(qwen.eos_token(), "<|im_end|>");
  EXPECT_EQ(qwen.eos_token_id(), 151645);
  EXPECT_FALSE(qwen.bos_token_id().has_value());
  EXPECT_FALSE(qwen.add_bos_token());
  EXPECT_NE(qwen.chat_template().find("<|im_start|>"), std::string::npos);
  ASSERT_EQ(qwen.chat_templates().size(), 1u);
  EXPECT_EQ(qwen.chat_templates()[0].name, "default");

  const Tokenizer& llama = testing::llama3();
  EXPECT_EQ(llama.bos_token_id(), 128000);
  EXPECT_EQ(llama.eos_token_id(), 128001);
  EXPECT_TRUE(llama.clean_up_tokenization_spaces());
  // This tokenizer.json's post-processor adds no BOS and the config does not say.
  EXPECT_FALSE(llama.add_bos_token());
  EXPECT_NE(llama.chat_template().find("<|start_header_id|>"), std::string::npos);
}

TEST(Load, BosFromThePostProcessorNamedTemplatesAndJinjaFiles) {
  json j = tiny_json();
  j["post_processor"] = {
      {"type", "Sequence"},
      {"processors", json::array({{{"type", "ByteLevel"}},
                                  {{"type", "TemplateProcessing"},
                                   {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                                   {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {4}}, {"tokens", {"<s>"}}}}}}}})}};
  const json config = {
      {"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}}},
      {"eos_token", "<s>"},
      {"chat_template", json::array({{{"name", "default"}, {"template", "D"}},
                                     {{"name", "tool_use"}, {"template", "T"}}})}};
  auto r = Tokenizer::load_from_strings(j.dump(), config.dump(), "tiny");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)->bos_token_id(), 4);
  EXPECT_TRUE((*r)->add_bos_token());  // from TemplateProcessing
  EXPECT_EQ((*r)->chat_template(), "D");
  ASSERT_NE((*r)->chat_template_named("tool_use"), nullptr);
  EXPECT_EQ(*(*r)->chat_template_named("tool_use"), "T");
  EXPECT_EQ((*r)->chat_template_named("nope"), nullptr);
  // An explicit add_bos_token wins over the post-processor.
  json config2 = config;
  config2["add_bos_token"] = false;
  auto r2 = Tokenizer::load_from_strings(j.dump(), config2.dump(), "tiny");
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE((*r2)->add_bos_token());

  // A model directory whose templates live in .jinja files (newer transformers).
  TempDir dir;
  dir.write("tokenizer.json", j.dump());
  dir.write("tokenizer_config.json", R"({"eos_token": "<s>"})");
  dir.write("chat_template.jinja", "{{ messages }}");
  dir.write("additional_chat_templates/rag.jinja", "R");
  auto m = Tokenizer::load_from_model_dir(dir.path.string());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ((*m)->chat_template(), "{{ messages }}");
  ASSERT_NE((*m)->chat_template_named("rag"), nullptr);
  EXPECT_EQ((*m)->eos_token_id(), 4);
}

}  // namespace
}  // namespace agentserve
