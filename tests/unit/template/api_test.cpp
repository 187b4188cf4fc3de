// The public API: building Values, parse once / render many, concurrent renders, globals.
#include <gtest/gtest.h>

#include <ctime>
#include <thread>
#include <vector>

#include "template_test_util.h"

namespace agentserve::tmpl {
namespace {

using nlohmann::ordered_json;
using testing::render;

TEST(TemplateValues, FromJsonKeepsKeyOrderAndTypes) {
  const auto j = ordered_json::parse(R"({"z": 1, "a": 2.0, "m": [true, null, "s"], "o": {"y": 1, "b": 2}})");
  const Value v = Value::from_json(j);
  ASSERT_TRUE(v.is_dict());
  ASSERT_EQ(v.as_dict().size(), 4u);
  EXPECT_EQ(v.as_dict()[0].first.as_string(), "z");
  EXPECT_TRUE(v.find("z")->is_int());
  EXPECT_TRUE(v.find("a")->is_float());
  EXPECT_EQ(v.to_json(), j);
  EXPECT_EQ(render("{% for k in o %}{{ k }}{% endfor %}{{ o|tojson }}", j), "yb{\"y\": 1, \"b\": 2}");
}

TEST(TemplateValues, ScalarsDictsAndTruthiness) {
  const Value d = Value::dict({{"s", Value::string("x")},
                               {"i", Value::integer(-3)},
                               {"f", Value::number(0.5)},
                               {"b", Value::boolean(true)},
                               {"n", Value::none()},
                               {"l", Value::list({Value::integer(1)})},
                               {"t", Value::tuple({Value::integer(1)})}});
  Template t = std::move(Template::parse("{{ s }}{{ i }}{{ f }}{{ b }}{{ n }}{{ l }}{{ t }}{{ u }}")).value();
  EXPECT_EQ(*t.render(d), "x-30.5TrueNone[1](1,)");
  EXPECT_FALSE(Value::string("").truthy());
  EXPECT_FALSE(Value::list({}).truthy());
  EXPECT_FALSE(Value().truthy());
  EXPECT_TRUE(Value::number(0.1).truthy());
  // A repeated key keeps its first position and its last value, as in Python.
  const Value dup = Value::dict({{"a", Value::integer(1)}, {"b", Value::integer(2)}, {"a", Value::integer(3)}});
  EXPECT_EQ(*Template::parse("{{ d }}")->render(Value::dict({{"d", dup}})), "{'a': 3, 'b': 2}");
}

TEST(TemplateApi, EmptyTemplateAndMove) {
  Template empty;
  EXPECT_EQ(*empty.render(Value::dict({})), "");
  Template a = std::move(Template::parse("[{{ x }}]", "a")).value();
  Template b = std::move(a);
  EXPECT_EQ(b.name(), "a");
  EXPECT_EQ(*b.render(Value::dict({{"x", Value::integer(1)}})), "[1]");
}

TEST(TemplateApi, ConcurrentRendersOfOneTemplateAndOneContext) {
  const auto ctx_json = ordered_json::parse(R"({"messages": [
      {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "x": [1, 2]},
      {"role": "user", "content": "again"}], "tools": [{"name": "t", "p": {"a": 1}}]})");
  const Value ctx = Value::from_json(ctx_json);
  Template t = std::move(Template::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "<{{ m.role }}>{{ m.content|upper }}{{ m.x|default([])|tojson }}{% endfor %}"
      "{{ ns.n }}{{ tools|tojson }}{% macro f(a) %}{{ a }}{% endmacro %}{{ f(messages|length) }}")).value();
  const std::string want = *t.render(ctx);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 2000; ++i) {
        auto r = t.render(ctx);
        if (!r.ok() || *r != want) ++bad[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(bad[k], 0);
  EXPECT_EQ(want, "<user>HI[]<assistant>YO[1, 2]<user>AGAIN[]3[{\"name\": \"t\", \"p\": {\"a\": 1}}]3");
}

TEST(TemplateApi, Globals) {
  char year[8];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(year, sizeof year, "%Y", &tm);
  EXPECT_EQ(render("{{ strftime_now('%Y') }}"), year);
  EXPECT_EQ(render("{{ range(1, 10, 3)|list }} {{ dict(a=1) }} {{ namespace(a=1).a }}"), "[1, 4, 7] {'a': 1} 1");
  EXPECT_EQ(render("{% set j = joiner('|') %}{% for i in [1,2,3] %}{{ j() }}{{ i }}{% endfor %}"), "1|2|3");
  EXPECT_EQ(render("{% set c = cycler('a','b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}"), "abab");
  EXPECT_EQ(render("{% for x in range(100001) %}{% endfor %}"),
            "ERROR: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
}

TEST(TemplateApi, RealTemplateRendersTheExpectedPrompt) {
  // The Qwen3 template, from its fixture: the tool prompt and the tool-call block.
  const char* src =
      "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- '\\n' }}"
      "{{- tool | tojson }}{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}"
      "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + "
      "'<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
  const auto ctx = ordered_json::parse(R"({"tools": [{"type": "function", "function": {"name": "f",
      "parameters": {"b": 1, "a": "é"}}}], "messages": [{"role": "user", "content": "hi"}],
      "add_generation_prompt": true})");
  EXPECT_EQ(render(src, ctx),
            "<|im_start|>system\n\n{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": "
            "{\"b\": 1, \"a\": \"\xC3\xA9\"}}}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

}  // namespace
}  // namespace agentserve::tmpl
