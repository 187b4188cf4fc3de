// Expression evaluation.
#include <cstring>

#include "text/template/evaluator.h"
#include "text/template/filters_internal.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

// The dict element or list item `obj.attr` / `obj[key]` finds without copying, or nullptr
// when the generic path (methods, fallbacks, undefined) must decide.
const Value* fast_attr(const Value& obj, std::string_view name) {
  if (obj.is_dict()) {
    // Dict methods win over keys for attribute access (Python getattr first).
    static constexpr std::string_view kDictAttrs[] = {"items", "keys", "values", "get", "copy",
                                                      "pop", "popitem", "update", "clear",
                                                      "setdefault", "fromkeys"};
    for (std::string_view a : kDictAttrs)
      if (name == a) return nullptr;
    if (!name.empty() && name[0] == '_') return nullptr;
    return obj.dict_obj()->find_str(name);
  }
  return nullptr;
}

const Value* fast_item(const Value& obj, const Value& key) {
  if (obj.is_dict()) return obj.dict_obj()->find(key);
  if (obj.is_list() && key.is_int() && detail::flavor_subscriptable(obj.list_obj()->flavor)) {
    const auto items = obj.as_list();
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t k = key.as_int() < 0 ? key.as_int() + n : key.as_int();
    if (k >= 0 && k < n) return &items[static_cast<size_t>(k)];
  }
  return nullptr;
}

}  // namespace

Value Evaluator::eval(const Expr* e, Frame* f) {
  try {
    return eval_inner(e, f);
  } catch (RenderError& err) {
    if (err.pos < 0) err.pos = e->pos;
    throw;
  }
}

const Value* Evaluator::ref(const Expr* e, Frame* f, Value* tmp) {
  switch (e->kind) {
    case ExprKind::kConst: return &static_cast<const ConstExpr*>(e)->value;
    case ExprKind::kName: {
      const auto* n = static_cast<const NameExpr*>(e);
      Frame* fr = f;
      for (int h = n->hops; h > 0; --h) fr = fr->parent;
      return &fr->slots[static_cast<size_t>(n->slot)];
    }
    case ExprKind::kGetattr: {
      const auto* g = static_cast<const GetattrExpr*>(e);
      Value t;
      const Value* o = ref(g->obj, f, &t);
      if (const Value* v = fast_attr(*o, g->attr)) {
        if (o != &t) return v;
        *tmp = *v;
        return tmp;
      }
      try {
        *tmp = env_getattr(*o, g->attr_value);
      } catch (RenderError& err) {
        if (err.pos < 0) err.pos = e->pos;
        throw;
      }
      return tmp;
    }
    case ExprKind::kGetitem: {
      const auto* g = static_cast<const GetitemExpr*>(e);
      Value t, kt;
      const Value* o = ref(g->obj, f, &t);
      const Value* k = ref(g->key, f, &kt);
      if (const Value* v = fast_item(*o, *k)) {
        if (o != &t) return v;
        *tmp = *v;
        return tmp;
      }
      try {
        *tmp = env_getitem(*o, *k);
      } catch (RenderError& err) {
        if (err.pos < 0) err.pos = e->pos;
        throw;
      }
      return tmp;
    }
    default:
      *tmp = eval(e, f);
      return tmp;
  }
}

Args Evaluator::eval_args(const CallArgs& a, Frame* f) {
  Args out;
  out.pos.reserve(a.args.size());
  for (const Expr* x : a.args) out.pos.push_back(eval(x, f));
  for (const auto& [k, x] : a.kwargs) out.kw.emplace_back(k, eval(x, f));
  if (a.dyn_args != nullptr) {
    for (Value& v : py_iterate(eval(a.dyn_args, f))) out.pos.push_back(std::move(v));
  }
  if (a.dyn_kwargs != nullptr) {
    const Value d = eval(a.dyn_kwargs, f);
    if (!d.is_dict()) throw_render("argument after ** must be a mapping, not " + std::string(py_type_name(d)));
    for (const auto& [k, v] : d.as_dict()) {
      if (!k.is_string()) throw_render("keywords must be strings");
      out.kw.emplace_back(std::string(k.as_string()), v);
    }
  }
  return out;
}

Value Evaluator::eval_call(const CallExpr* c, Frame* f) {
  if (c->callee->kind == ExprKind::kGetattr) {
    // obj.method(args): call builtin methods without materialising the bound method.
    const auto* g = static_cast<const GetattrExpr*>(c->callee);
    Value t;
    const Value* obj = ref(g->obj, f, &t);
    check_defined(*obj);
    if (obj->is_string() || obj->is_dict() || obj->is_list() || obj->kind() == ValueKind::kLoop ||
        obj->kind() == ValueKind::kCycler) {
      const Value keep = *obj;  // the arguments may run macros: hold the receiver
      const Args args = eval_args(c->args, f);
      Value result;
      if (try_call_method(*this, keep, g->attr, args, &result)) return result;
      return call(env_getattr(keep, g->attr_value), args);
    }
    const Value callee = env_getattr(*obj, g->attr_value);
    return call(callee, eval_args(c->args, f));
  }
  const Value callee = eval(c->callee, f);
  return call(callee, eval_args(c->args, f));
}

