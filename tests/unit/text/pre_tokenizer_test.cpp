#include "text/tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "text/tokenizer/regex.h"

namespace agentserve::tok {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(const std::vector<PreTokenizerStep>& steps, std::string_view text) {
  auto p = PreTokenizer::build(steps);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
  Pieces out;
  if (p.ok()) (*p)->split(text, [&](std::string_view piece) { out.emplace_back(piece); });
  return out;
}

PreTokenizerStep split_step(std::string pattern, SplitBehavior b, bool regex = false,
                            bool invert = false) {
  PreTokenizerStep s;
  s.kind = PreTokenizerStep::Kind::kSplit;
  s.pattern = std::move(pattern);
  s.pattern_is_regex = regex;
  s.behavior = b;
  s.invert = invert;
  s.where = "test";
  return s;
}

// The examples of Hugging Face's SplitDelimiterBehavior documentation.
TEST(PreTokenizer, SplitBehaviors) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(split({split_step("-", SplitBehavior::kRemoved)}, text),
            (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split({split_step("-", SplitBehavior::kIsolated)}, text),
            (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split({split_step("-", SplitBehavior::kMergedWithPrevious)}, text),
            (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split({split_step("-", SplitBehavior::kMergedWithNext)}, text),
            (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split({split_step("-", SplitBehavior::kContiguous)}, text),
            (Pieces{"the", "-", "final", "--", "countdown"}));
  EXPECT_EQ(split({split_step("-", SplitBehavior::kRemoved, false, /*invert=*/true)}, text),
            (Pieces{"-", "-", "-"}));
  EXPECT_EQ(split({split_step("[a-z]+", SplitBehavior::kIsolated, /*regex=*/true)}, text),
            (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(PreTokenizer, SequenceSplitsEachPieceAgainAndByteLevelAddsAPrefixSpace) {
  PreTokenizerStep digits;
  digits.kind = PreTokenizerStep::Kind::kDigits;
  digits.individual_digits = true;
  digits.where = "test";
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::kByteLevel;
  byte_level.add_prefix_space = true;
  byte_level.use_regex = true;
  byte_level.where = "test";
  EXPECT_EQ(split({split_step(",", SplitBehavior::kIsolated), digits}, "ab12,3"),
            (Pieces{"ab", "1", "2", ",", "3"}));
  EXPECT_EQ(split({byte_level}, "Hello world's"), (Pieces{" Hello", " world", "'s"}));
  EXPECT_EQ(split({byte_level}, " already"), (Pieces{" already"}));
}

TEST(Regex, BackslashSMeansUnicodeWhiteSpaceAsInOniguruma) {
  EXPECT_EQ(translate_pattern("\\s+(?!\\S)|[^\\s\\p{L}]"),
            "\\p{White_Space}+(?!\\P{White_Space})|[^\\p{White_Space}\\p{L}]");
  EXPECT_EQ(translate_pattern("\\\\s"), "\\\\s");  // an escaped backslash, then 's'
  auto re = Regex::compile("\\s+", "test");
  ASSERT_TRUE(re.ok());
  size_t b = 0, e = 0;
  // U+0085 (NEL) is White_Space; U+200B and U+FEFF are not.
  ASSERT_TRUE((*re)->find("a\xC2\x85" "b", 0, &b, &e));
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(e, 3u);
  EXPECT_FALSE((*re)->find("a\xE2\x80\x8B\xEF\xBB\xBF" "b", 0, &b, &e));
}

TEST(Regex, EmptyMatchesAreSkippedAndLongRunsDoNotOverflow) {
  auto re = Regex::compile("x*", "test");
  ASSERT_TRUE(re.ok());
  size_t b = 0, e = 0;
  ASSERT_TRUE((*re)->find("ab\xC3\xA9xx", 0, &b, &e));
  EXPECT_EQ(b, 4u);
  EXPECT_EQ(e, 6u);
  // The Qwen3 pattern over 4 MB of spaces then a letter: one match for the run.
  auto qwen = Regex::compile(
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      "test");
  ASSERT_TRUE(qwen.ok());
  const std::string spaces = std::string(4 << 20, ' ') + "x";
  ASSERT_TRUE((*qwen)->find(spaces, 0, &b, &e));
  EXPECT_EQ(b, 0u);
  EXPECT_EQ(e, spaces.size() - 2);
}

TEST(Regex, BadPatternIsAnUnsupportedError) {
  auto re = Regex::compile("(unclosed", "tokenizer.json: pre_tokenizer");
  ASSERT_FALSE(re.ok());
  EXPECT_EQ(re.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(re.error().message.find("tokenizer.json: pre_tokenizer"), std::string::npos);
  EXPECT_NE(re.error().message.find("(unclosed"), std::string::npos);
}

}  // namespace
}  // namespace agentserve::tok
