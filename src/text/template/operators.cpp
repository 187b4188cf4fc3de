#include "text/template/operators.h"

#include <cmath>
#include <cstring>

#include "base/utf8.h"
#include "text/template/builtins.h"
#include "text/template/objects.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

using detail::ListFlavor;
using detail::ListObj;
using detail::StrObj;

bool is_num(const Value& v) { return v.is_int() || v.is_float() || v.is_bool(); }
bool is_intlike(const Value& v) { return v.is_int() || v.is_bool(); }
int64_t int_of(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }
double float_of(const Value& v) {
  return v.is_float() ? v.as_float() : static_cast<double>(int_of(v));
}

[[noreturn]] void overflow() { throw_unsupported("integer result beyond 64 bits"); }

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::kAdd: return "+";
    case BinOp::kSub: return "-";
    case BinOp::kMul: return "*";
    case BinOp::kDiv: return "/";
    case BinOp::kFloorDiv: return "//";
    case BinOp::kMod: return "%";
    case BinOp::kPow: return "** or pow()";
  }
  return "?";
}

[[noreturn]] void unsupported_operands(BinOp op, const Value& a, const Value& b) {
  throw_render(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" +
               py_type_name(a) + "' and '" + py_type_name(b) + "'");
}

bool is_seq(const Value& v) {
  return v.is_list() && (v.list_obj()->flavor == ListFlavor::kList ||
                         v.list_obj()->flavor == ListFlavor::kTuple);
}

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    if (n > 0) {
      out.reserve(seq.as_string().size() * static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) out.append(seq.as_string());
    }
    return Value::adopt(ValueKind::kString, detail::new_str(out, seq.str_obj()->markup));
  }
  std::vector<Value> items;
  for (int64_t i = 0; i < n; ++i)
    for (const Value& x : seq.as_list()) items.push_back(x);
  return detail::make_list(std::move(items), seq.list_obj()->flavor);
}

double py_fmod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return m;
}

double py_floordiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, a / b);
  }
  return floordiv;
}

Value str_concat(const Value& a, const Value& b) {
  const bool ma = a.str_obj()->markup, mb = b.str_obj()->markup;
  std::string out;
  if (ma != mb) {
    // Markup + str escapes the plain side (markupsafe's __add__ / __radd__).
    out = ma ? std::string(a.as_string()) + html_escape(b.as_string())
             : html_escape(a.as_string()) + std::string(b.as_string());
  } else {
    out.reserve(a.as_string().size() + b.as_string().size());
    out.append(a.as_string());
    out.append(b.as_string());
  }
  return Value::adopt(ValueKind::kString, detail::new_str(out, ma || mb));
}

}  // namespace

const char* py_type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNone: return "NoneType";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return v.str_obj()->markup ? "Markup" : "str";
    case ValueKind::kList: return detail::list_flavor_name(v.list_obj()->flavor);
    case ValueKind::kDict: return "dict";
    case ValueKind::kCallable: {
      const auto* c = static_cast<const detail::CallableObj*>(v.obj());
      return c->ckind == detail::CallableKind::kMacro ? "Macro" : "builtin_function_or_method";
    }
    case ValueKind::kNamespace: return "Namespace";
    case ValueKind::kLoop: return "LoopContext";
    case ValueKind::kCycler: return "Cycler";
  }
  return "object";
}

void throw_undefined(const Value& v) { throw_render(detail::undefined_message(v)); }