Value Evaluator::eval_filter(const FilterExpr* fe, Frame* f, const Value* block_text) {
  Value v;
  if (fe->obj == nullptr) {
    v = *block_text;
  } else if (fe->obj->kind == ExprKind::kFilter) {
    v = eval_filter(static_cast<const FilterExpr*>(fe->obj), f, block_text);
  } else {
    v = eval(fe->obj, f);
  }
  const Args args = eval_args(fe->args, f);
  try {
    if (fe->id < 0) {
      if (jinja_has_filter(fe->name))
        throw_unsupported("the '" + fe->name + "' filter is not supported by agentserve");
      throw_render("No filter named '" + fe->name + "' found.");
    }
    return call_filter(*this, fe->id, v, args);
  } catch (RenderError& err) {
    if (err.pos < 0) err.pos = fe->pos;
    throw;
  }
}

Value Evaluator::eval_compare(const CompareExpr* c, Frame* f) {
  Value lt;
  const Value* left = ref(c->first, f, &lt);
  Value held;
  for (size_t i = 0; i < c->ops.size(); ++i) {
    Value rt;
    const Value* right = ref(c->ops[i].second, f, &rt);
    if (!py_compare(c->ops[i].first, *left, *right)) return Value::boolean(false);
    if (i + 1 < c->ops.size()) {
      held = *right;
      left = &held;
    }
  }
  return Value::boolean(true);
}

Value Evaluator::eval_inner(const Expr* e, Frame* f) {
  switch (e->kind) {
    case ExprKind::kConst: return static_cast<const ConstExpr*>(e)->value;
    case ExprKind::kName:
    case ExprKind::kGetattr:
    case ExprKind::kGetitem: {
      Value tmp;
      const Value* v = ref(e, f, &tmp);
      return v == &tmp ? std::move(tmp) : *v;
    }
    case ExprKind::kSlice: {
      const auto* s = static_cast<const SliceExpr*>(e);
      const Value obj = eval(s->obj, f);
      const Value a = s->start ? eval(s->start, f) : Value::none();
      const Value b = s->stop ? eval(s->stop, f) : Value::none();
      const Value c = s->step ? eval(s->step, f) : Value::none();
      return py_slice(obj, a, b, c);
    }
    case ExprKind::kCall: return eval_call(static_cast<const CallExpr*>(e), f);
    case ExprKind::kFilter: return eval_filter(static_cast<const FilterExpr*>(e), f, nullptr);
    case ExprKind::kTest: {
      const auto* t = static_cast<const TestExpr*>(e);
      Value tmp;
      const Value* v = ref(t->obj, f, &tmp);
      const Value keep = v == &tmp ? std::move(tmp) : *v;
      const Args args = eval_args(t->args, f);
      if (t->id < 0) {
        if (jinja_has_test(t->name))
          throw_unsupported("the '" + t->name + "' test is not supported by agentserve");
        throw_render("No test named '" + t->name + "' found.");
      }
      return Value::boolean(call_test(*this, t->id, keep, args));
    }
    case ExprKind::kNeg: return op_neg(eval(static_cast<const UnaryExpr*>(e)->operand, f));
    case ExprKind::kPos: return op_pos(eval(static_cast<const UnaryExpr*>(e)->operand, f));
    case ExprKind::kNot: {
      Value tmp;
      return Value::boolean(!ref(static_cast<const UnaryExpr*>(e)->operand, f, &tmp)->truthy());
    }
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(e);
      Value lt, rt;
      const Value* l = ref(b->left, f, &lt);
      const Value* r = ref(b->right, f, &rt);
      return op_binary(b->op, *l, *r);
    }
    case ExprKind::kAnd: {
      const auto* b = static_cast<const BinaryExpr*>(e);
      Value l = eval(b->left, f);
      if (!l.truthy()) return l;
      return eval(b->right, f);
    }
    case ExprKind::kOr: {
      const auto* b = static_cast<const BinaryExpr*>(e);
      Value l = eval(b->left, f);
      if (l.truthy()) return l;
      return eval(b->right, f);
    }
    case ExprKind::kConcat: {
      std::string s;
      for (const Expr* p : static_cast<const ConcatExpr*>(e)->parts) {
        Value tmp;
        append_str(&s, *ref(p, f, &tmp));
      }
      return str_value(std::move(s));
    }
    case ExprKind::kCompare: return eval_compare(static_cast<const CompareExpr*>(e), f);
    case ExprKind::kCondExpr: {
      const auto* c = static_cast<const CondExpr*>(e);
      Value tmp;
      if (ref(c->test, f, &tmp)->truthy()) return eval(c->then, f);
      if (c->otherwise != nullptr) return eval(c->otherwise, f);
      return c->missing_else;
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      const auto* s = static_cast<const SeqExpr*>(e);
      std::vector<Value> items;
      items.reserve(s->items.size());
      for (const Expr* x : s->items) items.push_back(eval(x, f));
      return detail::make_list(std::move(items), e->kind == ExprKind::kTuple
                                                     ? detail::ListFlavor::kTuple
                                                     : detail::ListFlavor::kList);
    }
    case ExprKind::kDict: {
      const auto* s = static_cast<const SeqExpr*>(e);
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(s->items.size() / 2);
      for (size_t i = 0; i + 1 < s->items.size(); i += 2) {
        Value k = eval(s->items[i], f);
        if (detail::is_unhashable(k))
          throw_render(std::string("unhashable type: '") + py_type_name(k) + "'");
        entries.emplace_back(std::move(k), eval(s->items[i + 1], f));
      }
      return detail::make_dict(std::move(entries));
    }
  }
  return Value();
}

