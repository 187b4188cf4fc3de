// Statement execution, frames, macros and loops.
#include "text/template/evaluator.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

constexpr int kMaxDepth = 200;  // macro / recursive-loop nesting (Python's recursion guard)

Value undefined_named(const Value& name_value) {
  detail::Object* o = name_value.obj();
  detail::retain(o);
  return Value::make_undefined(detail::kUndefName, 0, o);
}

Value undefined_hint(std::string hint) {
  return Value::make_undefined(detail::kUndefHint, 0, detail::new_str(hint));
}

}  // namespace

Evaluator::Evaluator(const Ast& ast, const Value& context)
    : ast_(ast),
      ctx_(context),
      resolved_(static_cast<size_t>(ast.num_resolve_ids)),
      resolved_done_(static_cast<size_t>(ast.num_resolve_ids), false) {}

void Evaluator::render(std::string* out) {
  out_ = out;
  Frame* root = new_frame(ast_.root_scope, nullptr);
  enter(root);
  exec(ast_.body, root);
}

Frame* Evaluator::new_frame(const Scope* scope, Frame* parent) {
  frames_.emplace_back();
  Frame* f = &frames_.back();
  f->parent = parent;
  f->scope = scope;
  f->slots.resize(scope->slots.size());
  return f;
}

Value Evaluator::resolve_name(const SlotInit& init) const {
  if (ctx_.is_dict()) {
    if (const Value* v = ctx_.dict_obj()->find_str(init.name)) return *v;
  }
  Value g = lookup_global(init.name);
  if (!g.is_undefined()) return g;
  return undefined_named(init.name_value);
}

void Evaluator::enter(Frame* f) {
  const auto& inits = f->scope->slots;
  for (size_t i = 0; i < inits.size(); ++i) {
    const SlotInit& init = inits[i];
    switch (init.kind) {
      case SlotInit::kParam: break;
      case SlotInit::kResolve: {
        const auto id = static_cast<size_t>(init.resolve_id);
        if (!resolved_done_[id]) {
          resolved_[id] = resolve_name(init);
          resolved_done_[id] = true;
        }
        f->slots[i] = resolved_[id];
        break;
      }
      case SlotInit::kAlias: {
        Frame* o = f;
        for (int h = init.alias_hops; h > 0; --h) o = o->parent;
        f->slots[i] = o->slots[static_cast<size_t>(init.alias_slot)];
        break;
      }
      case SlotInit::kUndefined: f->slots[i] = undefined_named(init.name_value); break;
    }
  }
}

void Evaluator::leave(Frame* f) {
  const auto& inits = f->scope->slots;
  for (size_t i = 0; i < inits.size(); ++i) f->slots[i] = undefined_named(inits[i].name_value);
}

