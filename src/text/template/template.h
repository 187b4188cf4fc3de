// Jinja2 chat templates, rendered byte for byte as Hugging Face transformers'
// apply_chat_template renders them.
//
// transformers compiles a chat template in an ImmutableSandboxedEnvironment with
// trim_blocks=True, lstrip_blocks=True and the loopcontrols extension, replaces the tojson
// filter with json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=), and adds
// raise_exception(msg), strftime_now(fmt) and the {% generation %} block. This engine parses
// that language once into a resolved syntax tree and renders it with Python's value semantics
// (str() of values, int/float arithmetic, truthiness, Jinja2's scoping and Undefined).
// What it refuses, and the few places it knowingly differs, are listed in
// src/text/template/README.md.
//
//   auto tmpl = Template::parse(source, "qwen3");           // once per model
//   Value ctx = Value::dict({{"messages", Value::from_json(messages)},
//                            {"tools", Value::none()},
//                            {"add_generation_prompt", Value::boolean(true)},
//                            {"eos_token", Value::string("<|im_end|>")}});
//   Result<std::string> prompt = tmpl->render(ctx);          // any thread, any number at once
//
// Thread safety: a parsed Template is immutable; render() may run on many threads at once,
// also over one shared context Value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "text/template/render_error.h"
#include "text/template/value.h"

namespace agentserve::tmpl {

struct TemplateError {
  TemplateErrorKind kind = TemplateErrorKind::kRender;
  // For kRaised exactly the template's message; otherwise Jinja2's message where agentserve
  // knows it ("'dict object' has no attribute 'content'").
  std::string message;
  std::string template_name;
  uint32_t line = 0;    // 1-based; 0 when unknown
  uint32_t column = 0;  // 1-based, in characters

  // "qwen3:12:5: message" (raise_exception: "qwen3:12:5: raise_exception: message").
  std::string to_string() const;
  // As a base Error: a raised or render error is the request's fault (kInvalidArgument), a
  // syntax error the template file's (kFormat), a refused construct kUnsupported.
  Error to_error() const;
};

// json.dumps(value, ensure_ascii=False) as transformers' tojson writes it (", " and ": "
// separators, key order kept): how templates print JSON, for callers that must match it.
Result<std::string> to_python_json(const Value& value);

class Template {
 public:
  Template();  // an empty template: renders ""
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

  static Result<Template> parse(std::string_view source, std::string name = "template");
  // Same, with the structured error.
  static bool parse(std::string_view source, std::string name, Template* out,
                    TemplateError* error);

  // Renders with `context` (a dict: messages, tools, add_generation_prompt, special tokens,
  // extra kwargs) as the template's variables.
  Result<std::string> render(const Value& context) const;
  bool render(const Value& context, std::string* out, TemplateError* error) const;

  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agentserve::tmpl
