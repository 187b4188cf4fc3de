#include <gtest/gtest.h>

#include <random>

#include "base/utf8.h"
#include "text/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

// Feeds ids one by one; every chunk must be valid UTF-8 and the chunks must add up to decode().
void check_stream(const Tokenizer& tok, const std::string& text, size_t* held_back_seen) {
  const auto ids = tok.encode(text);
  StreamingDetokenizer stream(tok);
  std::string joined;
  for (int32_t id : ids) {
    const std::string chunk = stream.push(id);
    ASSERT_TRUE(utf8_is_valid(chunk)) << "chunk of " << text;
    joined += chunk;
    if (stream.pending_bytes() > 0) ++*held_back_seen;
    ASSERT_LE(stream.pending_bytes(), 3u);
  }
  joined += stream.flush();
  EXPECT_EQ(joined, tok.decode(ids)) << text;
}

TEST(StreamingDetokenizer, MultiByteCharactersAcrossTokens) {
  const std::vector<std::string> texts = {
      "caf\xC3\xA9 na\xC3\xAFve \xC3\xBC",                          // 2-byte
      "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C",  // 3-byte CJK
      "\xF0\x9F\x98\x80\xF0\x9F\x9A\x80 \xF0\x9D\x90\x80",            // 4-byte
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D"
      "\xF0\x9F\x91\xA6 family, \xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88 flag, "
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD thumbs, \xF0\x9F\x87\xBA\xF0\x9F\x87\xB8",  // ZWJ, skin, flag
      "\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\xAA\xE0\xB8\x94\xE0\xB8\xB5",      // Thai
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D",     // Arabic, Hebrew
  };
  for (const Tokenizer* tok : {&testing::qwen3(), &testing::llama3()}) {
    size_t held = 0;
    for (const auto& t : texts) check_stream(*tok, t, &held);
    EXPECT_GT(held, 0u) << "these texts split characters across tokens; something must wait";
  }
}

TEST(StreamingDetokenizer, WholeCorpus) {
  for (const Tokenizer* tok : {&testing::qwen3(), &testing::llama3()}) {
    size_t held = 0;
    for (const auto& t : testing::corpus()) check_stream(*tok, t, &held);
    EXPECT_GT(held, 100u);
  }
}

TEST(StreamingDetokenizer, HoldsBackAnIncompleteCharacterUntilItCompletes) {
  const Tokenizer& tok = testing::qwen3();
  // The 4-byte emoji U+1F9EA fed as four single-byte tokens.
  const std::string emoji = "\xF0\x9F\xA7\xAA";
  std::vector<int32_t> byte_ids;
  for (char c : emoji) {
    for (int32_t id = 0; id < tok.vocab_size(); ++id) {
      if (tok.token_bytes(id) == std::string(1, c)) {
        byte_ids.push_back(id);
        break;
      }
    }
  }
  ASSERT_EQ(byte_ids.size(), 4u);
  StreamingDetokenizer stream(tok);
  EXPECT_EQ(stream.push(byte_ids[0]), "");
  EXPECT_EQ(stream.push(byte_ids[1]), "");
  EXPECT_EQ(stream.push(byte_ids[2]), "");
  EXPECT_EQ(stream.pending_bytes(), 3u);
  EXPECT_EQ(stream.push(byte_ids[3]), emoji);
  EXPECT_EQ(stream.pending_bytes(), 0u);
  // An incomplete tail at the end becomes U+FFFD; a broken sequence mid-stream too.
  EXPECT_EQ(stream.push(byte_ids[0]), "");
  EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(stream.push(byte_ids[0]), "");
  EXPECT_EQ(stream.push(tok.encode("a").front()), "\xEF\xBF\xBD" "a");
}

TEST(StreamingDetokenizer, SkipsSpecialTokensWhenAsked) {
  const Tokenizer& tok = testing::qwen3();
  const auto ids = tok.encode("<|im_start|>assistant\nhi<|im_end|>");
  StreamingDetokenizer plain(tok), skipping(tok, /*skip_special_tokens=*/true);
  std::string a, b;
  for (int32_t id : ids) {
    a += plain.push(id);
    b += skipping.push(id);
  }
  EXPECT_EQ(a + plain.flush(), "<|im_start|>assistant\nhi<|im_end|>");
  EXPECT_EQ(b + skipping.flush(), "assistant\nhi");
}

}  // namespace
}  // namespace agentserve
