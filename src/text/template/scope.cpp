#include "text/template/scope.h"

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "text/template/ast_walk.h"
#include "text/template/builtins.h"

namespace agentserve::tmpl {
namespace {

struct ScopeFail {
  std::string message;
  uint32_t pos;
};

// ---- Jinja2's symbol tables ------------------------------------------------------------------

struct Load {
  SlotInit::Kind kind = SlotInit::kUndefined;
  std::string arg;  // kResolve: the name; kAlias: the outer identifier
};

struct Symbols {
  Symbols* parent = nullptr;
  int level = 0;
  std::map<std::string, std::string> refs;  // name → identifier "l_<level>_<name>"
  std::map<std::string, Load> loads;        // identifier → how it starts
  std::set<std::string> stores;
  // Slots of this frame, in order of first use.
  std::map<std::string, int> slot_of_ident;
  std::vector<std::string> slot_idents;

  std::string define_ref(const std::string& name, Load load) {
    std::string ident = "l_" + std::to_string(level) + "_" + name;
    refs[name] = ident;
    loads[ident] = std::move(load);
    return ident;
  }
  const std::string* find_ref(const std::string& name) const {
    for (const Symbols* s = this; s != nullptr; s = s->parent) {
      auto it = s->refs.find(name);
      if (it != s->refs.end()) return &it->second;
    }
    return nullptr;
  }
  void store(const std::string& name) {
    stores.insert(name);
    if (refs.count(name)) return;
    if (parent != nullptr) {
      if (const std::string* outer = parent->find_ref(name)) {
        define_ref(name, {SlotInit::kAlias, *outer});
        return;
      }
    }
    define_ref(name, {SlotInit::kUndefined, {}});
  }
  std::string declare_parameter(const std::string& name) {
    stores.insert(name);
    return define_ref(name, {SlotInit::kParam, {}});
  }
  void load(const std::string& name) {
    if (find_ref(name) == nullptr) define_ref(name, {SlotInit::kResolve, name});
  }
  void branch_update(const std::vector<const Symbols*>& branches) {
    std::map<std::string, int> counts;
    for (const Symbols* b : branches)
      for (const std::string& t : b->stores)
        if (!stores.count(t)) ++counts[t];
    for (const Symbols* b : branches) {
      for (const auto& [k, v] : b->refs) refs[k] = v;
      for (const auto& [k, v] : b->loads) loads[k] = v;
      stores.insert(b->stores.begin(), b->stores.end());
    }
    for (const auto& [name, n] : counts) {
      if (n == static_cast<int>(branches.size())) continue;
      const std::string target = *find_ref(name);
      if (parent != nullptr) {
        if (const std::string* outer = parent->find_ref(name)) {
          loads[target] = {SlotInit::kAlias, *outer};
          continue;
        }
      }
      loads[target] = {SlotInit::kResolve, name};
    }
  }
  // A copy for analysing one branch of an `if` (same level, same parent).
  std::unique_ptr<Symbols> copy() const {
    auto c = std::make_unique<Symbols>();
    c->parent = parent;
    c->level = level;
    c->refs = refs;
    c->loads = loads;
    c->stores = stores;
    return c;
  }
  int slot(const std::string& ident) {
    auto it = slot_of_ident.find(ident);
    if (it != slot_of_ident.end()) return it->second;
    const int s = static_cast<int>(slot_idents.size());
    slot_of_ident[ident] = s;
    slot_idents.push_back(ident);
    return s;
  }
};

// ---- FrameSymbolVisitor: what a frame's own statements load and store ---------------------------

class FrameVisitor {
 public:
  explicit FrameVisitor(Symbols* s) : sym_(s) {}

  void expr(const Expr* e) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::kName) {
      const auto* n = static_cast<const NameExpr*>(e);
      if (n->ctx == NameCtx::kParam) sym_->declare_parameter(n->name);
      else if (n->ctx == NameCtx::kStore) sym_->store(n->name);
      else sym_->load(n->name);
      return;
    }
    for_each_child(e, [&](const Expr* child) { expr(child); });
  }

