// Helpers for the template engine's unit tests: render a template text over a JSON context.
// Expected strings in these tests were checked against Jinja2 3.1 configured as transformers
// configures it (tests/template/jinja_oracle.py).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "text/template/template.h"

namespace agentserve::tmpl::testing {

using nlohmann::ordered_json;

// The rendered text, or "ERROR(<kind>): <message>" so that a failure shows in the diff.
inline std::string render(std::string_view source, const ordered_json& ctx = ordered_json::object()) {
  Template t;
  TemplateError err;
  if (!Template::parse(source, "t", &t, &err)) return "PARSE ERROR: " + err.message;
  std::string out;
  if (!t.render(Value::from_json(ctx), &out, &err)) return "ERROR: " + err.message;
  return out;
}

// The error of parsing or rendering `source`; kind kRender with an empty message if none.
inline TemplateError error_of(std::string_view source, const ordered_json& ctx = ordered_json::object()) {
  Template t;
  TemplateError err;
  if (!Template::parse(source, "t", &t, &err)) return err;
  std::string out;
  if (t.render(Value::from_json(ctx), &out, &err)) return TemplateError{};
  return err;
}

}  // namespace agentserve::tmpl::testing
