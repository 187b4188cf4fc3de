#include "text/template/template.h"

#include <new>

#include "text/template/ast.h"
#include "text/template/evaluator.h"
#include "text/template/lexer.h"
#include "text/template/objects.h"
#include "text/template/parser.h"
#include "text/template/py_format.h"
#include "text/template/scope.h"

namespace agentserve::tmpl {

struct Template::Impl {
  std::string name;
  std::string source;  // normalised: positions refer to it
  Ast ast;

  // Every Value the tree holds: made immortal after parsing (renders on many threads copy
  // them without counting), made countable again before the tree is freed.
  template <class Fn>
  void for_each_constant(Fn&& fn) {
    for (auto& e : ast.exprs) {
      switch (e->kind) {
        case ExprKind::kConst: fn(static_cast<ConstExpr*>(e.get())->value); break;
        case ExprKind::kName: fn(static_cast<NameExpr*>(e.get())->name_value); break;
        case ExprKind::kGetattr: fn(static_cast<GetattrExpr*>(e.get())->attr_value); break;
        case ExprKind::kCondExpr: fn(static_cast<CondExpr*>(e.get())->missing_else); break;
        default: break;
      }
    }
    for (auto& s : ast.scopes)
      for (SlotInit& init : s->slots) fn(init.name_value);
  }

  ~Impl() {
    for_each_constant([](Value& v) { detail::set_mode_deep(v, detail::RefMode::kShared); });
  }

  TemplateError error_at(TemplateErrorKind kind, std::string message, int64_t pos) const {
    TemplateError e;
    e.kind = kind;
    e.message = std::move(message);
    e.template_name = name;
    if (pos >= 0) offset_to_line_col(source, static_cast<uint32_t>(pos), &e.line, &e.column);
    return e;
  }
};

namespace {

// Render-local objects are counted without atomics; restores the mode on every exit.
struct LocalAllocScope {
  detail::RefMode saved = detail::alloc_mode();
  LocalAllocScope() { detail::set_alloc_mode(detail::RefMode::kLocal); }
  ~LocalAllocScope() { detail::set_alloc_mode(saved); }
};

}  // namespace

std::string TemplateError::to_string() const {
  std::string s = template_name;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (kind == TemplateErrorKind::kRaised) s += "raise_exception: ";
  if (kind == TemplateErrorKind::kUnsupported) s += "unsupported: ";
  return s + message;
}

Error TemplateError::to_error() const {
  switch (kind) {
    case TemplateErrorKind::kSyntax: return make_error(ErrorKind::kFormat, "chat template " + to_string());
    case TemplateErrorKind::kUnsupported: return make_error(ErrorKind::kUnsupported, "chat template " + to_string());
    default: return make_error(ErrorKind::kInvalidArgument, "chat template " + to_string());
  }
}

Template::Template() : impl_(std::make_unique<Impl>()) { impl_->ast.root_scope = impl_->ast.scope(); }
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

const std::string& Template::name() const { return impl_->name; }

bool Template::parse(std::string_view source, std::string name, Template* out,
                     TemplateError* error) {
  Template t;
  Impl& im = *t.impl_;
  im.name = std::move(name);
  im.source = normalize_template_source(source);
  std::vector<Token> tokens;
  LexError lex_error;
  if (!lex_template(im.source, &tokens, &lex_error)) {
    *error = im.error_at(TemplateErrorKind::kSyntax, lex_error.message, lex_error.pos);
    return false;
  }
  ParseError parse_error;
  if (!parse_template(tokens, &im.ast, &parse_error)) {
    *error = im.error_at(parse_error.unsupported ? TemplateErrorKind::kUnsupported
                                                 : TemplateErrorKind::kSyntax,
                         parse_error.message, parse_error.pos);
    return false;
  }
  ScopeError scope_error;
  if (!resolve_scopes(&im.ast, &scope_error)) {
    *error = im.error_at(TemplateErrorKind::kSyntax, scope_error.message, scope_error.pos);
    return false;
  }
  for (auto& e : im.ast.exprs) {
    if (e->kind != ExprKind::kCondExpr) continue;
    auto* c = static_cast<CondExpr*>(e.get());
    if (c->otherwise != nullptr) continue;
    uint32_t line, col;
    offset_to_line_col(im.source, c->pos, &line, &col);
    c->missing_else = Value::make_undefined(
        detail::kUndefHint, 0,
        detail::new_str("the inline if-expression on line " + std::to_string(line) +
                        " evaluated to false and no else section was defined."));
  }
  im.for_each_constant([](Value& v) { detail::set_mode_deep(v, detail::RefMode::kImmortal); });
  *out = std::move(t);
  return true;
}

Result<Template> Template::parse(std::string_view source, std::string name) {
  Template t;
  TemplateError err;
  if (!parse(source, std::move(name), &t, &err)) return err.to_error();
  return t;
}

bool Template::render(const Value& context, std::string* out, TemplateError* error) const {
  out->clear();
  LocalAllocScope local;
  try {
    Evaluator ev(impl_->ast, context);
    ev.render(out);
    return true;
  } catch (const RenderError& e) {
    *error = impl_->error_at(e.kind, e.message, e.pos);
  } catch (const std::bad_alloc&) {
    *error = impl_->error_at(TemplateErrorKind::kRender, "out of memory while rendering", -1);
  } catch (const std::exception& e) {
    *error = impl_->error_at(TemplateErrorKind::kRender, e.what(), -1);
  }
  out->clear();
  return false;
}

Result<std::string> to_python_json(const Value& value) {
  std::string out;
  try {
    append_json(&out, value, JsonOptions{});
  } catch (const RenderError& e) {
    return make_error(ErrorKind::kInvalidArgument, e.message);
  }
  return out;
}

Result<std::string> Template::render(const Value& context) const {
  std::string out;
  TemplateError err;
  if (!render(context, &out, &err)) return err.to_error();
  return out;
}

}  // namespace agentserve::tmpl