  void target(const Target& t, bool as_param) {
    switch (t.kind) {
      case Target::kName:
        if (as_param || t.name->ctx == NameCtx::kParam) sym_->declare_parameter(t.name->name);
        else sym_->store(t.name->name);
        return;
      case Target::kNsAttr: sym_->load(t.name->name); return;
      case Target::kTuple:
        for (const Target& x : t.items) target(x, as_param);
        return;
    }
  }

  void stmts(const Body& body) {
    for (const Stmt* s : body) stmt(s);
  }

  void stmt(const Stmt* s) {
    switch (s->kind) {
      case StmtKind::kOutput:
        for (const auto& p : static_cast<const OutputStmt*>(s)->parts) expr(p.expr);
        return;
      case StmtKind::kIf: if_chain(static_cast<const IfStmt*>(s)); return;
      case StmtKind::kFor: expr(static_cast<const ForStmt*>(s)->iter); return;
      case StmtKind::kSet: {
        const auto* a = static_cast<const SetStmt*>(s);
        expr(a->value);
        target(a->target, false);
        return;
      }
      case StmtKind::kSetBlock: target(static_cast<const SetBlockStmt*>(s)->target, false); return;
      case StmtKind::kMacro: sym_->store(static_cast<const MacroStmt*>(s)->target->name); return;
      case StmtKind::kCallBlock: expr(static_cast<const CallBlockStmt*>(s)->call); return;
      case StmtKind::kFilterBlock: expr(static_cast<const FilterBlockStmt*>(s)->filter); return;
      case StmtKind::kWith:
        for (const Expr* v : static_cast<const WithStmt*>(s)->values) expr(v);
        return;
      default: return;
    }
  }

 private:
  // Jinja2 visits `if` branches on copies of the table and merges them (branch_update); an
  // elif chain is a list of nested ifs analysed in one copy.
  void if_chain(const IfStmt* s) {
    expr(s->branches[0].first);
    Symbols* original = sym_;
    const auto branch = [&](auto&& fn) {
      auto c = original->copy();
      sym_ = c.get();
      fn();
      sym_ = original;
      return c;
    };
    auto body = branch([&] { stmts(s->branches[0].second); });
    auto elifs = branch([&] {
      for (size_t i = 1; i < s->branches.size(); ++i) {
        expr(s->branches[i].first);
        Symbols* outer = sym_;
        auto b = outer->copy();
        sym_ = b.get();
        stmts(s->branches[i].second);
        sym_ = outer;
        auto e1 = outer->copy();
        auto e2 = outer->copy();
        outer->branch_update({b.get(), e1.get(), e2.get()});
      }
    });
    auto els = branch([&] { stmts(s->else_body); });
    original->branch_update({body.get(), elifs.get(), els.get()});
  }

  Symbols* sym_;
};

// ---- UndeclaredNameVisitor: does a body read `loop` / `caller` ... before binding it? ---------

class UndeclaredVisitor {
 public:
  explicit UndeclaredVisitor(std::set<std::string> names) : names_(std::move(names)) {}
  std::set<std::string> undeclared;

