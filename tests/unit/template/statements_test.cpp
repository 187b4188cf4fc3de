// Statements: if, for (loop variables, filtering, else, break/continue, recursion), set with
// Jinja2's scoping, namespaces, block set, macros and call blocks, filter, with, generation.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using nlohmann::ordered_json;
using testing::render;

TEST(TemplateStatements, IfElifElse) {
  const char* t = "{% if x > 2 %}big{% elif x > 0 %}small{% else %}none{% endif %}";
  EXPECT_EQ(render(t, {{"x", 3}}), "big");
  EXPECT_EQ(render(t, {{"x", 1}}), "small");
  EXPECT_EQ(render(t, {{"x", 0}}), "none");
}

TEST(TemplateStatements, LoopVariables) {
  EXPECT_EQ(render("{% for i in [3,4,5] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                   "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
                   "{{ loop.cycle('a','b') }}{{ loop.depth }}{{ loop.nextitem }}|{% endfor %}"),
            "1032TrueFalse3a14|2121FalseFalse3b15|3210FalseTrue3a1|");
  EXPECT_EQ(render("{% for x in l %}{{ loop.previtem }}/{{ loop.nextitem }};{% endfor %}",
                   {{"l", {"a", "b", "c"}}}),
            "/b;a/c;b/;");
  EXPECT_EQ(render("{% for x in [1,2] %}{{ loop }}{% endfor %}"), "<LoopContext 1/2><LoopContext 2/2>");
}

TEST(TemplateStatements, LoopFilterElseBreakContinue) {
  EXPECT_EQ(render("{% for i in [1,2,3,4] if i is even %}{{ loop.index }}/{{ loop.length }}:{{ i }} "
                   "{% else %}none{% endfor %}"),
            "1/2:2 2/2:4 ");
  EXPECT_EQ(render("{% for x in [] if x %}a{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in [1,2,3,4,5] %}{% if x == 2 %}{% continue %}{% endif %}"
                   "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "13");
}

TEST(TemplateStatements, ForElseRunsUnlessAnIterationCompleted) {
  // Jinja2 clears its "no iteration" flag at the end of the body: break/continue skip that.
  EXPECT_EQ(render("{% for x in [1] %}{% continue %}{% else %}E{% endfor %}"), "E");
  EXPECT_EQ(render("{% for x in [1, 2] %}{% if x == 2 %}{% break %}{% endif %}{% else %}E{% endfor %}"), "");
  EXPECT_EQ(render("{% for x in [1, 2] %}{% break %}{% else %}E{% endfor %}"), "E");
}

TEST(TemplateStatements, BreakInsideInlineBlocksLeavesTheLoop) {
  // set / filter / with bodies are inline in Jinja2's generated code, unlike macro bodies.
  EXPECT_EQ(render("{% for x in [1, 2] %}{% filter upper %}a{% break %}{% endfilter %}{% endfor %}|"), "|");
  EXPECT_EQ(render("{% for x in [1, 2] %}{% set y %}{{ x }}{% continue %}{% endset %}{{ y }}{% endfor %}|"), "|");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{% with z = x %}{{ z }}{% if z == 2 %}{% break %}{% endif %}{% endwith %}{% endfor %}"),
            "12");
  EXPECT_EQ(testing::error_of("{% for x in [1] %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}").kind,
            TemplateErrorKind::kSyntax);
}

TEST(TemplateStatements, RecursiveLoop) {
  const auto ctx = ordered_json::parse(
      R"({"tree": [{"n": "a", "c": [{"n": "b", "c": [{"n": "c"}]}]}, {"n": "d"}]})");
  EXPECT_EQ(render("{% for item in tree recursive %}{{ item.n }}{% if item.c %}[{{ loop(item.c) }}]"
                   "{% endif %}{{ loop.depth }}{% endfor %}",
                   ctx),
            "a[b[c3]2]1d1");
}

TEST(TemplateStatements, SetInsideForDoesNotLeakAndStartsFreshEachIteration) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}"),
            "231");
  EXPECT_EQ(render("{% for i in [1,2] %}{% if i == 2 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %}"),
            "[]");
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% for j in [1] %}{{ x }}"
                   "{% set x = 3 %}{{ x }}{% endfor %}{{ x }}{% endfor %}{{ x }}"),
            "2321");
  EXPECT_EQ(render("{% if true %}{% set x = 3 %}{% endif %}{{ x }}"), "3");
  EXPECT_EQ(render("{% for i in [1] %}{% endfor %}[{{ i }}]"), "[]");
}

TEST(TemplateStatements, ScopingFollowsJinja2CompileTimeRules) {
  // A name read in a loop before a later top-level set is that frame's (still unset) local.
  EXPECT_EQ(render("{% for i in [1] %}{{ x }}{% endfor %}{% set x = 5 %}{{ x }}", {{"x", 3}}), "5");
  EXPECT_EQ(render("{{ x }}{% set x = 5 %}{{ x }}", {{"x", 3}}), "35");
  // Macros see the template's variables at call time, not the caller's locals.
  EXPECT_EQ(render("{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}"), "2");
  EXPECT_EQ(render("{% macro m() %}{{ z }}{% endmacro %}{% for z in [5] %}[{{ m() }}]{% endfor %}"), "[]");
  EXPECT_EQ(render("{% set x = 1 %}{% macro m() %}{% set x = 9 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}"),
            "91");
}

TEST(TemplateStatements, NamespaceAndBlockSet) {
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}"
                   "{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render("{% set x %}inner {{ 1 + 1 }}{% endset %}[{{ x }}]{% set y | upper %}up{% endset %}{{ y }}"),
            "[inner 2]UP");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
}

TEST(TemplateStatements, MacrosDefaultsKwargsVarargsCaller) {
  EXPECT_EQ(render("{% macro m(a, b='B', c=none) -%}{{ a }}{{ b }}{{ c }}{{ varargs }}{{ kwargs }}"
                   "{%- endmacro %}{{ m(1) }}|{{ m(1, 2, 3, 4, 5) }}|{{ m(a=1, c=3, z=9) }}"),
            "1BNone(){}|123(4, 5){}|1B3(){'z': 9}");
  EXPECT_EQ(render("{% macro m() %}{{ caller('x') }}{% endmacro %}{% call(arg) m() %}[{{ arg }}]{% endcall %}"),
            "[x]");
  EXPECT_EQ(render("{% macro m(a, b=a) %}{{ b }}{% endmacro %}{{ m(4) }}"), "4");
  EXPECT_EQ(render("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}"
                   "{% endmacro %}{{ fact(5) }}"),
            "120");
  EXPECT_EQ(render("{% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }}"), "[]");
}

TEST(TemplateStatements, FilterWithGenerationPrint) {
  EXPECT_EQ(render("{% filter upper %}hello {{ 'w' }}{% endfilter %}"), "HELLO W");
  EXPECT_EQ(render("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]"), "3[]");
  EXPECT_EQ(render("{% generation %}gen {{ 1 }}{% set q = 1 %}{% endgeneration %}[{{ q }}]"), "gen 1[]");
  EXPECT_EQ(render("{% print 1, 2 %}"), "12");
}

}  // namespace
}  // namespace agentserve::tmpl
