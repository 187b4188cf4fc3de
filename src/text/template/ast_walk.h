// The direct sub-expressions of an expression, for the passes that walk the tree (scope
// analysis). Children come in evaluation order, which the passes rely on: Jinja2 numbers a
// frame's variables in order of first use.
#pragma once

#include "text/template/ast.h"

namespace agentserve::tmpl {

// Calls fn(child) for each non-null direct sub-expression of `e`. Names and constants have none.
template <class F>
void for_each_child(const Expr* e, F&& fn) {
  auto each = [&](Expr* child) {
    if (child != nullptr) fn(child);
  };
  auto args = [&](const CallArgs& a) {
    for (Expr* x : a.args) each(x);
    for (const auto& kv : a.kwargs) each(kv.second);
    each(a.dyn_args);
    each(a.dyn_kwargs);
  };
  switch (e->kind) {
    case ExprKind::kConst:
    case ExprKind::kName: return;
    case ExprKind::kGetattr: each(static_cast<const GetattrExpr*>(e)->obj); return;
    case ExprKind::kGetitem:
      each(static_cast<const GetitemExpr*>(e)->obj);
      each(static_cast<const GetitemExpr*>(e)->key);
      return;
    case ExprKind::kSlice: {
      const auto* s = static_cast<const SliceExpr*>(e);
      each(s->obj);
      each(s->start);
      each(s->stop);
      each(s->step);
      return;
    }
    case ExprKind::kCall:
      each(static_cast<const CallExpr*>(e)->callee);
      args(static_cast<const CallExpr*>(e)->args);
      return;
    case ExprKind::kFilter:
      each(static_cast<const FilterExpr*>(e)->obj);
      args(static_cast<const FilterExpr*>(e)->args);
      return;
    case ExprKind::kTest:
      each(static_cast<const TestExpr*>(e)->obj);
      args(static_cast<const TestExpr*>(e)->args);
      return;
    case ExprKind::kNeg:
    case ExprKind::kPos:
    case ExprKind::kNot: each(static_cast<const UnaryExpr*>(e)->operand); return;
    case ExprKind::kBinary:
    case ExprKind::kAnd:
    case ExprKind::kOr:
      each(static_cast<const BinaryExpr*>(e)->left);
      each(static_cast<const BinaryExpr*>(e)->right);
      return;
    case ExprKind::kConcat:
      for (Expr* p : static_cast<const ConcatExpr*>(e)->parts) each(p);
      return;
    case ExprKind::kCompare:
      each(static_cast<const CompareExpr*>(e)->first);
      for (const auto& op : static_cast<const CompareExpr*>(e)->ops) each(op.second);
      return;
    case ExprKind::kCondExpr: {
      const auto* c = static_cast<const CondExpr*>(e);
      each(c->test);
      each(c->then);
      each(c->otherwise);
      return;
    }
    case ExprKind::kList:
    case ExprKind::kTuple:
    case ExprKind::kDict:
      for (Expr* x : static_cast<const SeqExpr*>(e)->items) each(x);
      return;
  }
}

}  // namespace agentserve::tmpl
