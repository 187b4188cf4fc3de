#include "text/template/parser.h"

#include <algorithm>
#include <initializer_list>

#include "text/template/builtins.h"

namespace agentserve::tmpl {
namespace {

struct ParseFail {
  std::string message;
  uint32_t pos;
  bool unsupported = false;
};

const char* describe(const Token& t) {
  switch (t.type) {
    case Tok::kData: return "template data";
    case Tok::kVarBegin: return "begin of print statement";
    case Tok::kVarEnd: return "end of print statement";
    case Tok::kBlockBegin: return "begin of statement block";
    case Tok::kBlockEnd: return "end of statement block";
    case Tok::kEof: return "end of template";
    default: return nullptr;
  }
}

class Parser {
 public:
  Parser(const std::vector<Token>& t, Ast* ast) : t_(t), ast_(ast) {}

  void run() {
    ast_->body = subparse({});
    if (cur().type != Tok::kEof) fail("unexpected " + desc(cur()));
  }

 private:
  // ---- token stream -------------------------------------------------------------------------
  const Token& cur() const { return t_[i_]; }
  const Token& look() const { return t_[std::min(i_ + 1, t_.size() - 1)]; }
  void next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool is_name(std::string_view v) const { return cur().type == Tok::kName && cur().text == v; }
  bool is_op(std::string_view v) const { return cur().type == Tok::kOp && cur().text == v; }
  bool skip_name(std::string_view v) {
    if (!is_name(v)) return false;
    next();
    return true;
  }
  bool skip_op(std::string_view v) {
    if (!is_op(v)) return false;
    next();
    return true;
  }
  static std::string desc(const Token& t) {
    if (const char* d = describe(t)) return std::string("'") + d + "'";
    return "'" + t.text + "'";
  }
  [[noreturn]] void fail(std::string msg, uint32_t pos) { throw ParseFail{std::move(msg), pos}; }
  [[noreturn]] void fail(std::string msg) { fail(std::move(msg), cur().pos); }
  void expect_op(std::string_view v) {
    if (!skip_op(v)) fail("expected token '" + std::string(v) + "', got " + desc(cur()));
  }
  void expect(Tok type, const char* what) {
    if (cur().type != type) fail(std::string("expected token '") + what + "', got " + desc(cur()));
    next();
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) fail("expected token 'name', got " + desc(cur()));
    std::string v = cur().text;
    next();
    return v;
  }

  // ---- statements ---------------------------------------------------------------------------
  Body subparse(std::initializer_list<const char*> end_tags) {
    struct Depth {
      int* d;
      ~Depth() { --*d; }
    } depth{&block_depth_};
    if (++block_depth_ > kMaxBlockDepth)
      throw ParseFail{"blocks nested too deeply", cur().pos, true};
    Body body;
    OutputStmt* out = nullptr;
    const auto flush = [&] { out = nullptr; };
    while (cur().type != Tok::kEof) {
      const Token& tk = cur();
      if (tk.type == Tok::kData || tk.type == Tok::kVarBegin) {
        if (out == nullptr) {
          out = ast_->stmt<OutputStmt>(tk.pos);
          body.push_back(out);
        }
        if (tk.type == Tok::kData) {
          out->parts.push_back({tk.text, nullptr});
          next();
        } else {
          next();
          Expr* e = parse_tuple(false, true, {}, false);
          expect(Tok::kVarEnd, "end of print statement");
          out->parts.push_back({std::string(), e});
        }
        continue;
      }
      if (tk.type != Tok::kBlockBegin) fail("unexpected " + desc(tk));
      flush();
      next();
      for (const char* end : end_tags)
        if (is_name(end)) return body;
      Stmt* s = parse_statement();
      if (s != nullptr) body.push_back(s);
      expect(Tok::kBlockEnd, "end of statement block");
    }
    if (end_tags.size() != 0) {
      std::string want;
      for (const char* e : end_tags) want += std::string(want.empty() ? "" : " or ") + "'" + e + "'";
      fail("Unexpected end of template. Jinja was looking for the following tags: " + want +
               ". The innermost block that needs to be closed is '" + tag_stack_.back() + "'.");
    }
    return body;
  }