Value op_binary(BinOp op, const Value& a, const Value& b) {
  check_defined(a);
  // str % x formats x even when it is undefined (str.__mod__ runs before Undefined's hooks).
  if (op == BinOp::kMod && a.is_string()) return py_percent_format(a, b);
  check_defined(b);
  if (is_num(a) && is_num(b)) {
    if (is_intlike(a) && is_intlike(b)) {
      const int64_t x = int_of(a), y = int_of(b);
      int64_t r;
      switch (op) {
        case BinOp::kAdd:
          if (__builtin_add_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case BinOp::kSub:
          if (__builtin_sub_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case BinOp::kMul:
          if (__builtin_mul_overflow(x, y, &r)) overflow();
          return Value::integer(r);
        case BinOp::kDiv:
          if (y == 0) throw_render("division by zero");
          return Value::number(static_cast<double>(x) / static_cast<double>(y));
        case BinOp::kFloorDiv: {
          if (y == 0) throw_render("integer division or modulo by zero");
          if (x == INT64_MIN && y == -1) overflow();
          int64_t q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return Value::integer(q);
        }
        case BinOp::kMod: {
          if (y == 0) throw_render("integer division or modulo by zero");
          if (y == -1) return Value::integer(0);
          int64_t m = x % y;
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return Value::integer(m);
        }
        case BinOp::kPow: {
          if (y < 0) {
            if (x == 0) throw_render("0.0 cannot be raised to a negative power");
            return Value::number(std::pow(static_cast<double>(x), static_cast<double>(y)));
          }
          int64_t result = 1, base = x, e = y;
          while (e > 0) {
            if (e & 1)
              if (__builtin_mul_overflow(result, base, &result)) overflow();
            e >>= 1;
            if (e > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
          }
          return Value::integer(result);
        }
      }
    }
    const double x = float_of(a), y = float_of(b);
    switch (op) {
      case BinOp::kAdd: return Value::number(x + y);
      case BinOp::kSub: return Value::number(x - y);
      case BinOp::kMul: return Value::number(x * y);
      case BinOp::kDiv:
        if (y == 0) throw_render("float division by zero");
        return Value::number(x / y);
      case BinOp::kFloorDiv:
        if (y == 0) throw_render("float floor division by zero");
        return Value::number(py_floordiv(x, y));
      case BinOp::kMod:
        if (y == 0) throw_render("float modulo");
        return Value::number(py_fmod(x, y));
      case BinOp::kPow:
        if (x == 0 && y < 0) throw_render("0.0 cannot be raised to a negative power");
        if (x < 0 && y != std::floor(y)) throw_unsupported("complex result of a power");
        return Value::number(std::pow(x, y));
    }
  }
  switch (op) {
    case BinOp::kAdd:
      if (a.is_string()) {
        if (!b.is_string())
          throw_render(std::string("can only concatenate str (not \"") + py_type_name(b) +
                       "\") to str");
        return str_concat(a, b);
      }
      if (is_seq(a)) {
        if (!is_seq(b) || a.list_obj()->flavor != b.list_obj()->flavor)
          throw_render(std::string("can only concatenate ") + py_type_name(a) + " (not \"" +
                       py_type_name(b) + "\") to " + py_type_name(a));
        std::vector<Value> items(a.as_list().begin(), a.as_list().end());
        items.insert(items.end(), b.as_list().begin(), b.as_list().end());
        return detail::make_list(std::move(items), a.list_obj()->flavor);
      }
      break;
    case BinOp::kMul:
      if ((a.is_string() || is_seq(a)) && is_intlike(b)) return repeat(a, int_of(b));
      if ((b.is_string() || is_seq(b)) && is_intlike(a)) return repeat(b, int_of(a));
      if (a.is_string() || is_seq(a))
        throw_render(std::string("can't multiply sequence by non-int of type '") + py_type_name(b) + "'");
      if (b.is_string() || is_seq(b))
        throw_render(std::string("can't multiply sequence by non-int of type '") + py_type_name(a) + "'");
      break;
    case BinOp::kMod:
      if (a.is_string()) return py_percent_format(a, b);
      break;
    default: break;
  }
  unsupported_operands(op, a, b);
}

Value op_neg(const Value& a) {
  check_defined(a);
  if (a.is_float()) return Value::number(-a.as_float());
  if (is_intlike(a)) {
    if (int_of(a) == INT64_MIN) overflow();
    return Value::integer(-int_of(a));
  }
  throw_render(std::string("bad operand type for unary -: '") + py_type_name(a) + "'");
}

Value op_pos(const Value& a) {
  check_defined(a);
  if (a.is_float()) return a;
  if (is_intlike(a)) return Value::integer(int_of(a));
  throw_render(std::string("bad operand type for unary +: '") + py_type_name(a) + "'");
}

bool py_eq(const Value& a, const Value& b) {
  if (is_num(a) && is_num(b)) {
    if (is_intlike(a) && is_intlike(b)) return int_of(a) == int_of(b);
    return float_of(a) == float_of(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return true;
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList: {
      const auto fa = a.list_obj()->flavor, fb = b.list_obj()->flavor;
      if (fa != fb) return false;
      if (!detail::flavor_has_len(fa)) return a.obj() == b.obj();
      const auto x = a.as_list(), y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!py_eq(x[i], y[i])) return false;
      return true;
    }
    case ValueKind::kDict: {
      const auto x = a.as_dict();
      if (x.size() != b.as_dict().size()) return false;
      for (const auto& [k, v] : x) {
        const Value* o = b.dict_obj()->find(k);
        if (o == nullptr || !py_eq(v, *o)) return false;
      }
      return true;
    }
    default: return a.obj() == b.obj();
  }
}

bool py_less(const Value& a, const Value& b) { return py_order(CmpOp::kLt, a, b); }

bool py_order(CmpOp op, const Value& a, const Value& b) {
  check_defined(a);
  check_defined(b);
  int c = 0;  // -1, 0, 1
  if (is_num(a) && is_num(b)) {
    if (is_intlike(a) && is_intlike(b)) {
      c = int_of(a) < int_of(b) ? -1 : int_of(a) > int_of(b) ? 1 : 0;
    } else {
      const double x = float_of(a), y = float_of(b);
      if (std::isnan(x) || std::isnan(y)) return false;
      c = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (a.is_string() && b.is_string()) {
    const int r = a.as_string().compare(b.as_string());  // UTF-8 byte order = code point order
    c = r < 0 ? -1 : r > 0 ? 1 : 0;
  } else if (is_seq(a) && is_seq(b) && a.list_obj()->flavor == b.list_obj()->flavor) {
    const auto x = a.as_list(), y = b.as_list();
    size_t i = 0;
    while (i < x.size() && i < y.size() && py_eq(x[i], y[i])) ++i;
    if (i < x.size() && i < y.size()) return py_order(op, x[i], y[i]);
    c = x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  } else {
    const char* sym = op == CmpOp::kLt ? "<" : op == CmpOp::kLe ? "<=" : op == CmpOp::kGt ? ">" : ">=";
    throw_render(std::string("'") + sym + "' not supported between instances of '" +
                 py_type_name(a) + "' and '" + py_type_name(b) + "'");
  }
  switch (op) {
    case CmpOp::kLt: return c < 0;
    case CmpOp::kLe: return c <= 0;
    case CmpOp::kGt: return c > 0;
    default: return c >= 0;
  }
}

bool py_compare(CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::kEq: return py_eq(a, b);
    case CmpOp::kNe: return !py_eq(a, b);
    case CmpOp::kIn: return py_contains(b, a);
    case CmpOp::kNotIn: return !py_contains(b, a);
    default: return py_order(op, a, b);
  }
}

bool py_contains(const Value& c, const Value& item) {
  switch (c.kind()) {
    case ValueKind::kString:
      if (!item.is_string()) {
        check_defined(item);
        throw_render(std::string("'in <string>' requires string as left operand, not ") +
                     py_type_name(item));
      }
      return c.as_string().find(item.as_string()) != std::string_view::npos;
    case ValueKind::kDict:
      if (detail::is_unhashable(item))
        throw_render(std::string("unhashable type: '") + py_type_name(item) + "'");
      return c.dict_obj()->find(item) != nullptr;
    case ValueKind::kList: {
      const auto* l = c.list_obj();
      if (l->flavor == ListFlavor::kDictItems || l->flavor == ListFlavor::kDictKeys ||
          flavor_has_len(l->flavor)) {
        for (const Value& x : l->items)
          if (py_eq(x, item)) return true;
        return false;
      }
      for (const Value& x : py_iterate(c))
        if (py_eq(x, item)) return true;
      return false;
    }
    case ValueKind::kUndefined: return false;  // iterates empty
    default:
      throw_render(std::string("argument of type '") + py_type_name(c) + "' is not iterable");
  }
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return 0;
    case ValueKind::kString: return static_cast<int64_t>(cp_count(v.as_string()));
    case ValueKind::kDict: return static_cast<int64_t>(v.as_dict().size());
    case ValueKind::kList:
      if (detail::flavor_has_len(v.list_obj()->flavor))
        return static_cast<int64_t>(v.as_list().size());
      break;
    case ValueKind::kLoop: return static_cast<const detail::LoopObj*>(v.obj())->length;
    case ValueKind::kNamespace: break;
    default: break;
  }
  throw_render(std::string("object of type '") + py_type_name(v) + "' has no len()");
}

std::vector<Value> py_iterate(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return {};
    case ValueKind::kList: {
      const auto* l = v.list_obj();
      if (!detail::flavor_has_len(l->flavor)) {
        if (l->consumed) return {};
        l->consumed = true;
      }
      return std::vector<Value>(l->items.begin(), l->items.end());
    }
    case ValueKind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.as_dict().size());
      for (const auto& [k, x] : v.as_dict()) keys.push_back(k);
      return keys;
    }
    case ValueKind::kString: {
      std::vector<Value> chars;
      const std::string_view s = v.as_string();
      size_t p = 0;
      while (p < s.size()) {
        const size_t start = p;
        utf8_decode_one(s, &p);
        chars.push_back(Value::string(s.substr(start, p - start)));
      }
      return chars;
    }
    default:
      throw_render(std::string("'") + py_type_name(v) + "' object is not iterable");
  }
}

