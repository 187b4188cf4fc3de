// Renders differential-test cases with agentserve's template engine, for run_diff.py.
//
// stdin, JSON lines:  {"template": NAME, "source": TEXT}            (a template, before its cases)
//                     {"id": ID, "template": NAME, "context": {...}} (a case)
// stdout, JSON lines: {"id": ID, "ok": true, "output": TEXT}
//                     {"id": ID, "ok": false, "kind": "raised|render|syntax|unsupported", "message": TEXT}
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "text/template/template.h"

using agentserve::tmpl::Template;
using agentserve::tmpl::TemplateError;
using agentserve::tmpl::TemplateErrorKind;
using agentserve::tmpl::Value;
using nlohmann::ordered_json;

namespace {

const char* kind_name(TemplateErrorKind k) {
  switch (k) {
    case TemplateErrorKind::kSyntax: return "syntax";
    case TemplateErrorKind::kRaised: return "raised";
    case TemplateErrorKind::kUnsupported: return "unsupported";
    default: return "render";
  }
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::map<std::string, Template> templates;
  std::map<std::string, TemplateError> parse_errors;
  std::string line;
  double render_s = 0;
  size_t cases = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const ordered_json j = ordered_json::parse(line);
    const std::string name = j.at("template").get<std::string>();
    if (j.contains("source")) {
      Template t;
      TemplateError err;
      if (Template::parse(j.at("source").get<std::string>(), name, &t, &err)) {
        templates.insert_or_assign(name, std::move(t));
      } else {
        parse_errors[name] = err;
      }
      continue;
    }
    ordered_json out;
    out["id"] = j.at("id");
    auto pe = parse_errors.find(name);
    if (pe != parse_errors.end()) {
      out["ok"] = false;
      out["kind"] = kind_name(pe->second.kind);
      out["message"] = pe->second.to_string();
    } else {
      const Value ctx = Value::from_json(j.at("context"));
      std::string text;
      TemplateError err;
      const auto t0 = std::chrono::steady_clock::now();
      const bool ok = templates.at(name).render(ctx, &text, &err);
      render_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++cases;
      out["ok"] = ok;
      if (ok) {
        out["output"] = text;
      } else {
        out["kind"] = kind_name(err.kind);
        out["message"] = err.kind == TemplateErrorKind::kRaised ? err.message : err.to_string();
      }
    }
    std::cout << out.dump(-1, ' ', false, ordered_json::error_handler_t::replace) << '\n';
  }
  std::fprintf(stderr, "render_cases: %zu renders, %.1f ms total\n", cases, render_s * 1e3);
  return 0;
}