  Body parse_statements(std::initializer_list<const char*> end_tags, bool drop_needle) {
    skip_op(":");
    expect(Tok::kBlockEnd, "end of statement block");
    Body body = subparse(end_tags);
    if (drop_needle) next();
    return body;
  }

  Stmt* parse_statement() {
    const Token& tk = cur();
    if (tk.type != Tok::kName) fail("tag name expected");
    const std::string name = tk.text;
    const uint32_t pos = tk.pos;
    tag_stack_.push_back(name);
    struct Pop {
      std::vector<std::string>* s;
      ~Pop() { s->pop_back(); }
    } pop{&tag_stack_};
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "call") return parse_call_block();
    if (name == "filter") return parse_filter_block();
    if (name == "with") return parse_with();
    if (name == "print") return parse_print();
    if (name == "generation") {
      next();
      auto* s = ast_->stmt<ScopedBodyStmt>(pos);
      const bool saved = in_loop_;
      in_loop_ = false;
      s->body = parse_statements({"endgeneration"}, true);
      in_loop_ = saved;
      return s;
    }
    if (name == "break" || name == "continue") {
      if (!in_loop_) fail("'" + name + "' outside loop");
      next();
      return ast_->stmt<Stmt>(name == "break" ? StmtKind::kBreak : StmtKind::kContinue, pos);
    }
    if (name == "extends" || name == "include" || name == "import" || name == "from" ||
        name == "block" || name == "autoescape") {
      throw ParseFail{"the '" + name +
                          "' tag is not supported: chat templates are rendered standalone, "
                          "without a template loader",
                      pos, true};
    }
    fail("Encountered unknown tag '" + name + "'.", pos);
  }

  Stmt* parse_if() {
    auto* s = ast_->stmt<IfStmt>(cur().pos);
    next();
    for (;;) {
      Expr* test = parse_tuple(false, false, {}, false);
      Body body = parse_statements({"elif", "else", "endif"}, false);
      s->branches.emplace_back(test, std::move(body));
      const std::string tag = cur().text;
      next();
      if (tag == "elif") continue;
      if (tag == "else") s->else_body = parse_statements({"endif"}, true);
      break;
    }
    return s;
  }

  Stmt* parse_for() {
    auto* s = ast_->stmt<ForStmt>(cur().pos);
    next();
    s->target = parse_assign_target(true, false, {"in"}, false);
    if (!skip_name("in")) fail("expected token 'in', got " + desc(cur()));
    s->iter = parse_tuple(false, false, {"recursive"}, false);
    if (skip_name("if")) s->filter = parse_expression(true);
    s->recursive = skip_name("recursive");
    const bool saved = in_loop_;
    in_loop_ = true;
    s->body = parse_statements({"endfor", "else"}, false);
    in_loop_ = saved;
    const std::string tag = cur().text;
    next();
    if (tag == "else") s->else_body = parse_statements({"endfor"}, true);
    return s;
  }

  Stmt* parse_set() {
    const uint32_t pos = cur().pos;
    next();
    Target target = parse_assign_target(true, false, {}, true);
    if (skip_op("=")) {
      auto* s = ast_->stmt<SetStmt>(pos);
      s->target = std::move(target);
      s->value = parse_tuple(false, true, {}, false);
      return s;
    }
    auto* s = ast_->stmt<SetBlockStmt>(pos);
    s->target = std::move(target);
    s->filter = parse_filter_chain(nullptr, false);
    s->body = parse_statements({"endset"}, true);  // inline in a loop: break/continue allowed
    return s;
  }

  void parse_signature(MacroDef* def) {
    expect_op("(");
    while (!is_op(")")) {
      if (!def->params.empty()) expect_op(",");
      const uint32_t pos = cur().pos;
      auto* p = ast_->expr<NameExpr>(pos, expect_name());
      p->ctx = NameCtx::kParam;
      if (skip_op("=")) {
        def->defaults.push_back(parse_expression(true));
      } else if (!def->defaults.empty()) {
        fail("non-default argument follows default argument", pos);
      }
      def->params.push_back(p);
    }
    expect_op(")");
  }

  Body parse_macro_body(const char* end) {
    const bool saved = in_loop_;
    in_loop_ = false;
    Body b = parse_statements({end}, true);
    in_loop_ = saved;
    return b;
  }