Value py_iterable_as_list(const Value& v) {
  if (v.is_list() && detail::flavor_has_len(v.list_obj()->flavor)) return v;
  return detail::make_list(py_iterate(v));
}

std::optional<int64_t> as_index(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return static_cast<int64_t>(v.as_bool());
  return std::nullopt;
}

namespace {

Value undefined_attr(const Value& obj, const Value& name) {
  detail::Object* info = name.obj();
  detail::retain(info);
  return Value::make_undefined(detail::kUndefAttr, detail::owner_of(obj), info);
}

Value undefined_elem(const Value& obj, const Value& key) {
  if (const auto i = as_index(key))
    return Value::undefined_with_int(detail::kUndefElemInt, detail::owner_of(obj), *i);
  std::string r;
  append_repr(&r, key);
  return Value::make_undefined(detail::kUndefElemRepr, detail::owner_of(obj), detail::new_str(r));
}

}  // namespace

Value env_getattr(const Value& obj, const Value& name) {
  check_defined(obj);
  const std::string_view n = name.as_string();
  bool found = false;
  Value m = lookup_method(obj, n, &found);
  if (found) return m;
  switch (obj.kind()) {
    case ValueKind::kDict:
      if (const Value* v = obj.dict_obj()->find_str(n)) return *v;
      break;
    case ValueKind::kNamespace:
      if (const Value* v = static_cast<const detail::NamespaceObj*>(obj.obj())->find(n)) return *v;
      break;
    default: break;
  }
  return undefined_attr(obj, name);
}