void Evaluator::assign(const Target& t, Value v, Frame* f) {
  switch (t.kind) {
    case Target::kName: {
      Frame* o = f;
      for (int h = t.name->hops; h > 0; --h) o = o->parent;
      o->slots[static_cast<size_t>(t.name->slot)] = std::move(v);
      return;
    }
    case Target::kNsAttr: {
      Frame* o = f;
      for (int h = t.name->hops; h > 0; --h) o = o->parent;
      const Value& ns = o->slots[static_cast<size_t>(t.name->slot)];
      if (ns.kind() != ValueKind::kNamespace) {
        RenderError err(TemplateErrorKind::kRender, "cannot assign attribute on non-namespace object");
        err.pos = t.pos;
        throw err;
      }
      static_cast<detail::NamespaceObj*>(ns.obj())->set(t.attr, std::move(v));
      return;
    }
    case Target::kTuple: {
      std::vector<Value> items = py_iterate(v);
      if (items.size() != t.items.size()) {
        RenderError err(TemplateErrorKind::kRender,
                        items.size() < t.items.size()
                            ? "not enough values to unpack (expected " + std::to_string(t.items.size()) +
                                  ", got " + std::to_string(items.size()) + ")"
                            : "too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
        err.pos = t.pos;
        throw err;
      }
      for (size_t i = 0; i < items.size(); ++i) assign(t.items[i], std::move(items[i]), f);
      return;
    }
  }
}

Evaluator::Flow Evaluator::capture(const Body& body, Frame* f, std::string* text) {
  std::string* saved = out_;
  out_ = text;
  Flow fl;
  try {
    fl = exec(body, f);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return fl;
}

Evaluator::Flow Evaluator::exec(const Body& body, Frame* f) {
  for (const Stmt* s : body) {
    const Flow fl = exec_stmt(s, f);
    if (fl != Flow::kNormal) return fl;
  }
  return Flow::kNormal;
}

Value Evaluator::make_macro(const MacroDef* def, Frame* f) {
  auto* c = new detail::CallableObj();
  c->ckind = detail::CallableKind::kMacro;
  c->macro = def;
  c->frame = f;
  c->name = def->name;
  return Value::adopt(ValueKind::kCallable, c);
}

Value Evaluator::invoke_macro(const detail::CallableObj* m, const Args& args_in) {
  const MacroDef& d = *m->macro;
  if (++depth_ > kMaxDepth) {
    --depth_;
    throw_render("maximum recursion depth exceeded");
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};
  Frame* f = new_frame(d.scope, m->frame);
  enter(f);
  std::vector<std::pair<std::string, Value>> kw = args_in.kw;
  const auto pop_kw = [&](std::string_view name, Value* out) {
    for (auto it = kw.begin(); it != kw.end(); ++it) {
      if (it->first == name) {
        *out = std::move(it->second);
        kw.erase(it);
        return true;
      }
    }
    return false;
  };
  const size_t n = d.params.size();
  std::vector<bool> given(n, false);
  bool found_caller = false;
  const size_t npos = std::min(n, args_in.pos.size());
  for (size_t i = 0; i < npos; ++i) {
    f->slots[static_cast<size_t>(d.params[i]->slot)] = args_in.pos[i];
    given[i] = true;
  }
  if (npos != n) {
    for (size_t i = npos; i < n; ++i) {
      Value v;
      if (pop_kw(d.params[i]->name, &v)) {
        f->slots[static_cast<size_t>(d.params[i]->slot)] = std::move(v);
        given[i] = true;
      }
      if (d.params[i]->name == "caller") found_caller = true;
    }
  } else {
    found_caller = d.explicit_caller;
  }
  if (d.caller_slot >= 0 && !found_caller) {
    Value c;
    if (!pop_kw("caller", &c) || c.is_none()) c = undefined_hint("No caller defined");
    f->slots[static_cast<size_t>(d.caller_slot)] = std::move(c);
  }
  if (d.kwargs_slot >= 0) {
    std::vector<std::pair<Value, Value>> e;
    for (auto& [k, v] : kw) e.emplace_back(Value::string(k), std::move(v));
    f->slots[static_cast<size_t>(d.kwargs_slot)] = detail::make_dict(std::move(e));
  } else if (!kw.empty()) {
    for (const auto& [k, v] : kw)
      if (k == "caller")
        throw_render("macro '" + d.name + "' was invoked with two values for the special caller "
                     "argument. This is most likely a bug.");
    throw_render("macro '" + d.name + "' takes no keyword argument '" + kw.front().first + "'");
  }
  if (d.varargs_slot >= 0) {
    std::vector<Value> extra;
    for (size_t i = n; i < args_in.pos.size(); ++i) extra.push_back(args_in.pos[i]);
    f->slots[static_cast<size_t>(d.varargs_slot)] = detail::make_list(std::move(extra), detail::ListFlavor::kTuple);
  } else if (args_in.pos.size() > n) {
    throw_render("macro '" + d.name + "' takes not more than " + std::to_string(n) + " argument(s)");
  }
  const size_t first_default = n - d.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (given[i]) continue;
    Value& slot = f->slots[static_cast<size_t>(d.params[i]->slot)];
    if (i >= first_default) {
      slot = eval(d.defaults[i - first_default], f);
    } else {
      slot = undefined_hint("parameter '" + d.params[i]->name + "' was not provided");
    }
  }
  std::string text;
  capture(d.body, f, &text);
  return Value::adopt(ValueKind::kString, detail::new_str(text));
}

Value call_loop_recurse(Evaluator& ev, const Value& loop, const Args& args) {
  const auto* l = static_cast<const detail::LoopObj*>(loop.obj());
  if (l->node == nullptr)
    throw_render("The loop must have the 'recursive' marker to be called recursively.");
  if (args.pos.size() != 1 || !args.kw.empty()) throw_render("loop() takes exactly one argument");
  if (++ev.depth_ > kMaxDepth) {
    --ev.depth_;
    throw_render("maximum recursion depth exceeded");
  }
  std::string buf;
  std::string* saved = ev.out_;
  ev.out_ = &buf;
  try {
    ev.exec_for(l->node, l->frame, args.pos[0], l->depth0 + 1);
  } catch (...) {
    ev.out_ = saved;
    --ev.depth_;
    throw;
  }
  ev.out_ = saved;
  --ev.depth_;
  return Value::adopt(ValueKind::kString, detail::new_str(buf));
}

void Evaluator::exec_for(const ForStmt* s, Frame* f, const Value& iterable, int64_t depth0) {
  Value items = py_iterable_as_list(iterable);
  if (s->filter != nullptr) {
    Frame* tf = new_frame(s->test_scope, f);
    std::vector<Value> kept;
    for (const Value& x : items.as_list()) {
      enter(tf);
      assign(s->test_target, x, tf);
      Value tmp;
      if (ref(s->filter, tf, &tmp)->truthy()) kept.push_back(x);
    }
    leave(tf);
    items = detail::make_list(std::move(kept));
  }
  const auto list = items.as_list();
  Frame* lf = new_frame(s->body_scope, f);
  Value loop_value;
  detail::LoopObj* loop = nullptr;
  if (s->loop_slot >= 0) {
    loop = new detail::LoopObj();
    loop_value = Value::adopt(ValueKind::kLoop, loop);
    loop->items = items;
    loop->length = static_cast<int64_t>(list.size());
    loop->depth0 = depth0;
    if (s->recursive) {
      loop->node = s;
      loop->frame = f;
    }
  }
  // Jinja2 runs the else block unless some iteration reached the end of the body: an
  // iteration left by break or continue does not count.
  bool completed = false;
  for (size_t i = 0; i < list.size(); ++i) {
    enter(lf);
    assign(s->target, list[i], lf);
    if (loop != nullptr) {
      loop->index0 = static_cast<int64_t>(i);
      lf->slots[static_cast<size_t>(s->loop_slot)] = loop_value;
    }
    const Flow fl = exec(s->body, lf);
    if (fl == Flow::kNormal) completed = true;
    if (fl == Flow::kBreak) break;
  }
  leave(lf);
  if (!completed && !s->else_body.empty()) {
    Frame* ef = new_frame(s->else_scope, f);
    enter(ef);
    exec(s->else_body, ef);
    leave(ef);
  }
}

Evaluator::Flow Evaluator::exec_stmt(const Stmt* s, Frame* f) {
  switch (s->kind) {
    case StmtKind::kOutput:
      for (const auto& p : static_cast<const OutputStmt*>(s)->parts) {
        if (p.expr == nullptr) {
          out_->append(p.text);
        } else {
          emit(p.expr, f);
        }
      }
      return Flow::kNormal;
    case StmtKind::kIf: {
      const auto* i = static_cast<const IfStmt*>(s);
      for (const auto& [test, body] : i->branches) {
        Value tmp;
        if (ref(test, f, &tmp)->truthy()) return exec(body, f);
      }
      return exec(i->else_body, f);
    }
    case StmtKind::kFor: {
      const auto* fs = static_cast<const ForStmt*>(s);
      exec_for(fs, f, eval(fs->iter, f), 0);
      return Flow::kNormal;
    }
    case StmtKind::kSet: {
      const auto* a = static_cast<const SetStmt*>(s);
      assign(a->target, eval(a->value, f), f);
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock: {
      const auto* a = static_cast<const SetBlockStmt*>(s);
      Frame* bf = new_frame(a->scope, f);
      enter(bf);
      std::string buf;
      const Flow fl = capture(a->body, bf, &buf);
      if (fl != Flow::kNormal) return fl;
      Value text = Value::string(buf);
      if (a->filter != nullptr) text = eval_filter(a->filter, bf, &text);
      leave(bf);
      assign(a->target, std::move(text), f);
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      const auto* m = static_cast<const MacroStmt*>(s);
      Frame* o = f;
      for (int h = m->target->hops; h > 0; --h) o = o->parent;
      o->slots[static_cast<size_t>(m->target->slot)] = make_macro(&m->def, f);
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock: {
      const auto* c = static_cast<const CallBlockStmt*>(s);
      Value caller = make_macro(&c->caller, f);
      const Value callee = eval(c->call->callee, f);
      Args args = eval_args(c->call->args, f);
      args.kw.emplace_back("caller", std::move(caller));
      try {
        append_str(out_, call(callee, args));
      } catch (RenderError& err) {
        if (err.pos < 0) err.pos = s->pos;
        throw;
      }
      return Flow::kNormal;
    }
    case StmtKind::kFilterBlock: {
      const auto* fb = static_cast<const FilterBlockStmt*>(s);
      Frame* bf = new_frame(fb->scope, f);
      enter(bf);
      std::string buf;
      const Flow fl = capture(fb->body, bf, &buf);
      if (fl != Flow::kNormal) return fl;
      const Value text = Value::string(buf);
      append_str(out_, eval_filter(fb->filter, bf, &text));
      leave(bf);
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      const auto* w = static_cast<const WithStmt*>(s);
      Frame* wf = new_frame(w->scope, f);
      enter(wf);
      for (size_t i = 0; i < w->targets.size(); ++i) assign(w->targets[i], eval(w->values[i], f), wf);
      const Flow fl = exec(w->body, wf);
      leave(wf);
      return fl;
    }
    case StmtKind::kScopedBody: {
      const auto* b = static_cast<const ScopedBodyStmt*>(s);
      Frame* bf = new_frame(b->scope, f);
      enter(bf);
      std::string buf;
      capture(b->body, bf, &buf);
      out_->append(buf);
      return Flow::kNormal;
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
  }
  return Flow::kNormal;
}

Value Evaluator::call(const Value& callee, const Args& args) {
  switch (callee.kind()) {
    case ValueKind::kUndefined: throw_undefined(callee);
    case ValueKind::kLoop: return call_loop_recurse(*this, callee, args);
    case ValueKind::kCycler: {
      auto* c = static_cast<detail::CyclerObj*>(callee.obj());
      if (!c->joiner) break;
      if (!c->used) {
        c->used = true;
        return Value::string("");
      }
      return c->items[0];
    }
    case ValueKind::kCallable: {
      const auto* c = static_cast<const detail::CallableObj*>(callee.obj());
      switch (c->ckind) {
        case detail::CallableKind::kMacro: return invoke_macro(c, args);
        case detail::CallableKind::kGlobal: return call_global(*this, c->id, args);
        case detail::CallableKind::kMethod: return call_method(*this, c->self, c->id, args);
        case detail::CallableKind::kLoopRecurse: return call_loop_recurse(*this, c->self, args);
        case detail::CallableKind::kUnsafe:
          if (c->name == "pop" || c->name == "clear")  // the sandbox allows these two on lists
            throw_unsupported("list." + c->name + "() changes the list; agentserve's values are "
                              "immutable");
          throw_render("access to attribute '" + c->name + "' of '" + py_type_name(c->self) +
                       "' object is unsafe.");
      }
      break;
    }
    default: break;
  }
  throw_render(std::string("'") + py_type_name(callee) + "' object is not callable");
}

}  // namespace agentserve::tmpl
