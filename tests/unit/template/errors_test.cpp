// Errors: kinds, Jinja2's messages, and the template line/column they point at.
#include <gtest/gtest.h>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using testing::error_of;
using nlohmann::ordered_json;
using testing::render;

TEST(TemplateErrors, RaiseExceptionIsItsOwnKindWithTheExactMessage) {
  const TemplateError e = error_of("line1\n  {{ raise_exception('Roles must alternate!') }}");
  EXPECT_EQ(e.kind, TemplateErrorKind::kRaised);
  EXPECT_EQ(e.message, "Roles must alternate!");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 6u);  // the callee
  EXPECT_EQ(e.to_error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(e.to_string(), "t:2:6: raise_exception: Roles must alternate!");
  EXPECT_EQ(render("{% if x %}{{ raise_exception('not reached') }}{% endif %}ok"), "ok");
}

TEST(TemplateErrors, RenderErrorsCarryJinja2MessagesAndPositions) {
  TemplateError e = error_of("{% for m in messages %}\n{{ m.content + '!' }}{% endfor %}",
                             ordered_json::parse(R"({"messages": [{"role": "user"}]})"));
  EXPECT_EQ(e.kind, TemplateErrorKind::kRender);
  EXPECT_EQ(e.message, "'dict object' has no attribute 'content'");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 4u);
  EXPECT_EQ(error_of("{{ 'a' + 1 }}").message, "can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("{{ x.y }}").message, "'x' is undefined");
  EXPECT_EQ(render("[{{ none.x }}]"), "[]");  // printing an undefined is fine
  EXPECT_EQ(error_of("{{ none.x + 1 }}").message, "'None' has no attribute 'x'");
  EXPECT_EQ(error_of("{{ [0][3] + 1 }}").message, "list object has no element 3");
  EXPECT_EQ(error_of("{{ 5 // 0 }}").message, "integer division or modulo by zero");
  EXPECT_EQ(error_of("{{ (1 if false).attr }}").message,
            "the inline if-expression on line 1 evaluated to false and no else section was defined.");
  EXPECT_EQ(error_of("{% macro m() %}x{% endmacro %}{{ m(1) }}").message,
            "macro 'm' takes not more than 0 argument(s)");
  EXPECT_EQ(error_of("{{ 1 < 'a' }}").message, "'<' not supported between instances of 'int' and 'str'");
}

TEST(TemplateErrors, SyntaxErrorsPointAtTheTemplate) {
  TemplateError e = error_of("ok\n{% for x in y %}\nbody");
  EXPECT_EQ(e.kind, TemplateErrorKind::kSyntax);
  EXPECT_NE(e.message.find("'endfor' or 'else'"), std::string::npos) << e.message;
  e = error_of("a\n\n  {{ x + }}");
  EXPECT_EQ(e.kind, TemplateErrorKind::kSyntax);
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 10u);
  EXPECT_EQ(error_of("{% unknown %}").message, "Encountered unknown tag 'unknown'.");
  EXPECT_EQ(error_of("{{ 'x'|nofilter }}").message, "No filter named 'nofilter'.");
  EXPECT_EQ(error_of("{{ 'unterminated }}").kind, TemplateErrorKind::kSyntax);
  EXPECT_EQ(error_of("{# open").message, "Missing end of comment tag");
  // Inside an `if`, Jinja2 only fails when the unknown filter actually runs.
  EXPECT_EQ(render("{% if false %}{{ 'x'|nofilter }}{% endif %}ok"), "ok");
  EXPECT_EQ(error_of("{% if true %}{{ 'x'|nofilter }}{% endif %}").message, "No filter named 'nofilter' found.");
}

TEST(TemplateErrors, RefusedConstructsSayWhy) {
  for (const char* src : {"{% extends 'base' %}", "{% include 'x' %}", "{% import 'm' as m %}",
                          "{% block b %}{% endblock %}", "{{ x|groupby('a') }}",
                          "{% set y = l.pop() %}", "{{ [1]|map('upper') }}",
                          "{{ 2147483648 * 4294967296 }}"}) {
    const TemplateError e = error_of(src, {{"x", {1}}, {"l", {1}}});
    EXPECT_EQ(e.kind, TemplateErrorKind::kUnsupported) << src << " -> " << e.message;
    EXPECT_EQ(e.to_error().kind, ErrorKind::kUnsupported) << src;
  }
  // What the immutable sandbox forbids fails as in Jinja2.
  EXPECT_EQ(error_of("{{ l.append(1) }}", {{"l", {1}}}).message,
            "access to attribute 'append' of 'list' object is unsafe.");
}

}  // namespace
}  // namespace agentserve::tmpl