  Stmt* parse_macro() {
    auto* s = ast_->stmt<MacroStmt>(cur().pos);
    next();
    s->def.pos = cur().pos;
    s->target = ast_->expr<NameExpr>(cur().pos, expect_name());
    s->target->ctx = NameCtx::kStore;
    s->def.name = s->target->name;
    parse_signature(&s->def);
    s->def.body = parse_macro_body("endmacro");
    return s;
  }

  Stmt* parse_call_block() {
    auto* s = ast_->stmt<CallBlockStmt>(cur().pos);
    next();
    s->caller.name = "caller";
    s->caller.pos = s->pos;
    if (is_op("(")) parse_signature(&s->caller);
    Expr* call = parse_expression(true);
    if (call->kind != ExprKind::kCall) fail("expected call", s->pos);
    s->call = static_cast<CallExpr*>(call);
    s->caller.body = parse_macro_body("endcall");
    return s;
  }

  Stmt* parse_filter_block() {
    auto* s = ast_->stmt<FilterBlockStmt>(cur().pos);
    next();
    s->filter = parse_filter_chain(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  Stmt* parse_with() {
    auto* s = ast_->stmt<WithStmt>(cur().pos);
    next();
    while (cur().type != Tok::kBlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      Target t = parse_assign_target(true, false, {}, false);
      mark_params(&t);
      s->targets.push_back(std::move(t));
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  static void mark_params(Target* t) {
    if (t->kind == Target::kName) t->name->ctx = NameCtx::kParam;
    for (Target& x : t->items) mark_params(&x);
  }

  Stmt* parse_print() {
    auto* s = ast_->stmt<OutputStmt>(cur().pos);
    next();
    while (cur().type != Tok::kBlockEnd) {
      if (!s->parts.empty()) expect_op(",");
      s->parts.push_back({std::string(), parse_expression(true)});
    }
    return s;
  }

  // ---- assignment targets -------------------------------------------------------------------
  Target to_target(Expr* e) {
    Target t;
    t.pos = e->pos;
    if (e->kind == ExprKind::kName) {
      t.kind = Target::kName;
      t.name = static_cast<NameExpr*>(e);
      t.name->ctx = NameCtx::kStore;
      return t;
    }
    if (e->kind == ExprKind::kTuple) {
      t.kind = Target::kTuple;
      for (Expr* x : static_cast<SeqExpr*>(e)->items) t.items.push_back(to_target(x));
      return t;
    }
    fail("can't assign to this expression", e->pos);
  }

  Target parse_assign_target(bool with_tuple, bool name_only,
                             std::initializer_list<const char*> extra_end, bool with_ns) {
    if (with_ns && cur().type == Tok::kName && look().type == Tok::kOp && look().text == ".") {
      Target t;
      t.kind = Target::kNsAttr;
      t.pos = cur().pos;
      t.name = ast_->expr<NameExpr>(cur().pos, cur().text);
      next();
      next();
      t.attr = expect_name();
      return t;
    }
    if (name_only) {
      Target t;
      t.pos = cur().pos;
      t.name = ast_->expr<NameExpr>(cur().pos, expect_name());
      t.name->ctx = NameCtx::kStore;
      return t;
    }
    Expr* e = with_tuple ? parse_tuple(true, true, extra_end, false) : parse_primary();
    if (e->kind == ExprKind::kConst) fail("can't assign to 'const'", e->pos);
    return to_target(e);
  }

  // ---- expressions --------------------------------------------------------------------------
  Expr* parse_expression(bool with_condexpr) {
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  Expr* parse_condexpr() {
    const uint32_t pos = cur().pos;
    Expr* e1 = parse_or();
    while (skip_name("if")) {
      Expr* e2 = parse_or();
      Expr* e3 = skip_name("else") ? parse_condexpr() : nullptr;
      e1 = ast_->expr<CondExpr>(pos, e2, e1, e3);
    }
    return e1;
  }

  Expr* parse_or() {
    const uint32_t pos = cur().pos;
    Expr* l = parse_and();
    while (skip_name("or")) l = ast_->expr<BinaryExpr>(ExprKind::kOr, pos, l, parse_and());
    return l;
  }

  Expr* parse_and() {
    const uint32_t pos = cur().pos;
    Expr* l = parse_not();
    while (skip_name("and")) l = ast_->expr<BinaryExpr>(ExprKind::kAnd, pos, l, parse_not());
    return l;
  }

  Expr* parse_not() {
    if (is_name("not")) {
      const uint32_t pos = cur().pos;
      next();
      return ast_->expr<UnaryExpr>(ExprKind::kNot, pos, parse_not());
    }
    return parse_compare();
  }

  Expr* parse_compare() {
    const uint32_t pos = cur().pos;
    Expr* e = parse_math1();
    CompareExpr* cmp = nullptr;
    for (;;) {
      CmpOp op;
      if (cur().type == Tok::kOp && (cur().text == "==" || cur().text == "!=" ||
                                     cur().text == "<" || cur().text == "<=" ||
                                     cur().text == ">" || cur().text == ">=")) {
        const std::string& t = cur().text;
        op = t == "==" ? CmpOp::kEq : t == "!=" ? CmpOp::kNe : t == "<" ? CmpOp::kLt
             : t == "<=" ? CmpOp::kLe : t == ">" ? CmpOp::kGt : CmpOp::kGe;
        next();
      } else if (skip_name("in")) {
        op = CmpOp::kIn;
      } else if (is_name("not") && look().type == Tok::kName && look().text == "in") {
        next();
        next();
        op = CmpOp::kNotIn;
      } else {
        break;
      }
      if (cmp == nullptr) cmp = ast_->expr<CompareExpr>(pos, e);
      cmp->ops.emplace_back(op, parse_math1());
    }
    return cmp ? cmp : e;
  }

  Expr* binary(BinOp op, uint32_t pos, Expr* l, Expr* r) {
    auto* b = ast_->expr<BinaryExpr>(ExprKind::kBinary, pos, l, r);
    b->op = op;
    return b;
  }

  Expr* parse_math1() {
    const uint32_t pos = cur().pos;
    Expr* l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const BinOp op = cur().text == "+" ? BinOp::kAdd : BinOp::kSub;
      next();
      l = binary(op, pos, l, parse_concat());
    }
    return l;
  }

  Expr* parse_concat() {
    const uint32_t pos = cur().pos;
    Expr* first = parse_math2();
    if (!is_op("~")) return first;
    auto* c = ast_->expr<ConcatExpr>(pos);
    c->parts.push_back(first);
    while (skip_op("~")) c->parts.push_back(parse_math2());
    return c;
  }

  Expr* parse_math2() {
    const uint32_t pos = cur().pos;
    Expr* l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string& t = cur().text;
      const BinOp op = t == "*" ? BinOp::kMul : t == "/" ? BinOp::kDiv
                       : t == "//" ? BinOp::kFloorDiv : BinOp::kMod;
      next();
      l = binary(op, pos, l, parse_pow());
    }
    return l;
  }

  Expr* parse_pow() {
    const uint32_t pos = cur().pos;
    Expr* l = parse_unary(true);
    while (skip_op("**")) l = binary(BinOp::kPow, pos, l, parse_unary(true));
    return l;
  }

  Expr* parse_unary(bool with_filter) {
    const uint32_t pos = cur().pos;
    // Bounds the recursion of this descent parser (and of the evaluator over its tree).
    struct Depth {
      int* d;
      ~Depth() { --*d; }
    } depth{&expr_depth_};
    if (++expr_depth_ > kMaxExprDepth)
      throw ParseFail{"expression nested too deeply", pos, true};
    Expr* node;
    if (skip_op("-")) {
      node = ast_->expr<UnaryExpr>(ExprKind::kNeg, pos, parse_unary(false));
    } else if (skip_op("+")) {
      node = ast_->expr<UnaryExpr>(ExprKind::kPos, pos, parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(node);
    if (with_filter) node = parse_filter_expr(node);
    return node;
  }

  Expr* parse_primary() {
    const Token& tk = cur();
    const uint32_t pos = tk.pos;
    switch (tk.type) {
      case Tok::kName: {
        Expr* e;
        if (tk.text == "true" || tk.text == "True") e = ast_->expr<ConstExpr>(pos, Value::boolean(true));
        else if (tk.text == "false" || tk.text == "False") e = ast_->expr<ConstExpr>(pos, Value::boolean(false));
        else if (tk.text == "none" || tk.text == "None") e = ast_->expr<ConstExpr>(pos, Value::none());
        else e = ast_->expr<NameExpr>(pos, tk.text);
        next();
        return e;
      }
      case Tok::kString: {
        std::string s = tk.text;
        next();
        while (cur().type == Tok::kString) {
          s += cur().text;
          next();
        }
        return ast_->expr<ConstExpr>(pos, Value::string(s));
      }
      case Tok::kInt: {
        if (tk.int_overflow)
          throw ParseFail{"integer literal beyond 64 bits", pos, true};
        const int64_t v = tk.ival;
        next();
        return ast_->expr<ConstExpr>(pos, Value::integer(v));
      }
      case Tok::kFloat: {
        const double v = tk.fval;
        next();
        return ast_->expr<ConstExpr>(pos, Value::number(v));
      }
      case Tok::kOp:
        if (tk.text == "(") {
          next();
          Expr* e = parse_tuple(false, true, {}, true);
          expect_op(")");
          return e;
        }
        if (tk.text == "[") return parse_list();
        if (tk.text == "{") return parse_dict();
        break;
      default: break;
    }
    fail("unexpected " + desc(tk));
  }

  bool is_tuple_end(std::initializer_list<const char*> extra) const {
    if (cur().type == Tok::kVarEnd || cur().type == Tok::kBlockEnd || is_op(")")) return true;
    for (const char* e : extra)
      if (is_name(e)) return true;
    return false;
  }

  Expr* parse_tuple(bool simplified, bool with_condexpr,
                    std::initializer_list<const char*> extra_end, bool explicit_parens) {
    const uint32_t pos = cur().pos;
    std::vector<Expr*> args;
    bool is_tuple = false;
    for (;;) {
      if (!args.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      args.push_back(simplified ? parse_primary() : parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!args.empty()) return args[0];
      if (!explicit_parens) fail("Expected an expression, got " + desc(cur()));
    }
    auto* t = ast_->expr<SeqExpr>(ExprKind::kTuple, pos);
    t->items = std::move(args);
    return t;
  }

  Expr* parse_list() {
    auto* l = ast_->expr<SeqExpr>(ExprKind::kList, cur().pos);
    expect_op("[");
    while (!is_op("]")) {
      if (!l->items.empty()) expect_op(",");
      if (is_op("]")) break;
      l->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return l;
  }

  Expr* parse_dict() {
    auto* d = ast_->expr<SeqExpr>(ExprKind::kDict, cur().pos);
    expect_op("{");
    while (!is_op("}")) {
      if (!d->items.empty()) expect_op(",");
      if (is_op("}")) break;
      d->items.push_back(parse_expression(true));
      expect_op(":");
      d->items.push_back(parse_expression(true));
    }
    expect_op("}");
    return d;
  }

  Expr* parse_postfix(Expr* node) {
    for (;;) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(node);
      } else if (is_op("(")) {
        node = parse_call(node);
      } else {
        return node;
      }
    }
  }

  Expr* parse_filter_expr(Expr* node) {
    for (;;) {
      if (is_op("|")) {
        node = parse_filter_chain(node, false);
      } else if (is_name("is")) {
        node = parse_test(node);
      } else if (is_op("(")) {
        node = parse_call(node);
      } else {
        return node;
      }
    }
  }

  Expr* parse_subscript(Expr* node) {
    const uint32_t pos = cur().pos;
    if (skip_op(".")) {
      const Token& a = cur();
      if (a.type == Tok::kName) {
        auto* g = ast_->expr<GetattrExpr>(pos, node, a.text);
        g->attr_value = Value::string(a.text);
        next();
        return g;
      }
      if (a.type != Tok::kInt) fail("expected name or number");
      Expr* k = ast_->expr<ConstExpr>(a.pos, Value::integer(a.ival));
      next();
      return ast_->expr<GetitemExpr>(pos, node, k);
    }
    expect_op("[");
    std::vector<Expr*> keys;
    SliceExpr* slice = nullptr;
    while (!is_op("]")) {
      if (!keys.empty() || slice) expect_op(",");
      Expr* start = nullptr;
      if (!is_op(":")) {
        start = parse_expression(true);
        if (!is_op(":")) {
          keys.push_back(start);
          continue;
        }
      }
      if (slice || !keys.empty())
        throw ParseFail{"multi-dimensional subscripts are not supported", pos, true};
      next();  // ':'
      slice = ast_->expr<SliceExpr>(pos, node);
      slice->start = start;
      if (!is_op(":") && !is_op("]") && !is_op(",")) slice->stop = parse_expression(true);
      if (skip_op(":")) {
        if (!is_op("]") && !is_op(",")) slice->step = parse_expression(true);
      }
    }
    expect_op("]");
    if (slice) {
      if (!keys.empty()) throw ParseFail{"multi-dimensional subscripts are not supported", pos, true};
      return slice;
    }
    if (keys.empty()) fail("expected subscript expression", pos);
    Expr* key = keys[0];
    if (keys.size() > 1) {
      auto* t = ast_->expr<SeqExpr>(ExprKind::kTuple, pos);
      t->items = keys;
      key = t;
    }
    return ast_->expr<GetitemExpr>(pos, node, key);
  }

  void parse_call_args(CallArgs* a) {
    const uint32_t pos = cur().pos;
    expect_op("(");
    bool need_comma = false;
    while (!is_op(")")) {
      if (need_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (skip_op("*")) {
        if (a->dyn_args || a->dyn_kwargs) fail("invalid syntax for function call expression", pos);
        a->dyn_args = parse_expression(true);
      } else if (skip_op("**")) {
        if (a->dyn_kwargs) fail("invalid syntax for function call expression", pos);
        a->dyn_kwargs = parse_expression(true);
      } else if (cur().type == Tok::kName && look().type == Tok::kOp && look().text == "=") {
        if (a->dyn_kwargs) fail("invalid syntax for function call expression", pos);
        std::string key = cur().text;
        next();
        next();
        a->kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (a->dyn_args || a->dyn_kwargs || !a->kwargs.empty())
          fail("invalid syntax for function call expression", pos);
        a->args.push_back(parse_expression(true));
      }
      need_comma = true;
    }
    expect_op(")");
  }

  Expr* parse_call(Expr* node) {
    auto* c = ast_->expr<CallExpr>(node->pos, node);  // errors point at the callee
    parse_call_args(&c->args);
    return c;
  }

  std::string dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    return name;
  }

  // `|f(args)|g ...`; with start_inline the first filter has no leading pipe.
  FilterExpr* parse_filter_chain(Expr* node, bool start_inline) {
    FilterExpr* f = nullptr;
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      const uint32_t pos = cur().pos;
      f = ast_->expr<FilterExpr>(pos, node, dotted_name());
      f->id = lookup_filter(f->name);
      if (is_op("(")) parse_call_args(&f->args);
      node = f;
    }
    return f;
  }

  Expr* parse_test(Expr* node) {
    const uint32_t pos = cur().pos;
    next();  // 'is'
    const bool negated = skip_name("not");
    auto* t = ast_->expr<TestExpr>(pos, node, dotted_name());
    t->id = lookup_test(t->name);
    if (is_op("(")) {
      parse_call_args(&t->args);
    } else if ((cur().type == Tok::kName || cur().type == Tok::kString || cur().type == Tok::kInt ||
                cur().type == Tok::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("You cannot chain multiple tests with is");
      Expr* arg = parse_postfix(parse_primary());
      t->args.args.push_back(arg);
    }
    if (negated) return ast_->expr<UnaryExpr>(ExprKind::kNot, pos, t);
    return t;
  }

  static constexpr int kMaxExprDepth = 200;
  static constexpr int kMaxBlockDepth = 100;

  const std::vector<Token>& t_;
  Ast* ast_;
  size_t i_ = 0;
  int expr_depth_ = 0;
  int block_depth_ = 0;
  bool in_loop_ = false;
  std::vector<std::string> tag_stack_;
};

}  // namespace

bool parse_template(const std::vector<Token>& tokens, Ast* ast, ParseError* error) {
  try {
    Parser p(tokens, ast);
    p.run();
    return true;
  } catch (const ParseFail& f) {
    error->message = f.message;
    error->pos = f.pos;
    error->unsupported = f.unsupported;
    return false;
  }
}

}  // namespace agentserve::tmpl