  void name(const NameExpr* n) {
    if (n->ctx == NameCtx::kLoad && names_.count(n->name)) {
      undeclared.insert(n->name);
    } else {
      names_.erase(n->name);
    }
  }
  void expr(const Expr* e) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::kName) {
      name(static_cast<const NameExpr*>(e));
      return;
    }
    for_each_child(e, [&](const Expr* child) { expr(child); });
  }
  void target(const Target& t) {
    if (t.kind == Target::kTuple) {
      for (const Target& x : t.items) target(x);
    } else if (t.kind == Target::kName) {
      name(t.name);
    }
  }
  void macro(const MacroDef& m) {
    for (const NameExpr* p : m.params) name(p);
    for (const Expr* d : m.defaults) expr(d);
    stmts(m.body);
  }
  void stmts(const Body& b) {
    for (const Stmt* s : b) stmt(s);
  }
  void stmt(const Stmt* s) {
    switch (s->kind) {
      case StmtKind::kOutput:
        for (const auto& p : static_cast<const OutputStmt*>(s)->parts) expr(p.expr);
        return;
      case StmtKind::kIf: {
        const auto* i = static_cast<const IfStmt*>(s);
        for (const auto& [t, b] : i->branches) {
          expr(t);
          stmts(b);
        }
        stmts(i->else_body);
        return;
      }
      case StmtKind::kFor: {
        const auto* f = static_cast<const ForStmt*>(s);
        target(f->target);
        expr(f->iter);
        stmts(f->body);
        stmts(f->else_body);
        expr(f->filter);
        return;
      }
      case StmtKind::kSet:
        target(static_cast<const SetStmt*>(s)->target);
        expr(static_cast<const SetStmt*>(s)->value);
        return;
      case StmtKind::kSetBlock: {
        const auto* a = static_cast<const SetBlockStmt*>(s);
        target(a->target);
        expr(a->filter);
        stmts(a->body);
        return;
      }
      case StmtKind::kMacro: macro(static_cast<const MacroStmt*>(s)->def); return;
      case StmtKind::kCallBlock:
        expr(static_cast<const CallBlockStmt*>(s)->call);
        macro(static_cast<const CallBlockStmt*>(s)->caller);
        return;
      case StmtKind::kFilterBlock:
        stmts(static_cast<const FilterBlockStmt*>(s)->body);
        expr(static_cast<const FilterBlockStmt*>(s)->filter);
        return;
      case StmtKind::kWith: {
        const auto* w = static_cast<const WithStmt*>(s);
        for (const Target& t : w->targets) target(t);
        for (const Expr* v : w->values) expr(v);
        stmts(w->body);
        return;
      }
      case StmtKind::kScopedBody: stmts(static_cast<const ScopedBodyStmt*>(s)->body); return;
      default: return;
    }
  }

 private:
  std::set<std::string> names_;
};

// ---- the compile walk: one Symbols per Jinja2 frame, names resolved to slots ------------------

class Resolver {
 public:
  explicit Resolver(Ast* ast) : ast_(ast) {}

  void run() {
    Symbols* root = new_symbols(nullptr);
    FrameVisitor(root).stmts(ast_->body);
    body(ast_->body, root, false);
    ast_->root_scope = finish(root);
  }

 private:
  Symbols* new_symbols(Symbols* parent) {
    owned_.push_back(std::make_unique<Symbols>());
    Symbols* s = owned_.back().get();
    s->parent = parent;
    s->level = parent ? parent->level + 1 : 0;
    return s;
  }

  // Builds the runtime layout of a finished frame.
  Scope* finish(Symbols* s) {
    for (const auto& [name, ident] : s->refs) s->slot(ident);
    Scope* scope = ast_->scope();
    scope->slots.resize(s->slot_idents.size());
    for (const auto& [name, ident] : s->refs) {
      SlotInit& init = scope->slots[static_cast<size_t>(s->slot(ident))];
      init.name = name;
      init.name_value = Value::string(name);
      const Load& load = s->loads[ident];
      init.kind = load.kind;
      if (load.kind == SlotInit::kAlias) locate(s, load.arg, &init.alias_hops, &init.alias_slot);
      if (load.kind == SlotInit::kResolve) {
        auto [it, fresh] = resolve_ids_.try_emplace(name, ast_->num_resolve_ids);
        if (fresh) ++ast_->num_resolve_ids;
        init.resolve_id = it->second;
      }
    }
    return scope;
  }

  // Frames up from `s` to the owner of identifier `ident`, and its slot there.
  void locate(Symbols* s, const std::string& ident, int* hops, int* slot) {
    const size_t a = ident.find('_', 2);
    const int level = std::stoi(ident.substr(2, a - 2));
    int h = 0;
    Symbols* o = s;
    while (o->level != level) {
      o = o->parent;
      ++h;
    }
    *hops = h;
    *slot = o->slot(ident);
  }

  void name(NameExpr* n, Symbols* s) {
    const std::string* ident = s->find_ref(n->name);
    if (ident == nullptr) {
      s->load(n->name);
      ident = s->find_ref(n->name);
    }
    n->name_value = Value::string(n->name);
    locate(s, *ident, &n->hops, &n->slot);
  }

