// The tree-walking evaluator (engine-internal). One Evaluator renders one template once; it
// owns every frame and every object the render makes, so a parsed template may be rendered by
// many threads at once.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "text/template/ast.h"
#include "text/template/builtins.h"
#include "text/template/objects.h"
#include "text/template/value.h"

namespace agentserve::tmpl {

// The variables of one activation of a scope (Jinja2's frame). `parent` is the lexically
// enclosing frame.
struct Frame {
  Frame* parent = nullptr;
  const Scope* scope = nullptr;
  std::vector<Value> slots;
};

class Evaluator {
 public:
  Evaluator(const Ast& ast, const Value& context);

  // Renders the whole template into *out.
  void render(std::string* out);

  // ---- used by builtins ---------------------------------------------------------------------
  // Calls any callable value (macro, builtin, bound method, recursive loop).
  Value call(const Value& callee, const Args& args);
  Value apply_filter(std::string_view name, const Value& value, const Args& args);
  bool apply_test(std::string_view name, const Value& value, const Args& args);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // ---- expressions (eval_expr.cpp) ----------------------------------------------------------
  Value eval(const Expr* e, Frame* f);
  // Pointer to e's value: into stable storage (a frame slot, an element of an immutable
  // container reached from one), or into *tmp.
  const Value* ref(const Expr* e, Frame* f, Value* tmp);
  Value eval_inner(const Expr* e, Frame* f);
  Value eval_call(const CallExpr* c, Frame* f);
  Args eval_args(const CallArgs& a, Frame* f);
  Value eval_filter(const FilterExpr* fe, Frame* f, const Value* block_text);
  Value eval_compare(const CompareExpr* c, Frame* f);
  // Writes str(e) to out_, streaming string concatenations and tojson without temporaries.
  void emit(const Expr* e, Frame* f);

  // ---- statements (exec_stmt.cpp) -----------------------------------------------------------
  Flow exec(const Body& body, Frame* f);
  Flow exec_stmt(const Stmt* s, Frame* f);
  void exec_for(const ForStmt* s, Frame* f, const Value& iterable, int64_t depth0);
  Frame* new_frame(const Scope* scope, Frame* parent);
  void enter(Frame* f);
  void leave(Frame* f);
  void assign(const Target& t, Value v, Frame* f);
  Value resolve_name(const SlotInit& init) const;
  Value make_macro(const MacroDef* def, Frame* f);
  Value invoke_macro(const detail::CallableObj* m, const Args& args);
  // Runs `body` with output captured into *text; returns how the body ended (a break or
  // continue inside a set / filter block leaves the enclosing loop, as in Jinja2).
  Flow capture(const Body& body, Frame* f, std::string* text);

  friend Value call_loop_recurse(Evaluator& ev, const Value& loop, const Args& args);

  const Ast& ast_;
  const Value& ctx_;
  std::string* out_ = nullptr;
  std::deque<Frame> frames_;
  // Context lookups, once per name per render: the context and the globals do not change
  // while rendering (and Jinja2's context.vars only ever gains names that are frame slots).
  std::vector<Value> resolved_;
  std::vector<bool> resolved_done_;
  int depth_ = 0;  // macro / recursion depth, bounded
};

}  // namespace agentserve::tmpl
