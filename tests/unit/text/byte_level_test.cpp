#include "text/tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/utf8.h"

namespace agentserve {
namespace {

TEST(ByteLevel, AlphabetIsABijectionOntoPrintableCodePoints) {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = byte_to_unicode(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(cp).second) << "byte " << b << " shares code point " << cp;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    if (printable) {
      EXPECT_EQ(cp, static_cast<uint32_t>(b));
    } else {
      EXPECT_GE(cp, 256u);
      EXPECT_LT(cp, 324u);
    }
  }
  // GPT-2's well-known letters: space is U+0120 'Ġ', newline U+010A 'Ċ'.
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);
  EXPECT_EQ(byte_to_unicode('\t'), 0x109u);
}

TEST(ByteLevel, EveryByteStringRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string mapped = bytes_to_byte_level(all);
  EXPECT_TRUE(utf8_is_valid(mapped));
  std::string back;
  ASSERT_TRUE(byte_level_to_bytes(mapped, &back));
  EXPECT_EQ(back, all);
  EXPECT_EQ(bytes_to_byte_level(" hello\n"), "\xC4\xA0hello\xC4\x8A");  // "Ġhello Ċ"
}

TEST(ByteLevel, RejectsCharactersOutsideTheAlphabet) {
  std::string bytes;
  EXPECT_FALSE(byte_level_to_bytes(" ", &bytes));                  // U+0020 is not in it
  EXPECT_FALSE(byte_level_to_bytes("<\xEF\xBD\x9C>", &bytes));       // U+FF5C
  EXPECT_FALSE(byte_level_to_bytes("\xC5\x84", &bytes));            // U+0144, one past the end
  EXPECT_TRUE(byte_level_to_bytes("\xC5\x83", &bytes));             // U+0143, the last one
  EXPECT_EQ(bytes, std::string(1, '\xAD'));
}

}  // namespace
}  // namespace agentserve
