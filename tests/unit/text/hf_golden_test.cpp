// Hugging Face tokenizers 0.23.2 ids (tests/tokenizer/hf_golden.jsonl, made by hf_golden.py):
// tricky lines for Qwen3 and Llama 3, and the "qwen3_flags" variant that sets lstrip, rstrip,
// single_word and normalized on added tokens (flags_variant.json), in both modes.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "text/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

using nlohmann::json;

// The Qwen3 tokenizer.json with the changes of flags_variant.json.
std::unique_ptr<Tokenizer> load_flags_variant() {
  json tj = json::parse(testing::read_text_file(testing::model_dir("qwen3") + "/tokenizer.json"));
  const json variant =
      json::parse(testing::read_text_file(testing::test_data_dir() + "/tokenizer/flags_variant.json"));
  for (const json& change : variant["modify"]) {
    int found = 0;
    for (json& t : tj["added_tokens"]) {
      if (t["content"] != change["content"]) continue;
      ++found;
      for (const auto& [k, v] : change.items()) t[k] = v;
    }
    EXPECT_EQ(found, 1) << change.dump();
  }
  for (const json& a : variant["add"]) tj["added_tokens"].push_back(a);
  auto r = Tokenizer::load_from_strings(tj.dump(), "", "qwen3_flags");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(r).value() : nullptr;
}

void check_rows(const std::string& name, const Tokenizer& tok, size_t min_rows) {
  size_t n = 0;
  for (const json& row : testing::read_jsonl(testing::test_data_dir() + "/tokenizer/hf_golden.jsonl")) {
    if (row["tokenizer"] != name) continue;
    const std::string text = row["text"];
    const SpecialTokenMode mode =
        row["mode"] == "as_text" ? SpecialTokenMode::kAsText : SpecialTokenMode::kRecognize;
    const auto expected = row["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text, mode), expected)
        << name << " " << row["mode"] << " text " << json(text).dump();
    ++n;
  }
  EXPECT_GE(n, min_rows) << "hf_golden.jsonl rows for " << name;
}

TEST(HfGolden, Qwen3) { check_rows("qwen3", testing::qwen3(), 300); }
TEST(HfGolden, Llama3) { check_rows("llama3", testing::llama3(), 300); }

TEST(HfGolden, AddedTokenFlagsVariant) {
  auto tok = load_flags_variant();
  ASSERT_TRUE(tok);
  check_rows("qwen3_flags", *tok, 80);
  // A few of those rows spelled out, so that a failure reads as a rule.
  const int32_t im_end = 151645, think = 151667, cafe = 151669, im_end_x = 151670;
  // lstrip on <|im_end|>: the spaces before it are part of the token.
  EXPECT_EQ(tok->encode("a <|im_end|>"), (std::vector<int32_t>{tok->encode("a").front(), im_end}));
  // single_word on <think>: not matched inside a word.
  EXPECT_EQ(tok->encode("<think>").front(), think);
  EXPECT_NE(tok->encode("x<think>y")[1], think);
  // normalized: "cafe\u0301!" is matched after NFC, in either spelling.
  EXPECT_EQ(tok->encode("caf\xC3\xA9!"), (std::vector<int32_t>{cafe}));
  EXPECT_EQ(tok->encode("cafe\xCC\x81!"), (std::vector<int32_t>{cafe}));
  // Leftmost-longest: the non-special "<|im_end|>x" wins over "<|im_end|>" + "x", and still
  // matches when special tokens are text.
  EXPECT_EQ(tok->encode("<|im_end|>x"), (std::vector<int32_t>{im_end_x}));
  EXPECT_EQ(tok->encode("<|im_end|>x", SpecialTokenMode::kAsText), (std::vector<int32_t>{im_end_x}));
}

}  // namespace
}  // namespace agentserve
