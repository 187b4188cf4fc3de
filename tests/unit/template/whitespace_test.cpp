// Lexer behaviour: trim_blocks, lstrip_blocks, whitespace-control markers, comments, raw blocks,
// newline normalisation.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using nlohmann::ordered_json;
using testing::render;

TEST(TemplateWhitespace, TrimBlocksRemovesFirstNewlineAfterBlockTag) {
  EXPECT_EQ(render("{% if true %}\nx\n{% endif %}\ny"), "x\ny");
  EXPECT_EQ(render("{% for i in [1,2] %}\n  - {{ i }}\n{% endfor %}\n"), "  - 1\n  - 2\n");
  // Variable tags are not trimmed.
  EXPECT_EQ(render("{{ 'x' }}\n{{ 'y' }}\n"), "x\ny");
}

TEST(TemplateWhitespace, LstripBlocksStripsIndentBeforeBlockAndCommentTags) {
  EXPECT_EQ(render("a\n  {% if true %}\n    x\n  {% endif %}\nb"), "a\n    x\nb");
  // The comment's indent goes, the spaces after it stay (trim_blocks takes only a newline
  // right after the tag).
  EXPECT_EQ(render("  {{ 'v' }}  \n  {# c #}  \nz"), "  v  \n  \nz");
  // Text before the tag on the same line keeps its spaces.
  EXPECT_EQ(render("a  {% if true %}b{% endif %}"), "a  b");
}

TEST(TemplateWhitespace, MinusAndPlusMarkers) {
  EXPECT_EQ(render("a\n  {%- if true -%}\n    x\n  {%- endif -%}\nb"), "axb");
  EXPECT_EQ(render("a\n  {%+ if true %}x{% endif +%}\nb"), "a\n  x\nb");
  EXPECT_EQ(render("a {{- ' b ' -}} c"), "a b c");
  EXPECT_EQ(render("{#- comment -#}  \n  text"), "text");
  EXPECT_EQ(render("  {#+ c +#}\n  t"), "  \n  t");
  // Python's whitespace, not just ASCII: U+3000 is stripped by '-'.
  EXPECT_EQ(render("a\xE3\x80\x80 {{- 'b' }}"), "ab");
}

TEST(TemplateWhitespace, RawBlocks) {
  EXPECT_EQ(render("{% raw %}{{ not rendered }}{% endraw %}\nafter"), "{{ not rendered }}after");
  EXPECT_EQ(render("x  {%- raw -%}  {{ y }}  {%- endraw -%}  z"), "x{{ y }}z");
}

TEST(TemplateWhitespace, NewlinesAreNormalisedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(render("line1\r\nline2\r\n{{ 'a' }}\r\n"), "line1\nline2\na");
  EXPECT_EQ(render("x\n\n"), "x\n");
  EXPECT_EQ(render("x\ry"), "x\ny");
}

TEST(TemplateWhitespace, CommentsAndStringEscapes) {
  EXPECT_EQ(render("a{# {{ hidden }} #}b"), "ab");
  EXPECT_EQ(render("{{ 'a\\nb\\tc\\\\d\\'e\\x41\\u00e9\\U0001F600' }}"),
            "a\nb\tc\\d'eA\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(render("{{ 'a' 'b' }}{{ \"x\\\"y\" }}"), "abx\"y");
  EXPECT_EQ(render("{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1.5e3 }} {{ 2.5E-3 }}"),
            "31 15 5 1000 1500.0 0.0025");
}

}  // namespace
}  // namespace agentserve::tmpl
