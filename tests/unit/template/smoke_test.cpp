#include <gtest/gtest.h>

#include "text/template/template.h"

namespace agentserve::tmpl {
namespace {
TEST(TemplateSmoke, Renders) {
  auto t = Template::parse("Hello {{ name }}!", "t");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto r = t->render(Value::dict({{"name", Value::string("x")}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "Hello x!");
}
}  // namespace
}  // namespace agentserve::tmpl
