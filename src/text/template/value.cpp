#include "text/template/value.h"

#include <cmath>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "text/template/objects.h"

namespace agentserve::tmpl {
namespace detail {

namespace {
thread_local RefMode g_alloc_mode = RefMode::kShared;

bool is_number_kind(ValueKind k) {
  return k == ValueKind::kInt || k == ValueKind::kFloat || k == ValueKind::kBool;
}
double number_of(const Value& v) {
  return v.is_float() ? v.as_float() : static_cast<double>(v.is_bool() ? v.as_bool() : v.as_int());
}

// Python equality restricted to what dict keys can be (hashable values).
bool keys_equal(const Value& a, const Value& b) {
  if (a.is_string() && b.is_string()) return a.as_string() == b.as_string();
  if (is_number_kind(a.kind()) && is_number_kind(b.kind())) {
    if (!a.is_float() && !b.is_float()) {
      const int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
      const int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
      return x == y;
    }
    return number_of(a) == number_of(b);
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_none() || a.is_undefined()) return true;
  if (a.is_list() && b.is_list()) {
    const auto x = a.as_list(), y = b.as_list();
    if (x.size() != y.size() || a.list_obj()->flavor != b.list_obj()->flavor) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!keys_equal(x[i], y[i])) return false;
    return true;
  }
  return a.obj() == b.obj();
}
}  // namespace

RefMode alloc_mode() { return g_alloc_mode; }
void set_alloc_mode(RefMode mode) { g_alloc_mode = mode; }

StrObj* new_str(std::string_view s, bool markup) {
  void* mem = ::operator new(sizeof(StrObj) + s.size() + 1);
  auto* o = static_cast<StrObj*>(mem);
  o->refs = 1;
  o->type = ObjType::kStr;
  o->mode = g_alloc_mode;
  o->size = s.size();
  o->markup = markup;
  char* d = reinterpret_cast<char*>(o + 1);
  if (!s.empty()) std::memcpy(d, s.data(), s.size());
  d[s.size()] = '\0';
  return o;
}

void destroy(Object* o) {
  switch (o->type) {
    case ObjType::kStr:
      ::operator delete(o);
      return;
    case ObjType::kList: delete static_cast<ListObj*>(o); return;
    case ObjType::kDict: delete static_cast<DictObj*>(o); return;
    case ObjType::kNamespace: delete static_cast<NamespaceObj*>(o); return;
    case ObjType::kCallable: delete static_cast<CallableObj*>(o); return;
    case ObjType::kLoop: delete static_cast<LoopObj*>(o); return;
    case ObjType::kCycler: delete static_cast<CyclerObj*>(o); return;
  }
}

void set_mode_deep(const Value& v, RefMode mode) {
  if (!v.is_heap()) return;
  Object* o = v.obj();
  o->mode = mode;
  if (o->type == ObjType::kList) {
    for (const Value& x : static_cast<ListObj*>(o)->items) set_mode_deep(x, mode);
  } else if (o->type == ObjType::kDict) {
    for (const auto& [k, x] : static_cast<DictObj*>(o)->entries) {
      set_mode_deep(k, mode);
      set_mode_deep(x, mode);
    }
  }
}

const char* list_flavor_name(ListFlavor f) {
  switch (f) {
    case ListFlavor::kList: return "list";
    case ListFlavor::kTuple: return "tuple";
    case ListFlavor::kGenerator: return "generator";
    case ListFlavor::kReversed: return "list_reverseiterator";
    case ListFlavor::kDictKeys: return "dict_keys";
    case ListFlavor::kDictValues: return "dict_values";
    case ListFlavor::kDictItems: return "dict_items";
    case ListFlavor::kRange: return "range";
  }
  return "list";
}

bool is_unhashable(const Value& v) {
  if (v.is_dict()) return true;
  if (!v.is_list()) return false;
  const ListFlavor f = v.list_obj()->flavor;
  return f == ListFlavor::kList || f == ListFlavor::kDictKeys || f == ListFlavor::kDictItems;
}

Value make_list(std::vector<Value> items, ListFlavor flavor) {
  auto* o = new ListObj();
  o->items = std::move(items);
  o->flavor = flavor;
  return Value::adopt(ValueKind::kList, o);
}

const Value* DictObj::find_str(std::string_view key) const {
  if (index) {
    auto it = index->find(key);
    return it == index->end() ? nullptr : &entries[it->second].second;
  }
  for (const auto& [k, v] : entries)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

const Value* DictObj::find(const Value& key) const {
  if (key.is_string()) return find_str(key.as_string());
  for (const auto& [k, v] : entries)
    if (keys_equal(k, key)) return &v;
  return nullptr;
}

Value make_dict(std::vector<std::pair<Value, Value>> entries) {
  auto* o = new DictObj();
  constexpr size_t kIndexFrom = 12;
  // Python: a repeated key keeps its first position and takes the last value.
  bool all_str = true;
  for (const auto& e : entries) all_str &= e.first.is_string();
  if (all_str && entries.size() >= kIndexFrom) {
    o->index = std::make_unique<std::unordered_map<std::string_view, uint32_t>>();
    o->index->reserve(entries.size());
    o->entries.reserve(entries.size());
    for (auto& e : entries) {
      // The view points into the key's StrObj, which moving the Value does not move.
      auto [it, fresh] = o->index->try_emplace(e.first.as_string(), o->entries.size());
      if (fresh) {
        o->entries.push_back(std::move(e));
      } else {
        o->entries[it->second].second = std::move(e.second);
      }
    }
  } else {
    o->entries.reserve(entries.size());
    for (auto& e : entries) {
      bool dup = false;
      for (auto& have : o->entries) {
        if (keys_equal(have.first, e.first)) {
          have.second = std::move(e.second);
          dup = true;
          break;
        }
      }
      if (!dup) o->entries.push_back(std::move(e));
    }
  }
  return Value::adopt(ValueKind::kDict, o);
}

void NamespaceObj::set(std::string_view name, Value v) {
  for (auto& [k, x] : attrs) {
    if (k == name) {
      x = std::move(v);
      return;
    }
  }
  attrs.emplace_back(std::string(name), std::move(v));
}

const char* owner_repr(uint8_t owner) {
  switch (owner) {
    case kOwnerDict: return "dict object";
    case kOwnerList: return "list object";
    case kOwnerTuple: return "tuple object";
    case kOwnerStr: return "str object";
    case kOwnerInt: return "int object";
    case kOwnerFloat: return "float object";
    case kOwnerBool: return "bool object";
    case kOwnerNamespace: return "jinja2.utils.Namespace object";
    case kOwnerLoop: return "jinja2.runtime.LoopContext object";
    case kOwnerMacro: return "jinja2.runtime.Macro object";
    case kOwnerBuiltin: return "builtin_function_or_method object";
    case kOwnerGenerator: return "generator object";
    case kOwnerRange: return "range object";
    case kOwnerDictView: return "dict_items object";
    case kOwnerCycler: return "jinja2.utils.Cycler object";
    case kOwnerNoneType: return "None";
    default: return "object";
  }
}

uint8_t owner_of(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNone: return kOwnerNoneType;
    case ValueKind::kBool: return kOwnerBool;
    case ValueKind::kInt: return kOwnerInt;
    case ValueKind::kFloat: return kOwnerFloat;
    case ValueKind::kString: return kOwnerStr;
    case ValueKind::kDict: return kOwnerDict;
    case ValueKind::kList:
      switch (v.list_obj()->flavor) {
        case ListFlavor::kTuple: return kOwnerTuple;
        case ListFlavor::kGenerator:
        case ListFlavor::kReversed: return kOwnerGenerator;
        case ListFlavor::kRange: return kOwnerRange;
        case ListFlavor::kList: return kOwnerList;
        default: return kOwnerDictView;
      }
    case ValueKind::kNamespace: return kOwnerNamespace;
    case ValueKind::kLoop: return kOwnerLoop;
    case ValueKind::kCallable: return kOwnerMacro;
    case ValueKind::kCycler: return kOwnerCycler;
    default: return kOwnerNone;
  }
}

std::string undefined_message(const Value& v) {
  const auto info = [&]() -> std::string_view {
    return v.is_heap() ? static_cast<const StrObj*>(v.obj())->view() : std::string_view();
  };
  switch (v.aux()) {
    case kUndefName: return "'" + std::string(info()) + "' is undefined";
    case kUndefAttr: {
      // object_type_repr(None) is 'None' and is quoted like the others by Jinja2.
      return "'" + std::string(owner_repr(v.aux2())) + "' has no attribute '" +
             std::string(info()) + "'";
    }
    case kUndefElemInt:
      return std::string(owner_repr(v.aux2())) + " has no element " + std::to_string(v.as_int());
    case kUndefElemRepr:
      return std::string(owner_repr(v.aux2())) + " has no element " + std::string(info());
    case kUndefHint: return std::string(info());
    default: return "None is undefined";
  }
}

}  // namespace detail

