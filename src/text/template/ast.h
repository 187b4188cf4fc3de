// The parsed template (engine-internal): expression and statement nodes, built once by the
// parser, resolved by the scope pass (every name becomes a frame slot), then only read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "text/template/value.h"

namespace agentserve::tmpl {

struct Scope;

enum class ExprKind : uint8_t {
  kConst, kName, kGetattr, kGetitem, kSlice, kCall, kFilter, kTest, kNeg, kPos, kNot,
  kBinary, kAnd, kOr, kConcat, kCompare, kCondExpr, kList, kTuple, kDict,
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
enum class NameCtx : uint8_t { kLoad, kStore, kParam };

struct Expr {
  ExprKind kind;
  uint32_t pos;  // byte offset in the normalised source
  Expr(ExprKind k, uint32_t p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
};

struct ConstExpr : Expr {
  Value value;
  ConstExpr(uint32_t p, Value v) : Expr(ExprKind::kConst, p), value(std::move(v)) {}
};

struct NameExpr : Expr {
  std::string name;
  NameCtx ctx = NameCtx::kLoad;
  Value name_value;  // the name as a string Value, for "'x' is undefined"
  int hops = 0;      // resolved: frames up the lexical chain
  int slot = -1;     // resolved: slot in that frame
  NameExpr(uint32_t p, std::string n) : Expr(ExprKind::kName, p), name(std::move(n)) {}
};

struct GetattrExpr : Expr {
  Expr* obj;
  std::string attr;
  Value attr_value;
  GetattrExpr(uint32_t p, Expr* o, std::string a) : Expr(ExprKind::kGetattr, p), obj(o), attr(std::move(a)) {}
};

struct GetitemExpr : Expr {
  Expr* obj;
  Expr* key;
  GetitemExpr(uint32_t p, Expr* o, Expr* k) : Expr(ExprKind::kGetitem, p), obj(o), key(k) {}
};

// obj[start:stop:step]
struct SliceExpr : Expr {
  Expr* obj;
  Expr* start = nullptr;
  Expr* stop = nullptr;
  Expr* step = nullptr;
  SliceExpr(uint32_t p, Expr* o) : Expr(ExprKind::kSlice, p), obj(o) {}
};

struct CallArgs {
  std::vector<Expr*> args;
  std::vector<std::pair<std::string, Expr*>> kwargs;
  Expr* dyn_args = nullptr;    // *args
  Expr* dyn_kwargs = nullptr;  // **kwargs
};

struct CallExpr : Expr {
  Expr* callee;
  CallArgs args;
  CallExpr(uint32_t p, Expr* c) : Expr(ExprKind::kCall, p), callee(c) {}
};

// obj|name(args); obj is null for the filter of a {% filter %} block or a set block.
struct FilterExpr : Expr {
  Expr* obj;
  std::string name;
  int id = -1;  // builtin filter id; -1 = unknown (an error when evaluated)
  CallArgs args;
  FilterExpr(uint32_t p, Expr* o, std::string n) : Expr(ExprKind::kFilter, p), obj(o), name(std::move(n)) {}
};

struct TestExpr : Expr {
  Expr* obj;
  std::string name;
  int id = -1;
  CallArgs args;
  TestExpr(uint32_t p, Expr* o, std::string n) : Expr(ExprKind::kTest, p), obj(o), name(std::move(n)) {}
};

struct UnaryExpr : Expr {
  Expr* operand;
  UnaryExpr(ExprKind k, uint32_t p, Expr* o) : Expr(k, p), operand(o) {}
};

// Binary arithmetic, `and`, `or`.
struct BinaryExpr : Expr {
  BinOp op = BinOp::kAdd;
  Expr* left;
  Expr* right;
  BinaryExpr(ExprKind k, uint32_t p, Expr* l, Expr* r) : Expr(k, p), left(l), right(r) {}
};

struct ConcatExpr : Expr {
  std::vector<Expr*> parts;
  explicit ConcatExpr(uint32_t p) : Expr(ExprKind::kConcat, p) {}
};

struct CompareExpr : Expr {
  Expr* first;
  std::vector<std::pair<CmpOp, Expr*>> ops;
  CompareExpr(uint32_t p, Expr* f) : Expr(ExprKind::kCompare, p), first(f) {}
};

// `then if test else otherwise`; otherwise may be absent (then an Undefined with a hint).
struct CondExpr : Expr {
  Expr* test;
  Expr* then;
  Expr* otherwise;
  Value missing_else;  // the Undefined an absent else evaluates to
  CondExpr(uint32_t p, Expr* t, Expr* a, Expr* b)
      : Expr(ExprKind::kCondExpr, p), test(t), then(a), otherwise(b) {}
};

// List, tuple (kind decides) and dict literals.
struct SeqExpr : Expr {
  std::vector<Expr*> items;      // list / tuple items; dict: key, value, key, value ...
  SeqExpr(ExprKind k, uint32_t p) : Expr(k, p) {}
};

// ---- statements -----------------------------------------------------------------------------

enum class StmtKind : uint8_t {
  kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kCallBlock, kFilterBlock, kWith, kBreak,
  kContinue, kScopedBody,
};

struct Stmt {
  StmtKind kind;
  uint32_t pos;
  Stmt(StmtKind k, uint32_t p) : kind(k), pos(p) {}
  virtual ~Stmt() = default;
};
using Body = std::vector<Stmt*>;

// An assignment target: a name, a (nested) tuple of names, or namespace.attr.
struct Target {
  enum Kind : uint8_t { kName, kTuple, kNsAttr } kind = kName;
  NameExpr* name = nullptr;        // kName, and the namespace variable of kNsAttr
  std::string attr;                // kNsAttr
  std::vector<Target> items;       // kTuple
  uint32_t pos = 0;
};

struct OutputStmt : Stmt {
  struct Part {
    std::string text;      // template data, when expr is null
    Expr* expr = nullptr;  // {{ expr }}
  };
  std::vector<Part> parts;
  explicit OutputStmt(uint32_t p) : Stmt(StmtKind::kOutput, p) {}
};

struct IfStmt : Stmt {
  std::vector<std::pair<Expr*, Body>> branches;  // if, elif...
  Body else_body;
  explicit IfStmt(uint32_t p) : Stmt(StmtKind::kIf, p) {}
};

struct ForStmt : Stmt {
  Target target;
  Expr* iter = nullptr;
  Expr* filter = nullptr;  // for x in y if filter
  bool recursive = false;
  Body body;
  Body else_body;
  Scope* body_scope = nullptr;
  Scope* else_scope = nullptr;
  Scope* test_scope = nullptr;
  Target test_target;      // the target as the filter test's frame sees it
  int loop_slot = -1;      // slot of `loop` in body_scope, -1 when the body never reads it
  explicit ForStmt(uint32_t p) : Stmt(StmtKind::kFor, p) {}
};

struct SetStmt : Stmt {
  Target target;
  Expr* value = nullptr;
  explicit SetStmt(uint32_t p) : Stmt(StmtKind::kSet, p) {}
};

struct SetBlockStmt : Stmt {
  Target target;
  FilterExpr* filter = nullptr;  // innermost filter has obj == nullptr: the captured text
  Body body;
  Scope* scope = nullptr;
  explicit SetBlockStmt(uint32_t p) : Stmt(StmtKind::kSetBlock, p) {}
};

// A macro, or the anonymous caller of a {% call %} block.
struct MacroDef {
  std::string name;
  std::vector<NameExpr*> params;
  std::vector<Expr*> defaults;  // for the last defaults.size() params
  Body body;
  Scope* scope = nullptr;
  int caller_slot = -1, kwargs_slot = -1, varargs_slot = -1;  // special params, when used
  bool explicit_caller = false;  // `caller` is a declared parameter
  uint32_t pos = 0;
};

struct MacroStmt : Stmt {
  MacroDef def;
  NameExpr* target = nullptr;  // the name the macro is stored under
  explicit MacroStmt(uint32_t p) : Stmt(StmtKind::kMacro, p) {}
};

struct CallBlockStmt : Stmt {
  MacroDef caller;
  CallExpr* call = nullptr;
  explicit CallBlockStmt(uint32_t p) : Stmt(StmtKind::kCallBlock, p) {}
};

struct FilterBlockStmt : Stmt {
  FilterExpr* filter = nullptr;  // innermost filter has obj == nullptr
  Body body;
  Scope* scope = nullptr;
  explicit FilterBlockStmt(uint32_t p) : Stmt(StmtKind::kFilterBlock, p) {}
};

struct WithStmt : Stmt {
  std::vector<Target> targets;
  std::vector<Expr*> values;
  Body body;
  Scope* scope = nullptr;
  explicit WithStmt(uint32_t p) : Stmt(StmtKind::kWith, p) {}
};

// transformers' {% generation %}: the body renders unchanged, in a caller-like scope.
struct ScopedBodyStmt : Stmt {
  Body body;
  Scope* scope = nullptr;
  explicit ScopedBodyStmt(uint32_t p) : Stmt(StmtKind::kScopedBody, p) {}
};

// ---- frames ---------------------------------------------------------------------------------

// How a frame slot gets its value when the frame is entered (Jinja2's load instructions).
struct SlotInit {
  enum Kind : uint8_t {
    kParam,      // bound by the construct (loop target, macro argument)
    kResolve,    // looked up in the render context, then the globals
    kAlias,      // copied from a slot of an enclosing frame
    kUndefined,  // starts undefined
  } kind = kUndefined;
  std::string name;
  Value name_value;
  int alias_hops = 0, alias_slot = -1;
  int resolve_id = -1;  // kResolve: index of this name among the template's context lookups
};

struct Scope {
  std::vector<SlotInit> slots;
};

// Owns every node of one template.
struct Ast {
  std::vector<std::unique_ptr<Expr>> exprs;
  std::vector<std::unique_ptr<Stmt>> stmts;
  std::vector<std::unique_ptr<Scope>> scopes;
  Body body;
  Scope* root_scope = nullptr;
  int num_resolve_ids = 0;  // distinct names looked up in the context (see SlotInit::resolve_id)

  template <class T, class... A>
  T* expr(A&&... a) {
    auto p = std::make_unique<T>(std::forward<A>(a)...);
    T* raw = p.get();
    exprs.push_back(std::move(p));
    return raw;
  }
  template <class T, class... A>
  T* stmt(A&&... a) {
    auto p = std::make_unique<T>(std::forward<A>(a)...);
    T* raw = p.get();
    stmts.push_back(std::move(p));
    return raw;
  }
  Scope* scope() {
    scopes.push_back(std::make_unique<Scope>());
    return scopes.back().get();
  }
};

}  // namespace agentserve::tmpl
