// The value model of the template engine: Python's values as Jinja2 sees them.
//
// A Value is 16 bytes: a kind tag and either an immediate (bool, int64, double) or a pointer to
// an immutable, reference-counted object (string, list, dict ...). Copying a Value never copies
// the data it points to. Dicts keep insertion order, because key order reaches the prompt.
//
// Reference counts: objects made outside a render (the caller's context, parsed constants) are
// counted atomically or not at all, so one context may be rendered by many threads at once;
// objects made during a render belong to that render's thread and are counted without atomics.
// A Value itself is not synchronised: do not assign to one Value from two threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentserve::tmpl {

enum class ValueKind : uint8_t {
  kUndefined,  // Jinja2's default Undefined: prints as "", falsy, iterates empty
  kNone,
  kBool,
  kInt,    // Python int, limited to 64 bits (overflow is a render error)
  kFloat,  // Python float (double)
  kString,
  kList,       // list, tuple, and the iterators filters return (see ListFlavor)
  kDict,       // insertion-ordered dict
  kCallable,   // macros, caller, builtins, bound methods
  kNamespace,  // namespace(): the one mutable object
  kLoop,       // the `loop` variable of a for loop
  kCycler,     // cycler() / joiner() objects
};

namespace detail {
struct Object;
struct StrObj;
struct ListObj;
struct DictObj;
}  // namespace detail

class Value {
 public:
  Value() noexcept : kind_(ValueKind::kUndefined), heap_(0), aux_(0), aux2_(0), pad_(0), i_(0) {}
  Value(const Value& o) noexcept;
  Value(Value&& o) noexcept;
  Value& operator=(const Value& o) noexcept;
  Value& operator=(Value&& o) noexcept;
  ~Value();

  // --- construction from C++ -----------------------------------------------------------------
  static Value undefined() { return Value(); }
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double d);
  static Value string(std::string_view s);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  // Keys are usually strings; any hashable Python value (int, None, tuple ...) is allowed.
  // A repeated key keeps its first position and its last value, as in Python.
  static Value dict(std::vector<std::pair<Value, Value>> entries);
  static Value dict(std::initializer_list<std::pair<std::string_view, Value>> entries);
  // JSON null/bool/number/string/array/object → None/bool/int-or-float/str/list/dict, keeping
  // the object key order of ordered_json.
  static Value from_json(const nlohmann::ordered_json& j);

  // --- inspection ----------------------------------------------------------------------------
  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_dict() const { return kind_ == ValueKind::kDict; }
  bool is_heap() const { return heap_ != 0; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return f_; }
  std::string_view as_string() const;            // requires is_string()
  std::span<const Value> as_list() const;        // requires is_list()
  std::span<const std::pair<Value, Value>> as_dict() const;  // requires is_dict()
  // Dict lookup by string key; nullptr when absent or not a dict.
  const Value* find(std::string_view key) const;

  // Python truthiness (bool(x)).
  bool truthy() const;

  // Converts back to JSON (for tests and tools); non-JSON values become null.
  nlohmann::ordered_json to_json() const;

  // --- engine internals ------------------------------------------------------------------------
  detail::Object* obj() const { return o_; }
  uint8_t aux() const { return aux_; }
  uint8_t aux2() const { return aux2_; }
  // Takes ownership of one reference to `o`.
  static Value adopt(ValueKind kind, detail::Object* o, uint8_t aux = 0, uint8_t aux2 = 0) {
    Value v;
    v.kind_ = kind;
    v.heap_ = o != nullptr;
    v.aux_ = aux;
    v.aux2_ = aux2;
    v.o_ = o;
    return v;
  }
  static Value make_undefined(uint8_t how, uint8_t owner, detail::Object* info_ref);
  static Value undefined_with_int(uint8_t how, uint8_t owner, int64_t key);
  const detail::StrObj* str_obj() const { return reinterpret_cast<const detail::StrObj*>(o_); }
  const detail::ListObj* list_obj() const { return reinterpret_cast<const detail::ListObj*>(o_); }
  const detail::DictObj* dict_obj() const { return reinterpret_cast<const detail::DictObj*>(o_); }

 private:
  ValueKind kind_;
  uint8_t heap_;  // 1 when o_ holds a counted reference
  uint8_t aux_;   // undefined: how it arose; string: unused
  uint8_t aux2_;  // undefined: the owner's type
  uint32_t pad_;
  union {
    bool b_;
    int64_t i_;
    double f_;
    detail::Object* o_;
  };
};
static_assert(sizeof(Value) == 16);

}  // namespace agentserve::tmpl