using detail::Object;
using detail::release;
using detail::retain;

Value::Value(const Value& o) noexcept
    : kind_(o.kind_), heap_(o.heap_), aux_(o.aux_), aux2_(o.aux2_), pad_(0), i_(o.i_) {
  if (heap_) retain(o_);
}

Value::Value(Value&& o) noexcept
    : kind_(o.kind_), heap_(o.heap_), aux_(o.aux_), aux2_(o.aux2_), pad_(0), i_(o.i_) {
  o.heap_ = 0;
  o.kind_ = ValueKind::kUndefined;
  o.aux_ = 0;
}

Value& Value::operator=(const Value& o) noexcept {
  if (o.heap_) retain(o.o_);
  if (heap_) release(o_);
  kind_ = o.kind_;
  heap_ = o.heap_;
  aux_ = o.aux_;
  aux2_ = o.aux2_;
  i_ = o.i_;
  return *this;
}

Value& Value::operator=(Value&& o) noexcept {
  if (this != &o) {
    if (heap_) release(o_);
    kind_ = o.kind_;
    heap_ = o.heap_;
    aux_ = o.aux_;
    aux2_ = o.aux2_;
    i_ = o.i_;
    o.heap_ = 0;
    o.kind_ = ValueKind::kUndefined;
    o.aux_ = 0;
  }
  return *this;
}