  void check_filter(FilterExpr* f, bool soft) {
    if (f->id < 0 && !soft && !jinja_has_filter(f->name))
      throw ScopeFail{"No filter named '" + f->name + "'.", f->pos};
  }
  void check_test(TestExpr* t, bool soft) {
    if (t->id < 0 && !soft && !jinja_has_test(t->name))
      throw ScopeFail{"No test named '" + t->name + "'.", t->pos};
  }

  void expr(Expr* e, Symbols* s, bool soft) {
    if (e == nullptr) return;
    switch (e->kind) {
      case ExprKind::kName: name(static_cast<NameExpr*>(e), s); return;
      case ExprKind::kFilter: check_filter(static_cast<FilterExpr*>(e), soft); break;
      case ExprKind::kTest: check_test(static_cast<TestExpr*>(e), soft); break;
      // Unknown filters or tests in a branch that may not run are an error only if they run.
      case ExprKind::kCondExpr: soft = true; break;
      default: break;
    }
    for_each_child(e, [&](Expr* child) { expr(child, s, soft); });
  }

  void target(Target& t, Symbols* s) {
    if (t.kind == Target::kTuple) {
      for (Target& x : t.items) target(x, s);
    } else {
      name(t.name, s);
    }
  }

  void body(Body& b, Symbols* s, bool soft) {
    for (Stmt* st : b) stmt(st, s, soft);
  }

  // A macro or caller body: a frame under `outer` with its parameters.
  void macro(MacroDef& m, Symbols* outer) {
    Symbols* ms = new_symbols(outer);
    FrameVisitor fv(ms);
    const auto analyze = [&] {
      for (NameExpr* p : m.params) fv.expr(p);
      for (Expr* d : m.defaults) fv.expr(d);
      fv.stmts(m.body);
    };
    analyze();
    UndeclaredVisitor uv({"caller", "kwargs", "varargs"});
    uv.stmts(m.body);
    bool has_kwargs_param = false, has_varargs_param = false;
    for (size_t i = 0; i < m.params.size(); ++i) {
      const std::string& n = m.params[i]->name;
      if (n == "caller") {
        m.explicit_caller = true;
        if (uv.undeclared.count("caller") &&
            i < m.params.size() - m.defaults.size())
          throw ScopeFail{"When defining macros or call blocks the special \"caller\" argument "
                          "must be omitted or be given a default.", m.pos};
      }
      has_kwargs_param |= n == "kwargs";
      has_varargs_param |= n == "varargs";
    }
    std::string caller_ident, kwargs_ident, varargs_ident;
    if (uv.undeclared.count("caller") && !m.explicit_caller)
      caller_ident = ms->declare_parameter("caller");
    if (uv.undeclared.count("kwargs") && !has_kwargs_param)
      kwargs_ident = ms->declare_parameter("kwargs");
    if (uv.undeclared.count("varargs") && !has_varargs_param)
      varargs_ident = ms->declare_parameter("varargs");
    analyze();
    for (NameExpr* p : m.params) name(p, ms);
    for (Expr* d : m.defaults) expr(d, ms, false);
    body(m.body, ms, false);
    if (!caller_ident.empty()) m.caller_slot = ms->slot(caller_ident);
    if (!kwargs_ident.empty()) m.kwargs_slot = ms->slot(kwargs_ident);
    if (!varargs_ident.empty()) m.varargs_slot = ms->slot(varargs_ident);
    m.scope = finish(ms);
  }

