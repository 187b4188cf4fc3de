// Builtin filters and tests, including transformers' tojson.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using nlohmann::ordered_json;
using testing::render;

TEST(TemplateFilters, Strings) {
  EXPECT_EQ(render("{{ '  a  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'aBc'|upper }}|{{ 'aBc'|lower }}"),
            "a|a|ABC|abc");
  EXPECT_EQ(render("{{ 'hello world'|capitalize }} {{ 'hello wORLD-foo(bar'|title }} {{ 'aaa'|replace('a','b',2) }}"),
            "Hello world Hello World-Foo(Bar bba");
  EXPECT_EQ(render("{{ 'one two  three'|wordcount }} {{ 'ab'|center(6) }} {{ 'hello world foo'|truncate(9) }}"),
            "3   ab   hello...");
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}"),
            "a\n    b\n\n    c|  a\n  b|a\n  \n  b");
  EXPECT_EQ(render("{{ '<a href=\"x\">&'|e }} {{ ('<x>'|safe) + '<y>' }} {{ '<b>x</b>  y &amp; z'|striptags }}"),
            "&lt;a href=&#34;x&#34;&gt;&amp; <x>&lt;y&gt; x y & z");
  EXPECT_EQ(render("{{ 'hello %s'|format('w') }} {{ 5|string }} {{ [1,2]|join(', ') }}"), "hello w 5 1, 2");
}

TEST(TemplateFilters, Numbers) {
  EXPECT_EQ(render("{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '0x1f'|int(0, 16) }}"),
            "42 4 7 3 31");
  EXPECT_EQ(render("{{ '1.5'|float }} {{ 'x'|float }} {{ -3|abs }} {{ 2.5|round }} {{ 3.5|round }}"),
            "1.5 0.0 3 2.0 4.0");
  EXPECT_EQ(render("{{ 2.675|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }} {{ 5|round }}"),
            "2.67 3.0 2.0 5");
}

TEST(TemplateFilters, SequencesAndMappings) {
  const auto users = ordered_json::parse(R"({"users": [{"name": "a", "admin": true, "age": 3},
                                                       {"name": "b", "age": 1}]})");
  EXPECT_EQ(render("{{ users|map(attribute='name')|join(',') }} {{ users|selectattr('admin')|map(attribute='name')|list }} "
                   "{{ users|rejectattr('admin')|list|length }} {{ users|sort(attribute='age')|map(attribute='name')|list }}",
                   users),
            "a,b ['a'] 1 ['b', 'a']");
  EXPECT_EQ(render("{{ users|sum(attribute='age') }} {{ (users|max(attribute='age')).name }} {{ users|map(attribute='x', default='?')|list }}", users),
            "4 a ['?', '?']");
  EXPECT_EQ(render("{{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ [0,1,'',none,'x']|select|list }}"),
            "[1, 3] [1, 3] [1, 'x']");
  EXPECT_EQ(render("{{ {'b':1,'A':2,'a':3}|dictsort }} {{ {'b':1,'a':2}|dictsort(by='value', reverse=true) }}"),
            "[('A', 2), ('a', 3), ('b', 1)] [('a', 2), ('b', 1)]");
  EXPECT_EQ(render("{{ ['b','A','c']|sort }} {{ ['a','A','b','a']|unique|list }} {{ [3,1,2]|reverse|list }} {{ 'abc'|reverse }}"),
            "['A', 'b', 'c'] ['a', 'b'] [2, 1, 3] cba");
  EXPECT_EQ(render("{{ [1,2,3,4,5]|batch(2, 0)|list }} {{ [1,2,3,4,5]|slice(2)|list }} {{ []|first }}|{{ [3,1]|last }}"),
            "[[1, 2], [3, 4], [5, 0]] [[1, 2, 3], [4, 5]] |1");
  EXPECT_EQ(render("{{ {'b':1,'a':2}|items|list }} {{ x|items|list }} {{ x|default('d') }} {{ none|default('d', true) }}"),
            "[('b', 1), ('a', 2)] [] d d");
  // Filters that return generators: always truthy, no len().
  EXPECT_EQ(render("{% if []|select('odd') %}t{% endif %}"), "t");
  EXPECT_EQ(render("{{ [1,2]|select('odd')|length }}"), "ERROR: object of type 'generator' has no len()");
}

TEST(TemplateFilters, TojsonIsTransformersJsonDumps) {
  EXPECT_EQ(render("{{ {'a': '\xC3\xA9', 'b': [1.5, none, true], 'c': {}} |tojson }}"),
            "{\"a\": \"\xC3\xA9\", \"b\": [1.5, null, true], \"c\": {}}");
  EXPECT_EQ(render("{{ {'b':1,'a':2}|tojson(sort_keys=true) }} {{ {'a':1}|tojson(separators=(',',':')) }}"),
            "{\"a\": 2, \"b\": 1} {\"a\":1}");
  EXPECT_EQ(render("{{ {'a':[1,2]}|tojson(indent=2) }}"), "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
  EXPECT_EQ(render("{{ '\xC3\xA9\\n\"<'|tojson(ensure_ascii=true) }} {{ '\\u2028\\x01'|tojson }}"),
            "\"\\u00e9\\n\\\"<\" \"\xE2\x80\xA8\\u0001\"");
  const auto ctx = ordered_json::parse(R"({"t": {"z": 1, "a": {"y": [1, 2.0, "x"]}}})");
  EXPECT_EQ(render("{{ t|tojson }}", ctx), "{\"z\": 1, \"a\": {\"y\": [1, 2.0, \"x\"]}}");
  EXPECT_EQ(render("{{ x|tojson }}"), "ERROR: Object of type Undefined is not JSON serializable");
}

TEST(TemplateFilters, UndefinedAndOddArguments) {
  EXPECT_EQ(render("{{ missing|int }}"), "ERROR: 'missing' is undefined");
  EXPECT_EQ(render("[{{ '%s' % missing }}]{{ 'abc' % [1] }}"), "[]abc");
  EXPECT_EQ(render("{{ [1, 2]|truncate(5) }} {{ 'abcdefghijklmnopq'|truncate(8, true) }}"), "[1, 2] abcde...");
  EXPECT_EQ(render("{{ [{'a': 1}]|unique|list }}"), "ERROR: unhashable type: 'dict'");
  EXPECT_EQ(render("{{ range(2) in {range(2): 1} }} {{ missing is callable }}"), "True True");
}

TEST(TemplateTests, Builtins) {
  EXPECT_EQ(render("{{ 1 is odd }}{{ 2 is even }}{{ 9 is divisibleby 3 }}{{ none is none }}{{ true is boolean }}"
                   "{{ 1 is boolean }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}{{ true is number }}"),
            "TrueTrueTrueTrueTrueFalseTrueFalseTrueTrue");
  EXPECT_EQ(render("{{ 'x' is string }}{{ {} is mapping }}{{ {} is sequence }}{{ 1 is sequence }}{{ x is sequence }}"
                   "{{ 'x' is iterable }}{{ 3 is iterable }}{{ range is callable }}{{ 'x' is callable }}"),
            "TrueTrueTrueFalseTrueTrueFalseTrueFalse");
  EXPECT_EQ(render("{{ 2 is in [1,2] }}{{ 1 is equalto 1 }}{{ 3 is gt 2 }}{{ x is undefined }}{{ x is defined }}"
                   "{{ 'upper' is filter }}{{ 'odd' is test }}{{ ('x'|e) is escaped }}{{ 'a' is lower }}"),
            "TrueTrueTrueTrueFalseTrueTrueTrueTrue");
}

}  // namespace
}  // namespace agentserve::tmpl
