// Expressions with Python's semantics: arithmetic, str() / repr() of values, comparisons,
// membership, slicing, attribute and item lookup, conditional expressions, formatting.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using nlohmann::ordered_json;
using testing::render;

TEST(TemplateExpressions, IntAndFloatArithmetic) {
  EXPECT_EQ(render("{{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }}"),
            "3.5 2.0 3 -4 2 -2");
  // Unlike Python, Jinja2's ** is left-associative and unary minus binds tighter.
  EXPECT_EQ(render("{{ 7.5 % 2 }} {{ -7.5 // 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }}"),
            "1.5 -4.0 1024 0.5 64");
  EXPECT_EQ(render("{{ 1 + true }} {{ true + true }} {{ 1.0 + 1 }} {{ - 2 ** 2 }} {{ (-2) ** 2 }}"),
            "2 2 2.0 4 4");
  EXPECT_EQ(render("{{ 3 * 'ab' }} {{ [0] * 3 }} {{ [1] + [2] }} {{ 'a' + 'b' }}"),
            "ababab [0, 0, 0] [1, 2] ab");
}

TEST(TemplateExpressions, FloatsPrintAsPythonRepr) {
  EXPECT_EQ(render("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }}"),
            "1.0 0.30000000000000004 1e+16 1000000000000000.0 0.0001 1e-05");
  EXPECT_EQ(render("{{ [1.0, 1e100, 1.5e-10, 123456789012345678.0, 3.0e15] }}"),
            "[1.0, 1e+100, 1.5e-10, 1.2345678901234568e+17, 3000000000000000.0]");
  EXPECT_EQ(render("{{ -0.0 }} {{ 1/3 }} {{ x }}", {{"x", 2.5}}), "-0.0 0.3333333333333333 2.5");
}

TEST(TemplateExpressions, ValuesPrintAsPythonStr) {
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }}{{ (1,) }}{{ () }}{{ (1,2) }}"),
            "[1, 'a', None, True, 1.5, {'k': \"it's\"}](1,)()(1, 2)");
  EXPECT_EQ(render("{{ ['\\u200b', '\\u3000', '\\x7f', '\\n', 'a\"b', 'both \\'\"'] }}"),
            "['\\u200b', '\\u3000', '\\x7f', '\\n', 'a\"b', 'both \\'\"']");
  EXPECT_EQ(render("{{ none }} {{ true }} {{ x }}|", {{"y", 1}}), "None True |");
  EXPECT_EQ(render("{{ d.items() }} {{ d.keys() }} {{ range(3) }}", {{"d", {{"a", 1}}}}),
            "dict_items([('a', 1)]) dict_keys(['a']) range(0, 3)");
  EXPECT_EQ(render("{{ namespace(a=1) }}"), "<Namespace {'a': 1}>");
}

TEST(TemplateExpressions, ComparisonsAndMembership) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ [1,2] < [1,3] }} {{ none == none }}"),
            "True False True True True");
  EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }}"),
            "True True True True");
  EXPECT_EQ(render("{{ x == y }}", {{"x", {{"a", 1}, {"b", 2}}}, {"y", {{"b", 2}, {"a", 1}}}}), "True");
}

TEST(TemplateExpressions, Slicing) {
  EXPECT_EQ(render("{{ 'abc'[1:] }} {{ 'abc'[::-1] }} {{ [1,2,3,4,5][1:4:2] }} {{ [1,2,3][-2:] }}"),
            "bc cba [2, 4] [2, 3]");
  EXPECT_EQ(render("{{ 'h\xC3\xA9llo'[-3:] }} {{ 'h\xC3\xA9llo'[1] }} {{ [1,2,3][10:] }}"),
            "llo \xC3\xA9 []");
  EXPECT_EQ(render("{{ messages[::-1]|map(attribute='r')|join }}",
                   ordered_json::parse(R"({"messages": [{"r": "a"}, {"r": "b"}]})")),
            "ba");
}

TEST(TemplateExpressions, AttributeAndItemLookupFallBackToEachOther) {
  const ordered_json ctx = {{"d", {{"a", 1}, {"items", 5}}}, {"l", {1, 2}}};
  EXPECT_EQ(render("{{ d.a }} {{ d['a'] }} {{ d['items'] }} {{ d.get('a') }} {{ d.get('z', 9) }}", ctx),
            "1 1 5 1 9");
  EXPECT_EQ(render("{{ l.0 }} {{ l[-1] }} [{{ l[5] }}] [{{ d.missing }}]", ctx), "1 2 [] []");
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", ctx), "a=1;items=5;");
}

TEST(TemplateExpressions, ConditionalExpressionAndLogic) {
  EXPECT_EQ(render("{{ 'y' if x else 'n' }}{{ 'y' if not x }}|{{ x or 'd' }}{{ 0 and 1 }}", {{"x", 0}}),
            "ny|d0");
}

TEST(TemplateExpressions, StringFormattingAndMethods) {
  EXPECT_EQ(render("{{ '%s-%d-%.2f-%5s-%-5s|%x|%r' % ('a', 3.9, 2.345, 'b', 'c', 255, 'q') }}"),
            "a-3-2.35-    b-c    |ff|'q'");
  EXPECT_EQ(render("{{ '%(a)s and %(b)d' % {'a': 'x', 'b': 2} }} {{ '%s%%' % 5 }}"), "x and 2 5%");
  EXPECT_EQ(render("{{ '{} {}'.format(1, 'a') }} {{ '{0}-{name}'.format(5, name='n') }}"), "1 a 5-n");
  EXPECT_EQ(render("{{ '{:>5}|{:<4}|{:^6}|{:.2f}|{:05d}'.format('a','b','c',3.14159,42) }}"),
            "    a|b   |  c   |3.14|00042");
  EXPECT_EQ(render("{{ ' a b c '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.rsplit(' ', 1) }}"),
            "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a b', 'c']");
  EXPECT_EQ(render("{{ 'xxhixx'.strip('x') }} {{ 'abc'.startswith(('x','a')) }} {{ 'abc'.find('c') }}"),
            "hi True 2");
  EXPECT_EQ(render("{{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ 'x'.join(['a','b']) }}"),
            "['l1', 'l2', 'l3'] axb");
}

TEST(TemplateExpressions, UnicodeCaseMapping) {
  EXPECT_EQ(render("{{ '\xC3\x9F'|upper }} {{ '\xC4\xB0'|lower|length }} {{ 'hello w\xC3\xB6rld'.title() }}"),
            "SS 2 Hello W\xC3\xB6rld");
  EXPECT_EQ(render("{{ '\xE3\x80\x80 x \xC2\xA0'|trim }}|"), "x|");
}

}  // namespace
}  // namespace agentserve::tmpl
