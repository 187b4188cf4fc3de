// Heap objects behind Value (engine-internal). Every object starts with a header holding its
// reference count, its type and how it is counted (see value.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/template/value.h"

namespace agentserve::tmpl {

struct MacroDef;
struct ForStmt;
struct Frame;

namespace detail {

enum class ObjType : uint8_t { kStr, kList, kDict, kNamespace, kCallable, kLoop, kCycler };

// kShared: made outside a render, possibly read by several threads (atomic counts).
// kLocal: made by a render, only ever touched by its thread (plain counts).
// kImmortal: parsed constants owned by a Template; never counted, freed with the Template.
enum class RefMode : uint8_t { kShared, kLocal, kImmortal };

// The mode new objects get on this thread: kLocal while a render runs, else kShared.
RefMode alloc_mode();
void set_alloc_mode(RefMode mode);

struct Object {
  mutable uint32_t refs = 1;
  ObjType type;
  RefMode mode;
  explicit Object(ObjType t) : type(t), mode(alloc_mode()) {}
};

void destroy(Object* o);

inline void retain(Object* o) {
  if (o->mode == RefMode::kLocal) {
    ++o->refs;
  } else if (o->mode == RefMode::kShared) {
    std::atomic_ref<uint32_t>(o->refs).fetch_add(1, std::memory_order_relaxed);
  }
}

inline void release(Object* o) {
  if (o->mode == RefMode::kLocal) {
    if (--o->refs == 0) destroy(o);
  } else if (o->mode == RefMode::kShared) {
    if (std::atomic_ref<uint32_t>(o->refs).fetch_sub(1, std::memory_order_acq_rel) == 1)
      destroy(o);
  }
}

// Marks `v` and everything it reaches immortal (parsed constants), or back to shared so that
// the owner's last release frees it.
void set_mode_deep(const Value& v, RefMode mode);

// Immutable UTF-8 text, stored right after the header. `markup` is markupsafe's Markup flag
// (set by |safe and |escape): `+` and `%` with a Markup escape the plain operand.
struct StrObj : Object {
  size_t size;
  bool markup;
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view view() const { return {data(), size}; }
};
StrObj* new_str(std::string_view s, bool markup = false);

// What a "list" object really is in Python; it decides printing, len(), indexing and truthiness.
enum class ListFlavor : uint8_t {
  kList,
  kTuple,
  kGenerator,     // what map/select/reject/items/batch/... return: single use, always truthy
  kReversed,      // reversed(list): single use, always truthy
  kDictKeys,      // dict.keys()
  kDictValues,    // dict.values()
  kDictItems,     // dict.items()
  kRange,         // range(...)
};
const char* list_flavor_name(ListFlavor f);
inline bool flavor_has_len(ListFlavor f) {
  return f != ListFlavor::kGenerator && f != ListFlavor::kReversed;
}
inline bool flavor_subscriptable(ListFlavor f) {
  return f == ListFlavor::kList || f == ListFlavor::kTuple || f == ListFlavor::kRange;
}

// Python's unhashable builtins: dict, list, dict_keys, dict_items.
bool is_unhashable(const Value& v);

struct ListObj : Object {
  std::vector<Value> items;
  ListFlavor flavor = ListFlavor::kList;
  mutable bool consumed = false;  // single-use flavors, once iterated
  int64_t range_start = 0, range_stop = 0, range_step = 1;
  ListObj() : Object(ObjType::kList) {}
};
Value make_list(std::vector<Value> items, ListFlavor flavor = ListFlavor::kList);

// Insertion-ordered dict. Large dicts get a hash index over their string keys.
struct DictObj : Object {
  std::vector<std::pair<Value, Value>> entries;
  std::unique_ptr<std::unordered_map<std::string_view, uint32_t>> index;
  DictObj() : Object(ObjType::kDict) {}
  // Python key lookup (1 == 1.0 == True); nullptr when absent.
  const Value* find(const Value& key) const;
  const Value* find_str(std::string_view key) const;
};
// Builds a dict from entries; repeated keys keep the first position and the last value.
Value make_dict(std::vector<std::pair<Value, Value>> entries);

struct NamespaceObj : Object {
  std::vector<std::pair<std::string, Value>> attrs;
  NamespaceObj() : Object(ObjType::kNamespace) {}
  const Value* find(std::string_view name) const {
    for (const auto& [k, v] : attrs)
      if (k == name) return &v;
    return nullptr;
  }
  void set(std::string_view name, Value v);
};

enum class CallableKind : uint8_t {
  kGlobal,       // range, namespace, dict, raise_exception, strftime_now, cycler, joiner
  kMethod,       // a str / dict / list / loop / cycler method bound to `self`
  kMacro,        // a {% macro %}, or the caller of a {% call %} block
  kLoopRecurse,  // calling `loop(...)` of a recursive for loop
  kUnsafe,       // a mutating method of list/dict: refused when called
};

struct CallableObj : Object {
  CallableKind ckind;
  uint16_t id = 0;      // global or method id
  Value self;           // bound receiver / loop object
  const MacroDef* macro = nullptr;
  Frame* frame = nullptr;  // the frame a macro was defined in (its lexical parent)
  std::string name;     // for printing and error messages
  CallableObj() : Object(ObjType::kCallable) {}
};

struct LoopObj : Object {
  Value items;             // the (filtered) list being iterated
  int64_t index0 = 0;
  int64_t length = 0;
  int64_t depth0 = 0;
  Value last_changed;      // loop.changed() state
  bool changed_called = false;
  const ForStmt* node = nullptr;  // recursive loops: the for statement to re-run
  Frame* frame = nullptr;         // recursive loops: the frame the for statement runs in
  LoopObj() : Object(ObjType::kLoop) {}
};

struct CyclerObj : Object {
  bool joiner = false;
  std::vector<Value> items;  // cycler: the items; joiner: items[0] is the separator
  size_t pos = 0;
  bool used = false;
  CyclerObj() : Object(ObjType::kCycler) {}
};

// How an undefined value arose; decides the message of the error its misuse raises.
enum UndefHow : uint8_t {
  kUndefNone = 0,     // Undefined(): "None is undefined"
  kUndefName,         // info = name: "'x' is undefined"
  kUndefAttr,         // info = attribute: "'dict object' has no attribute 'x'"
  kUndefElemInt,      // int key in i_: "list object has no element 5"
  kUndefElemRepr,     // info = repr of a key: "dict object has no element (1, 2)"
  kUndefHint,         // info = the whole message
};
// The owner types that appear in those messages (Jinja2's object_type_repr).
enum UndefOwner : uint8_t {
  kOwnerNone = 0, kOwnerDict, kOwnerList, kOwnerTuple, kOwnerStr, kOwnerInt, kOwnerFloat,
  kOwnerBool, kOwnerNamespace, kOwnerLoop, kOwnerMacro, kOwnerBuiltin, kOwnerGenerator,
  kOwnerRange, kOwnerDictView, kOwnerCycler, kOwnerNoneType,
};
const char* owner_repr(uint8_t owner);
uint8_t owner_of(const Value& v);
std::string undefined_message(const Value& v);

}  // namespace detail
}  // namespace agentserve::tmpl