Value env_getitem(const Value& obj, const Value& key) {
  check_defined(obj);
  switch (obj.kind()) {
    case ValueKind::kDict:
      if (const Value* v = obj.dict_obj()->find(key)) return *v;
      break;
    case ValueKind::kList:
      if (detail::flavor_subscriptable(obj.list_obj()->flavor)) {
        if (const auto i = as_index(key)) {
          const auto items = obj.as_list();
          const int64_t n = static_cast<int64_t>(items.size());
          const int64_t k = *i < 0 ? *i + n : *i;
          if (k >= 0 && k < n) return items[static_cast<size_t>(k)];
          return undefined_elem(obj, key);
        }
      }
      break;
    case ValueKind::kString:
      if (const auto i = as_index(key)) {
        const std::string_view s = obj.as_string();
        const int64_t n = static_cast<int64_t>(cp_count(s));
        const int64_t k = *i < 0 ? *i + n : *i;
        if (k >= 0 && k < n) {
          const size_t b = cp_offset(s, static_cast<size_t>(k));
          size_t e = b;
          utf8_decode_one(s, &e);
          return Value::string(s.substr(b, e - b));
        }
        return undefined_elem(obj, key);
      }
      break;
    default: break;
  }
  if (key.is_string()) {
    bool found = false;
    Value m = lookup_method(obj, key.as_string(), &found);
    if (found) return m;
    if (obj.kind() == ValueKind::kNamespace || obj.kind() == ValueKind::kLoop)
      return env_getattr(obj, key);
    return undefined_attr(obj, key);
  }
  return undefined_elem(obj, key);
}

Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  check_defined(obj);
  const auto idx = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (auto i = as_index(v)) return i;
    (void)what;
    throw_render("slice indices must be integers or None or have an __index__ method");
  };
  const std::optional<int64_t> a = idx(start, "start"), b = idx(stop, "stop");
  const int64_t st = idx(step, "step").value_or(1);
  if (st == 0) throw_render("slice step cannot be zero");
  const bool is_str = obj.is_string();
  if (!is_str && !(obj.is_list() && detail::flavor_subscriptable(obj.list_obj()->flavor)))
    throw_render(std::string("'") + py_type_name(obj) + "' object is not subscriptable");
  std::vector<uint32_t> cps;
  int64_t n;
  if (is_str) {
    if (is_ascii(obj.as_string())) {
      n = static_cast<int64_t>(obj.as_string().size());
    } else {
      cps = decode_all(obj.as_string());
      n = static_cast<int64_t>(cps.size());
    }
  } else {
    n = static_cast<int64_t>(obj.as_list().size());
  }
  // Python's PySlice_AdjustIndices.
  int64_t lo, hi;
  const auto adjust = [&](std::optional<int64_t> v, int64_t def) {
    if (!v) return def;
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  lo = adjust(a, st < 0 ? n - 1 : 0);
  hi = adjust(b, st < 0 ? -1 : n);
  std::vector<int64_t> picks;
  if (st > 0) {
    for (int64_t i = lo; i < hi; i += st) picks.push_back(i);
  } else {
    for (int64_t i = lo; i > hi; i += st) picks.push_back(i);
  }
  if (is_str) {
    const std::string_view s = obj.as_string();
    std::string out;
    if (cps.empty() && n > 0) {
      if (st == 1) return Value::string(s.substr(static_cast<size_t>(lo), static_cast<size_t>(std::max<int64_t>(0, hi - lo))));
      for (int64_t i : picks) out.push_back(s[static_cast<size_t>(i)]);
    } else {
      for (int64_t i : picks) utf8_append(&out, cps[static_cast<size_t>(i)]);
    }
    return Value::adopt(ValueKind::kString, detail::new_str(out, obj.str_obj()->markup));
  }
  const auto items = obj.as_list();
  std::vector<Value> out;
  out.reserve(picks.size());
  for (int64_t i : picks) out.push_back(items[static_cast<size_t>(i)]);
  const ListFlavor f = obj.list_obj()->flavor == ListFlavor::kTuple ? ListFlavor::kTuple : ListFlavor::kList;
  return detail::make_list(std::move(out), f);
}

}  // namespace agentserve::tmpl