void Evaluator::emit(const Expr* e, Frame* f) {
  if (e->kind == ExprKind::kBinary && static_cast<const BinaryExpr*>(e)->op == BinOp::kAdd) {
    // a + b + c ...: stream the parts while they are plain strings (the common prompt-building
    // pattern); anything else falls back to evaluating the rest with Python's `+`.
    std::vector<const Expr*> chain;
    const Expr* x = e;
    while (x->kind == ExprKind::kBinary && static_cast<const BinaryExpr*>(x)->op == BinOp::kAdd) {
      chain.push_back(static_cast<const BinaryExpr*>(x)->right);
      x = static_cast<const BinaryExpr*>(x)->left;
    }
    chain.push_back(x);
    const size_t mark = out_->size();
    size_t i = chain.size();
    Value acc;
    bool streaming = true;
    try {
      while (i > 0) {
        Value tmp;
        const Value* v = ref(chain[i - 1], f, &tmp);
        --i;
        if (streaming && v->is_string() && !v->str_obj()->markup) {
          out_->append(v->as_string());
          continue;
        }
        if (streaming) {
          streaming = false;
          if (i + 1 == chain.size()) {
            acc = *v;  // the first operand is not a plain string
            continue;
          }
          acc = Value::string(std::string_view(*out_).substr(mark));
          out_->resize(mark);
        }
        acc = op_binary(BinOp::kAdd, acc, *v);
      }
    } catch (RenderError& err) {
      if (err.pos < 0) err.pos = e->pos;
      throw;
    }
    if (!streaming) append_str(out_, acc);
    return;
  }
  if (e->kind == ExprKind::kFilter && static_cast<const FilterExpr*>(e)->id == kFTojson &&
      static_cast<const FilterExpr*>(e)->obj != nullptr) {
    // {{ x|tojson }}: serialise straight into the output (tool schemas are the bulk of a prompt).
    const auto* fe = static_cast<const FilterExpr*>(e);
    Value tmp;
    const Value* v = ref(fe->obj, f, &tmp);
    const Value keep = v == &tmp ? std::move(tmp) : *v;
    const Args args = eval_args(fe->args, f);
    const size_t mark = out_->size();
    try {
      append_tojson(keep, args, out_);
    } catch (RenderError& err) {
      out_->resize(mark);
      if (err.pos < 0) err.pos = fe->pos;
      throw;
    }
    return;
  }
  if (e->kind == ExprKind::kConcat) {
    for (const Expr* p : static_cast<const ConcatExpr*>(e)->parts) {
      Value tmp;
      append_str(out_, *ref(p, f, &tmp));
    }
    return;
  }
  Value tmp;
  const Value* v = ref(e, f, &tmp);
  try {
    append_str(out_, *v);
  } catch (RenderError& err) {
    if (err.pos < 0) err.pos = e->pos;
    throw;
  }
}

Value Evaluator::apply_filter(std::string_view name, const Value& value, const Args& args) {
  const int id = lookup_filter(name);
  if (id < 0) {
    if (jinja_has_filter(name))
      throw_unsupported("the '" + std::string(name) + "' filter is not supported by agentserve");
    throw_render("No filter named '" + std::string(name) + "'.");
  }
  return call_filter(*this, id, value, args);
}

bool Evaluator::apply_test(std::string_view name, const Value& value, const Args& args) {
  const int id = lookup_test(name);
  if (id < 0) {
    if (jinja_has_test(name))
      throw_unsupported("the '" + std::string(name) + "' test is not supported by agentserve");
    throw_render("No test named '" + std::string(name) + "'.");
  }
  return call_test(*this, id, value, args);
}

}  // namespace agentserve::tmpl
