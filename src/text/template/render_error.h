// The exception the engine throws while rendering (engine-internal). Template::render catches it
// and returns it as a TemplateError; nothing outside src/text/template sees it.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

namespace agentserve::tmpl {

enum class TemplateErrorKind : uint8_t {
  kSyntax,       // the template text does not parse (Jinja2's TemplateSyntaxError)
  kRender,       // rendering failed: TypeError, UndefinedError ... as Jinja2 would raise
  kRaised,       // the template called raise_exception(message)
  kUnsupported,  // a construct agentserve refuses (listed in src/text/template/README.md)
};

struct RenderError : std::exception {
  TemplateErrorKind kind;
  std::string message;
  int64_t pos = -1;  // byte offset of the failing node, attached on the way out
  RenderError(TemplateErrorKind k, std::string m) : kind(k), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

[[noreturn]] inline void throw_render(std::string message) {
  throw RenderError(TemplateErrorKind::kRender, std::move(message));
}
[[noreturn]] inline void throw_unsupported(std::string message) {
  throw RenderError(TemplateErrorKind::kUnsupported, std::move(message));
}

}  // namespace agentserve::tmpl
