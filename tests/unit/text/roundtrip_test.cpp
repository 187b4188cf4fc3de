// decode(encode(x)) over the whole corpus and the tricky lines, for both tokenizers.
#include <gtest/gtest.h>

#include "text/tokenizer/normalizer.h"
#include "text/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

std::vector<std::string> all_texts() {
  std::vector<std::string> texts = testing::corpus();
  const auto tricky = testing::tricky_lines();
  texts.insert(texts.end(), tricky.begin(), tricky.end());
  return texts;
}

TEST(RoundTrip, Llama3DecodesEveryTextBackExactly) {
  const Tokenizer& tok = testing::llama3();
  const auto texts = all_texts();
  ASSERT_GE(texts.size(), 10000u);
  for (const std::string& t : texts) {
    ASSERT_EQ(tok.decode(tok.encode(t)), t);
    ASSERT_EQ(tok.decode(tok.encode(t, SpecialTokenMode::kAsText)), t);
  }
}

// Qwen3 normalizes to NFC, so the round trip gives NFC(x): x itself for the texts that already
// are NFC, which the corpus makes sure is not all of them. Normalization runs on the text
// between added tokens (as in Hugging Face), so where a token such as "<|im_end|>" is followed
// by a combining mark, the result is only canonically equivalent to x ('>' + U+0338 stays apart
// instead of composing to U+226F).
TEST(RoundTrip, Qwen3DecodesEveryTextBackAsItsNfc) {
  const Tokenizer& tok = testing::qwen3();
  const tok::Normalizer nfc(tok::Normalizer::Kind::kNfc);
  auto normalized = [&](const std::string& s) {
    std::string storage;
    return std::string(nfc.normalize(s, &storage));
  };
  size_t changed_by_nfc = 0;
  size_t next_to_added_token = 0;
  const auto texts = all_texts();
  for (const std::string& t : texts) {
    const std::string expected = normalized(t);
    if (expected != t) ++changed_by_nfc;
    for (SpecialTokenMode mode : {SpecialTokenMode::kRecognize, SpecialTokenMode::kAsText}) {
      const std::string back = tok.decode(tok.encode(t, mode));
      if (back == expected) continue;
      ASSERT_EQ(normalized(back), expected) << "not even canonically equivalent";
      const bool has_added = t.find("<|") != std::string::npos || t.find("<think>") != std::string::npos ||
                             t.find("</think>") != std::string::npos ||
                             t.find("tool_call>") != std::string::npos;
      ASSERT_TRUE(has_added) << t;
      ++next_to_added_token;
    }
  }
  EXPECT_GT(changed_by_nfc, 100u);
  EXPECT_LT(changed_by_nfc, texts.size() / 5);
  EXPECT_LT(next_to_added_token, 200u);
}

TEST(RoundTrip, InvalidUtf8IsEncodedAsReplacementCharacters) {
  const Tokenizer& tok = testing::llama3();
  EXPECT_EQ(tok.decode(tok.encode("a\xFF" "b\xE2\x82")), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST(Normalizer, NfcFastPathsAndComposition) {
  const tok::Normalizer nfc(tok::Normalizer::Kind::kNfc);
  std::string storage;
  const std::string ascii = "plain ascii text";
  EXPECT_EQ(nfc.normalize(ascii, &storage).data(), ascii.data());  // no copy
  const std::string composed = "caf\xC3\xA9";
  EXPECT_EQ(nfc.normalize(composed, &storage).data(), composed.data());
  EXPECT_EQ(nfc.normalize("cafe\xCC\x81", &storage), "caf\xC3\xA9");       // e + U+0301
  EXPECT_EQ(nfc.normalize("e\xCC\x81", &storage), "\xC3\xA9");            // at the start
  EXPECT_EQ(nfc.normalize("\xE2\x84\xAB", &storage), "\xC3\x85");         // U+212B -> U+00C5
  EXPECT_EQ(nfc.normalize("\xE1\x84\x80\xE1\x85\xA1", &storage), "\xEA\xB0\x80");  // jamo -> 가
  EXPECT_EQ(nfc.normalize("a\xCC\x82\xCC\xA3", &storage), "\xE1\xBA\xAD");  // reorder -> ậ
  const tok::Normalizer none;
  EXPECT_EQ(none.normalize("cafe\xCC\x81", &storage), "cafe\xCC\x81");
}

}  // namespace
}  // namespace agentserve