  void stmt(Stmt* st, Symbols* s, bool soft) {
    switch (st->kind) {
      case StmtKind::kOutput:
        for (auto& p : static_cast<OutputStmt*>(st)->parts) expr(p.expr, s, soft);
        return;
      case StmtKind::kIf: {
        auto* i = static_cast<IfStmt*>(st);
        for (auto& [t, b] : i->branches) {
          expr(t, s, true);
          body(b, s, true);
        }
        body(i->else_body, s, true);
        return;
      }
      case StmtKind::kFor: {
        auto* f = static_cast<ForStmt*>(st);
        Symbols* ls = new_symbols(s);
        UndeclaredVisitor uv({"loop"});
        uv.stmts(f->body);
        std::string loop_ident;
        if (f->recursive || uv.undeclared.count("loop")) loop_ident = ls->declare_parameter("loop");
        {
          FrameVisitor fv(ls);
          fv.target(f->target, true);
          fv.stmts(f->body);
        }
        Symbols* es = nullptr;
        if (!f->else_body.empty()) {
          es = new_symbols(s);
          FrameVisitor(es).stmts(f->else_body);
        }
        Symbols* ts = nullptr;
        if (f->filter != nullptr) {
          ts = new_symbols(s);
          FrameVisitor fv(ts);
          fv.target(f->target, true);
          fv.expr(f->filter);
          f->test_target = clone_target(f->target);
          target(f->test_target, ts);
          expr(f->filter, ts, false);
          f->test_scope = finish(ts);
        }
        expr(f->iter, s, soft);
        target(f->target, ls);
        body(f->body, ls, false);
        if (!loop_ident.empty()) f->loop_slot = ls->slot(loop_ident);
        f->body_scope = finish(ls);
        if (es != nullptr) {
          body(f->else_body, es, false);
          f->else_scope = finish(es);
        }
        return;
      }
      case StmtKind::kSet: {
        auto* a = static_cast<SetStmt*>(st);
        expr(a->value, s, soft);
        target(a->target, s);
        return;
      }
      case StmtKind::kSetBlock: {
        auto* a = static_cast<SetBlockStmt*>(st);
        Symbols* bs = new_symbols(s);
        FrameVisitor fv(bs);
        fv.stmts(a->body);
        fv.expr(a->filter);
        body(a->body, bs, false);
        expr(a->filter, bs, false);
        a->scope = finish(bs);
        target(a->target, s);
        return;
      }
      case StmtKind::kMacro: {
        auto* m = static_cast<MacroStmt*>(st);
        macro(m->def, s);
        name(m->target, s);
        return;
      }
      case StmtKind::kCallBlock: {
        auto* c = static_cast<CallBlockStmt*>(st);
        macro(c->caller, s);
        expr(c->call, s, soft);
        return;
      }
      case StmtKind::kFilterBlock: {
        auto* fb = static_cast<FilterBlockStmt*>(st);
        Symbols* fs = new_symbols(s);
        FrameVisitor fv(fs);
        fv.stmts(fb->body);
        fv.expr(fb->filter);
        body(fb->body, fs, false);
        expr(fb->filter, fs, false);
        fb->scope = finish(fs);
        return;
      }
      case StmtKind::kWith: {
        auto* w = static_cast<WithStmt*>(st);
        Symbols* ws = new_symbols(s);
        FrameVisitor fv(ws);
        for (const Target& t : w->targets) fv.target(t, true);
        fv.stmts(w->body);
        for (Expr* v : w->values) expr(v, s, soft);
        for (Target& t : w->targets) target(t, ws);
        body(w->body, ws, false);
        w->scope = finish(ws);
        return;
      }
      case StmtKind::kScopedBody: {
        auto* sb = static_cast<ScopedBodyStmt*>(st);
        Symbols* bs = new_symbols(s);
        FrameVisitor(bs).stmts(sb->body);
        body(sb->body, bs, false);
        sb->scope = finish(bs);
        return;
      }
      default: return;
    }
  }

  Target clone_target(const Target& t) {
    Target c;
    c.kind = t.kind;
    c.pos = t.pos;
    c.attr = t.attr;
    if (t.name != nullptr) {
      c.name = ast_->expr<NameExpr>(t.name->pos, t.name->name);
      c.name->ctx = NameCtx::kParam;
    }
    for (const Target& x : t.items) c.items.push_back(clone_target(x));
    return c;
  }

  Ast* ast_;
  std::vector<std::unique_ptr<Symbols>> owned_;
  std::map<std::string, int> resolve_ids_;
};

}  // namespace

bool resolve_scopes(Ast* ast, ScopeError* error) {
  try {
    Resolver(ast).run();
    return true;
  } catch (const ScopeFail& f) {
    error->message = f.message;
    error->pos = f.pos;
    return false;
  }
}

}  // namespace agentserve::tmpl