Value::~Value() {
  if (heap_) release(o_);
}

Value Value::none() {
  Value v;
  v.kind_ = ValueKind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = ValueKind::kBool;
  v.i_ = 0;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = ValueKind::kInt;
  v.i_ = i;
  return v;
}
Value Value::number(double d) {
  Value v;
  v.kind_ = ValueKind::kFloat;
  v.f_ = d;
  return v;
}
Value Value::string(std::string_view s) { return adopt(ValueKind::kString, detail::new_str(s)); }
Value Value::list(std::vector<Value> items) { return detail::make_list(std::move(items)); }
Value Value::tuple(std::vector<Value> items) {
  return detail::make_list(std::move(items), detail::ListFlavor::kTuple);
}
Value Value::dict(std::vector<std::pair<Value, Value>> entries) {
  return detail::make_dict(std::move(entries));
}
Value Value::dict(std::initializer_list<std::pair<std::string_view, Value>> entries) {
  std::vector<std::pair<Value, Value>> e;
  e.reserve(entries.size());
  for (const auto& [k, v] : entries) e.emplace_back(Value::string(k), v);
  return detail::make_dict(std::move(e));
}

Value Value::make_undefined(uint8_t how, uint8_t owner, detail::Object* info_ref) {
  Value v = adopt(ValueKind::kUndefined, info_ref, how, owner);
  return v;
}
Value Value::undefined_with_int(uint8_t how, uint8_t owner, int64_t key) {
  Value v;
  v.aux_ = how;
  v.aux2_ = owner;
  v.i_ = key;
  return v;
}

std::string_view Value::as_string() const { return str_obj()->view(); }
std::span<const Value> Value::as_list() const { return list_obj()->items; }
std::span<const std::pair<Value, Value>> Value::as_dict() const { return dict_obj()->entries; }

const Value* Value::find(std::string_view key) const {
  if (!is_dict()) return nullptr;
  return dict_obj()->find_str(key);
}

bool Value::truthy() const {
  switch (kind_) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return false;
    case ValueKind::kBool: return b_;
    case ValueKind::kInt: return i_ != 0;
    case ValueKind::kFloat: return f_ != 0.0;
    case ValueKind::kString: return str_obj()->size != 0;
    case ValueKind::kList:
      return !detail::flavor_has_len(list_obj()->flavor) || !list_obj()->items.empty();
    case ValueKind::kDict: return !dict_obj()->entries.empty();
    default: return true;
  }
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  using T = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case T::null: return none();
    case T::boolean: return boolean(j.get<bool>());
    case T::number_integer: return integer(j.get<int64_t>());
    case T::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return number(static_cast<double>(u));
      return integer(static_cast<int64_t>(u));
    }
    case T::number_float: return number(j.get<double>());
    case T::string: return string(j.get_ref<const std::string&>());
    case T::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x));
      return list(std::move(items));
    }
    case T::object: {
      std::vector<std::pair<Value, Value>> e;
      e.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        e.emplace_back(string(it.key()), from_json(it.value()));
      return dict(std::move(e));
    }
    default: return none();
  }
}

nlohmann::ordered_json Value::to_json() const {
  using J = nlohmann::ordered_json;
  switch (kind_) {
    case ValueKind::kBool: return J(b_);
    case ValueKind::kInt: return J(i_);
    case ValueKind::kFloat: return J(f_);
    case ValueKind::kString: return J(std::string(as_string()));
    case ValueKind::kList: {
      J a = J::array();
      for (const Value& x : as_list()) a.push_back(x.to_json());
      return a;
    }
    case ValueKind::kDict: {
      J o = J::object();
      for (const auto& [k, x] : as_dict())
        if (k.is_string()) o[std::string(k.as_string())] = x.to_json();
      return o;
    }
    default: return J();
  }
}

}  // namespace agentserve::tmpl
