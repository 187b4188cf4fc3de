// Builtin tests (`x is defined`, `x is divisibleby 3` ...), as Jinja2 3.1 defines them.
#include "text/template/builtins.h"
#include "text/template/evaluator.h"
#include "text/template/objects.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

enum TestId : int {
  kOdd, kEven, kDivisibleby, kDefined, kUndefined, kFilter, kTest, kNone, kBoolean, kFalse,
  kTrue, kInteger, kFloat, kLower, kUpper, kString, kMapping, kNumber, kSequence, kIterable,
  kCallable, kSameas, kEscaped, kIn, kEq, kNe, kGt, kGe, kLt, kLe,
};

struct TestName {
  std::string_view name;
  int id;
};
const TestName kTests[] = {
    {"odd", kOdd}, {"even", kEven}, {"divisibleby", kDivisibleby}, {"defined", kDefined},
    {"undefined", kUndefined}, {"filter", kFilter}, {"test", kTest}, {"none", kNone},
    {"boolean", kBoolean}, {"false", kFalse}, {"true", kTrue}, {"integer", kInteger},
    {"float", kFloat}, {"lower", kLower}, {"upper", kUpper}, {"string", kString},
    {"mapping", kMapping}, {"number", kNumber}, {"sequence", kSequence},
    {"iterable", kIterable}, {"callable", kCallable}, {"sameas", kSameas},
    {"escaped", kEscaped}, {"in", kIn}, {"==", kEq}, {"eq", kEq}, {"equalto", kEq},
    {"!=", kNe}, {"ne", kNe}, {">", kGt}, {"gt", kGt}, {"greaterthan", kGt}, {"ge", kGe},
    {">=", kGe}, {"<", kLt}, {"lt", kLt}, {"lessthan", kLt}, {"<=", kLe}, {"le", kLe},
};

const Value& one_arg(const Args& args, const char* test) {
  if (args.pos.size() != 1 || !args.kw.empty())
    throw_render(std::string(test) + "() takes exactly one argument");
  return args.pos[0];
}

void no_args(const Args& args, const char* test) {
  if (!args.pos.empty() || !args.kw.empty())
    throw_render(std::string("test_") + test + "() takes 1 positional argument but more were given");
}

bool is_sameas(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kNone:
    case ValueKind::kUndefined: return a.is_none() || a.obj() == b.obj();
    case ValueKind::kBool: return a.as_bool() == b.as_bool();
    case ValueKind::kInt:
      // CPython caches small ints; larger equal ints are usually distinct objects.
      return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;
    case ValueKind::kFloat: return false;
    default: return a.obj() == b.obj();
  }
}

}  // namespace

int lookup_test(std::string_view name) {
  for (const TestName& t : kTests)
    if (name == t.name) return t.id;
  return -1;
}

bool jinja_has_test(std::string_view name) { return lookup_test(name) >= 0; }

bool call_test(Evaluator& ev, int id, const Value& v, const Args& args) {
  (void)ev;
  switch (id) {
    case kOdd:
    case kEven: {
      no_args(args, id == kOdd ? "odd" : "even");
      const Value m = op_binary(BinOp::kMod, v, Value::integer(2));
      return py_eq(m, Value::integer(id == kOdd ? 1 : 0));
    }
    case kDivisibleby: return py_eq(op_binary(BinOp::kMod, v, one_arg(args, "divisibleby")), Value::integer(0));
    case kDefined: no_args(args, "defined"); return !v.is_undefined();
    case kUndefined: no_args(args, "undefined"); return v.is_undefined();
    case kFilter: no_args(args, "filter"); return v.is_string() && jinja_has_filter(v.as_string());
    case kTest: no_args(args, "test"); return v.is_string() && jinja_has_test(v.as_string());
    case kNone: no_args(args, "none"); return v.is_none();
    case kBoolean: no_args(args, "boolean"); return v.is_bool();
    case kFalse: no_args(args, "false"); return v.is_bool() && !v.as_bool();
    case kTrue: no_args(args, "true"); return v.is_bool() && v.as_bool();
    case kInteger: no_args(args, "integer"); return v.is_int();
    case kFloat: no_args(args, "float"); return v.is_float();
    case kLower: no_args(args, "lower"); return py_islower(to_str(v));
    case kUpper: no_args(args, "upper"); return py_isupper(to_str(v));
    case kString: no_args(args, "string"); return v.is_string();
    case kMapping: no_args(args, "mapping"); return v.is_dict();
    case kNumber: no_args(args, "number"); return v.is_int() || v.is_float() || v.is_bool();
    case kSequence:
      no_args(args, "sequence");
      // len() and __getitem__: str, list, tuple, range, dict, and Undefined (which has both).
      if (v.is_list()) return detail::flavor_subscriptable(v.list_obj()->flavor);
      return v.is_string() || v.is_dict() || v.is_undefined();
    case kIterable:
      no_args(args, "iterable");
      return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined() ||
             v.kind() == ValueKind::kLoop;
    case kCallable:
      no_args(args, "callable");
      // Undefined has __call__ (it raises), so callable() is true for it.
      return v.kind() == ValueKind::kCallable || v.kind() == ValueKind::kLoop || v.is_undefined() ||
             (v.kind() == ValueKind::kCycler && static_cast<const detail::CyclerObj*>(v.obj())->joiner);
    case kSameas: return is_sameas(v, one_arg(args, "sameas"));
    case kEscaped: no_args(args, "escaped"); return v.is_string() && v.str_obj()->markup;
    case kIn: return py_contains(one_arg(args, "in"), v);
    case kEq: return py_eq(v, one_arg(args, "eq"));
    case kNe: return !py_eq(v, one_arg(args, "ne"));
    case kGt: return py_order(CmpOp::kGt, v, one_arg(args, "gt"));
    case kGe: return py_order(CmpOp::kGe, v, one_arg(args, "ge"));
    case kLt: return py_order(CmpOp::kLt, v, one_arg(args, "lt"));
    case kLe: return py_order(CmpOp::kLe, v, one_arg(args, "le"));
    default: break;
  }
  throw_render("unknown test");
}

}  // namespace agentserve::tmpl
