// Python methods and attributes of builtin values: str, dict, list/tuple, the loop variable and
// cyclers. Mutating list/dict methods are refused, as the immutable sandbox refuses them.
#include <algorithm>
#include <cstring>

#include "text/template/builtins.h"
#include "text/template/evaluator.h"
#include "text/template/objects.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {

Value call_loop_recurse(Evaluator& ev, const Value& loop, const Args& args);

namespace {

enum MethodId : uint16_t {
  // str
  kStrip, kLstrip, kRstrip, kSplit, kRsplit, kSplitlines, kStartswith, kEndswith, kUpper,
  kLower, kTitle, kCapitalize, kSwapcase, kCasefold, kReplace, kFind, kRfind, kIndex, kRindex,
  kCount, kJoin, kFormat, kFormatMap, kIsdigit, kIsspace, kIsalpha, kIsalnum, kIsnumeric,
  kIsdecimal, kIslower, kIsupper, kIstitle, kIsascii, kCenter, kLjust, kRjust, kZfill,
  kPartition, kRpartition, kRemoveprefix, kRemovesuffix,
  // dict
  kDictGet, kDictItems, kDictKeys, kDictValues, kDictCopy,
  // list / tuple
  kListCount, kListIndex, kListCopy,
  // loop / cycler
  kLoopCycle, kLoopChanged, kCyclerNext, kCyclerReset,
};

struct MethodName {
  std::string_view name;
  MethodId id;
};

const MethodName kStrMethods[] = {
    {"strip", kStrip}, {"lstrip", kLstrip}, {"rstrip", kRstrip}, {"split", kSplit},
    {"rsplit", kRsplit}, {"splitlines", kSplitlines}, {"startswith", kStartswith},
    {"endswith", kEndswith}, {"upper", kUpper}, {"lower", kLower}, {"title", kTitle},
    {"capitalize", kCapitalize}, {"swapcase", kSwapcase}, {"casefold", kCasefold},
    {"replace", kReplace}, {"find", kFind}, {"rfind", kRfind}, {"index", kIndex},
    {"rindex", kRindex}, {"count", kCount}, {"join", kJoin}, {"format", kFormat},
    {"format_map", kFormatMap}, {"isdigit", kIsdigit}, {"isspace", kIsspace},
    {"isalpha", kIsalpha}, {"isalnum", kIsalnum}, {"isnumeric", kIsnumeric},
    {"isdecimal", kIsdecimal}, {"islower", kIslower}, {"isupper", kIsupper},
    {"istitle", kIstitle}, {"isascii", kIsascii}, {"center", kCenter}, {"ljust", kLjust},
    {"rjust", kRjust}, {"zfill", kZfill}, {"partition", kPartition},
    {"rpartition", kRpartition}, {"removeprefix", kRemoveprefix},
    {"removesuffix", kRemovesuffix},
};
const MethodName kDictMethods[] = {
    {"get", kDictGet}, {"items", kDictItems}, {"keys", kDictKeys}, {"values", kDictValues},
    {"copy", kDictCopy},
};
constexpr std::string_view kDictUnsafe[] = {"pop", "popitem", "update", "clear", "setdefault"};
const MethodName kListMethods[] = {{"count", kListCount}, {"index", kListIndex}, {"copy", kListCopy}};
constexpr std::string_view kListUnsafe[] = {"append", "extend", "insert", "remove", "reverse",
                                           "sort", "pop", "clear"};

template <size_t N>
int find_method(const MethodName (&table)[N], std::string_view name) {
  for (const MethodName& m : table)
    if (name == m.name) return m.id;
  return -1;
}
template <size_t N>
bool in_list(const std::string_view (&table)[N], std::string_view name) {
  for (std::string_view m : table)
    if (name == m) return true;
  return false;
}

Value bound(const Value& self, int id, std::string_view name, detail::CallableKind kind) {
  auto* c = new detail::CallableObj();
  c->ckind = kind;
  c->id = static_cast<uint16_t>(id < 0 ? 0 : id);
  c->self = self;
  c->name = std::string(name);
  return Value::adopt(ValueKind::kCallable, c);
}

int method_id(const Value& self, std::string_view name) {
  switch (self.kind()) {
    case ValueKind::kString: return find_method(kStrMethods, name);
    case ValueKind::kDict: return find_method(kDictMethods, name);
    case ValueKind::kList: {
      const auto f = self.list_obj()->flavor;
      if (f != detail::ListFlavor::kList && f != detail::ListFlavor::kTuple && f != detail::ListFlavor::kRange) return -1;
      const int id = find_method(kListMethods, name);
      if (id == kListCopy && f != detail::ListFlavor::kList) return -1;
      return id;
    }
    case ValueKind::kLoop:
      if (name == "cycle") return kLoopCycle;
      if (name == "changed") return kLoopChanged;
      return -1;
    case ValueKind::kCycler:
      if (static_cast<const detail::CyclerObj*>(self.obj())->joiner) return -1;
      if (name == "next") return kCyclerNext;
      if (name == "reset") return kCyclerReset;
      return -1;
    default: return -1;
  }
}

Value str_v(std::string s, bool markup = false) {
  return Value::adopt(ValueKind::kString, detail::new_str(s, markup));
}
Value str_v(std::string_view s) { return Value::adopt(ValueKind::kString, detail::new_str(s)); }

std::string_view need_str(const Value& v, const char* what) {
  if (!v.is_string()) {
    check_defined(v);
    throw_render(std::string(what) + " arg must be None or str, not " + py_type_name(v));
  }
  return v.as_string();
}

std::optional<std::string_view> opt_str(const Value& v, const char* what) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  return need_str(v, what);
}

int64_t need_int(const Value& v, const char* what) {
  if (auto i = as_index(v)) return *i;
  check_defined(v);
  throw_render(std::string("'") + py_type_name(v) + "' object cannot be interpreted as an integer" +
               (what[0] ? "" : ""));
}

// Python's slice-style clamping of optional start/end code-point bounds.
void bounds(const std::vector<Value>& a, size_t first, int64_t len, int64_t* start, int64_t* end) {
  *start = 0;
  *end = len;
  const auto adj = [&](const Value& v, int64_t* out) {
    if (v.is_none() || v.is_undefined()) return;
    int64_t x = need_int(v, "");
    if (x < 0) x = std::max<int64_t>(0, x + len);
    *out = std::min(x, len);
  };
  if (a.size() > first) adj(a[first], start);
  if (a.size() > first + 1) adj(a[first + 1], end);
}

bool affix_match(std::string_view s, const Value& affix, bool prefix, int64_t start, int64_t end) {
  const size_t b = cp_offset(s, static_cast<size_t>(start));
  const size_t e = cp_offset(s, static_cast<size_t>(std::max(start, end)));
  const std::string_view hay = s.substr(b, e - b);
  const auto one = [&](std::string_view a) {
    if (start > end) return false;
    return prefix ? hay.substr(0, a.size()) == a
                  : hay.size() >= a.size() && hay.substr(hay.size() - a.size()) == a;
  };
  if (affix.is_list() && affix.list_obj()->flavor == detail::ListFlavor::kTuple) {
    for (const Value& x : affix.as_list())
      if (one(need_str(x, prefix ? "startswith first" : "endswith first"))) return true;
    return false;
  }
  if (!affix.is_string())
    throw_render(std::string(prefix ? "startswith" : "endswith") +
                 " first arg must be str or a tuple of str, not " + py_type_name(affix));
  return one(affix.as_string());
}

Value list_of_strs(const std::vector<std::string_view>& parts, bool markup) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (std::string_view p : parts) items.push_back(str_v(std::string(p), markup));
  return detail::make_list(std::move(items));
}

Value call_str_method(Evaluator&, const Value& self, int id, const Args& args) {
  const std::string_view s = self.as_string();
  const bool markup = self.str_obj()->markup;
  const auto& a = args.pos;
  const auto nargs = [&](size_t lo, size_t hi, const char* name) {
    if (a.size() < lo || a.size() > hi)
      throw_render(std::string(name) + "() takes " + (lo == hi ? "exactly " : "at most ") +
                   std::to_string(hi) + " argument" + (hi == 1 ? "" : "s") + " (" +
                   std::to_string(a.size()) + " given)");
  };
  switch (id) {
    case kStrip:
    case kLstrip:
    case kRstrip: {
      nargs(0, 1, id == kStrip ? "strip" : id == kLstrip ? "lstrip" : "rstrip");
      const auto chars = a.empty() ? std::nullopt : opt_str(a[0], "strip");
      return str_v(std::string(py_strip(s, chars, id != kRstrip, id != kLstrip)), markup);
    }
    case kSplit:
    case kRsplit: {
      std::vector<Value> b = bind_args(id == kSplit ? "split" : "rsplit", args,
                                       {{"sep"}, {"maxsplit"}}, {Value::none(), Value::integer(-1)});
      const auto sep = opt_str(b[0], "must be str or None, not");
      if (sep && sep->empty()) throw_render("empty separator");
      return list_of_strs(py_split(s, sep, need_int(b[1], "maxsplit"), id == kRsplit), markup);
    }
    case kSplitlines: {
      std::vector<Value> b = bind_args("splitlines", args, {{"keepends"}}, {Value::boolean(false)});
      return list_of_strs(py_splitlines(s, b[0].truthy()), markup);
    }
    case kStartswith:
    case kEndswith: {
      nargs(1, 3, id == kStartswith ? "startswith" : "endswith");
      int64_t st, en;
      bounds(a, 1, static_cast<int64_t>(cp_count(s)), &st, &en);
      return Value::boolean(affix_match(s, a[0], id == kStartswith, st, en));
    }
    case kUpper: return str_v(py_upper(s), markup);
    case kLower:
    case kCasefold: return str_v(py_lower(s), markup);
    case kTitle: return str_v(py_title(s), markup);
    case kCapitalize: return str_v(py_capitalize(s), markup);
    case kSwapcase: return str_v(py_swapcase(s), markup);
    case kReplace: {
      nargs(2, 3, "replace");
      const int64_t count = a.size() > 2 ? need_int(a[2], "count") : -1;
      return str_v(py_replace(s, need_str(a[0], "replace"), need_str(a[1], "replace"), count), markup);
    }
    case kFind:
    case kRfind:
    case kIndex:
    case kRindex:
    case kCount: {
      nargs(1, 3, "find");
      int64_t st, en;
      bounds(a, 1, static_cast<int64_t>(cp_count(s)), &st, &en);
      const std::string_view sub = need_str(a[0], "must be str, not");
      if (id == kCount) return Value::integer(py_count(s, sub, st, en));
      const int64_t at = py_find(s, sub, st, en, id == kRfind || id == kRindex);
      if (at < 0 && (id == kIndex || id == kRindex)) throw_render("substring not found");
      return Value::integer(at);
    }
    case kJoin: {
      nargs(1, 1, "join");
      std::string out;
      size_t i = 0;
      for (const Value& x : py_iterate(a[0])) {
        if (!x.is_string())
          throw_render("sequence item " + std::to_string(i) + ": expected str instance, " +
                       py_type_name(x) + " found");
        if (i++) out.append(s);
        out.append(x.as_string());
      }
      return str_v(out, markup);
    }
    case kFormat: return str_v(py_str_format(s, a, args.kw), markup);
    case kFormatMap: {
      nargs(1, 1, "format_map");
      std::vector<std::pair<std::string, Value>> kw;
      if (a[0].is_dict())
        for (const auto& [k, v] : a[0].as_dict())
          if (k.is_string()) kw.emplace_back(std::string(k.as_string()), v);
      return str_v(py_str_format(s, {}, kw), markup);
    }
    case kIsdigit: return Value::boolean(py_is_all(s, CharClass::kDigit));
    case kIsspace: return Value::boolean(py_is_all(s, CharClass::kSpace));
    case kIsalpha: return Value::boolean(py_is_all(s, CharClass::kAlpha));
    case kIsalnum: return Value::boolean(py_is_all(s, CharClass::kAlnum));
    case kIsnumeric: return Value::boolean(py_is_all(s, CharClass::kNumeric));
    case kIsdecimal: return Value::boolean(py_is_all(s, CharClass::kDecimal));
    case kIslower: return Value::boolean(py_islower(s));
    case kIsupper: return Value::boolean(py_isupper(s));
    case kIstitle: return Value::boolean(py_istitle(s));
    case kIsascii: return Value::boolean(is_ascii(s));
    case kCenter:
    case kLjust:
    case kRjust: {
      nargs(1, 2, "center");
      uint32_t fill = ' ';
      if (a.size() > 1) {
        const std::string_view f = need_str(a[1], "fill character");
        if (cp_count(f) != 1) throw_render("The fill character must be exactly one character long");
        fill = decode_all(f)[0];
      }
      const int64_t w = need_int(a[0], "width");
      if (id == kCenter) return str_v(py_center(s, w, fill), markup);
      return str_v(py_ljust(s, w, fill, id == kRjust), markup);
    }
    case kZfill: {
      nargs(1, 1, "zfill");
      const int64_t w = need_int(a[0], "width");
      const int64_t len = static_cast<int64_t>(cp_count(s));
      if (w <= len) return self;
      std::string out(s);
      const size_t at = !out.empty() && (out[0] == '+' || out[0] == '-') ? 1 : 0;
      out.insert(at, static_cast<size_t>(w - len), '0');
      return str_v(out, markup);
    }
    case kPartition:
    case kRpartition: {
      nargs(1, 1, "partition");
      const std::string_view sep = need_str(a[0], "must be str, not");
      if (sep.empty()) throw_render("empty separator");
      const size_t at = id == kPartition ? s.find(sep) : s.rfind(sep);
      std::vector<Value> parts;
      if (at == std::string_view::npos) {
        if (id == kPartition) parts = {str_v(s), str_v(std::string_view()), str_v(std::string_view())};
        else parts = {str_v(std::string_view()), str_v(std::string_view()), str_v(s)};
      } else {
        parts = {str_v(s.substr(0, at)), str_v(sep), str_v(s.substr(at + sep.size()))};
      }
      return detail::make_list(std::move(parts), detail::ListFlavor::kTuple);
    }
    case kRemoveprefix:
    case kRemovesuffix: {
      nargs(1, 1, "removeprefix");
      const std::string_view x = need_str(a[0], "must be str, not");
      if (id == kRemoveprefix && s.substr(0, x.size()) == x) return str_v(s.substr(x.size()));
      if (id == kRemovesuffix && !x.empty() && s.size() >= x.size() && s.substr(s.size() - x.size()) == x)
        return str_v(s.substr(0, s.size() - x.size()));
      return self;
    }
    default: break;
  }
  throw_render("unknown str method");
}

Value dict_view(const Value& d, detail::ListFlavor flavor) {
  std::vector<Value> items;
  items.reserve(d.as_dict().size());
  for (const auto& [k, v] : d.as_dict()) {
    if (flavor == detail::ListFlavor::kDictKeys) items.push_back(k);
    else if (flavor == detail::ListFlavor::kDictValues) items.push_back(v);
    else items.push_back(detail::make_list({k, v}, detail::ListFlavor::kTuple));
  }
  return detail::make_list(std::move(items), flavor);
}

Value loop_attr(const Value& self, std::string_view name, bool* found) {
  const auto* l = static_cast<const detail::LoopObj*>(self.obj());
  const auto items = l->items.as_list();
  *found = true;
  if (name == "index") return Value::integer(l->index0 + 1);
  if (name == "index0") return Value::integer(l->index0);
  if (name == "revindex") return Value::integer(l->length - l->index0);
  if (name == "revindex0") return Value::integer(l->length - l->index0 - 1);
  if (name == "first") return Value::boolean(l->index0 == 0);
  if (name == "last") return Value::boolean(l->index0 + 1 == l->length);
  if (name == "length") return Value::integer(l->length);
  if (name == "depth") return Value::integer(l->depth0 + 1);
  if (name == "depth0") return Value::integer(l->depth0);
  if (name == "previtem") {
    if (l->index0 == 0)
      return Value::make_undefined(detail::kUndefHint, 0, detail::new_str("there is no previous item"));
    return items[static_cast<size_t>(l->index0 - 1)];
  }
  if (name == "nextitem") {
    if (l->index0 + 1 >= l->length)
      return Value::make_undefined(detail::kUndefHint, 0, detail::new_str("there is no next item"));
    return items[static_cast<size_t>(l->index0 + 1)];
  }
  *found = false;
  return Value();
}

}  // namespace

Value lookup_method(const Value& self, std::string_view name, bool* found) {
  *found = false;
  if (name.size() >= 2 && name[0] == '_' && name[1] == '_') {
    if (self.is_dict() || self.is_string() || self.is_list()) {
      *found = true;
      return Value::make_undefined(
          detail::kUndefHint, 0,
          detail::new_str("access to attribute '" + std::string(name) + "' of '" +
                          py_type_name(self) + "' object is unsafe."));
    }
  }
  if (self.kind() == ValueKind::kLoop) {
    Value v = loop_attr(self, name, found);
    if (*found) return v;
  }
  if (self.kind() == ValueKind::kCycler && name == "current") {
    const auto* c = static_cast<const detail::CyclerObj*>(self.obj());
    if (!c->joiner) {
      *found = true;
      return c->items[c->pos];
    }
  }
  const int id = method_id(self, name);
  if (id >= 0) {
    *found = true;
    return bound(self, id, name, detail::CallableKind::kMethod);
  }
  if ((self.is_dict() && in_list(kDictUnsafe, name)) ||
      (self.is_list() && self.list_obj()->flavor == detail::ListFlavor::kList && in_list(kListUnsafe, name))) {
    *found = true;
    return bound(self, -1, name, detail::CallableKind::kUnsafe);
  }
  return Value();
}

bool try_call_method(Evaluator& ev, const Value& self, std::string_view name, const Args& args,
                     Value* result) {
  const int id = method_id(self, name);
  if (id < 0) return false;
  *result = call_method(ev, self, id, args);
  return true;
}

Value call_method(Evaluator& ev, const Value& self, int id, const Args& args) {
  if (self.is_string()) return call_str_method(ev, self, id, args);
  const auto& a = args.pos;
  switch (id) {
    case kDictGet: {
      std::vector<Value> b = bind_args("get", args, {{"key", true}, {"default"}}, {Value(), Value::none()});
      const Value* v = self.dict_obj()->find(b[0]);
      return v ? *v : b[1];
    }
    case kDictItems: return dict_view(self, detail::ListFlavor::kDictItems);
    case kDictKeys: return dict_view(self, detail::ListFlavor::kDictKeys);
    case kDictValues: return dict_view(self, detail::ListFlavor::kDictValues);
    case kDictCopy: return detail::make_dict(std::vector<std::pair<Value, Value>>(self.as_dict().begin(), self.as_dict().end()));
    case kListCount: {
      if (a.size() != 1) throw_render("count() takes exactly one argument");
      int64_t n = 0;
      for (const Value& x : self.as_list()) n += py_eq(x, a[0]);
      return Value::integer(n);
    }
    case kListIndex: {
      if (a.empty()) throw_render("index expected at least 1 argument, got 0");
      int64_t st, en;
      const auto items = self.as_list();
      bounds(a, 1, static_cast<int64_t>(items.size()), &st, &en);
      for (int64_t i = st; i < en; ++i)
        if (py_eq(items[static_cast<size_t>(i)], a[0])) return Value::integer(i);
      std::string r;
      append_repr(&r, a[0]);
      throw_render(r + " is not in list");
    }
    case kListCopy: return detail::make_list(std::vector<Value>(self.as_list().begin(), self.as_list().end()));
    case kLoopCycle: {
      if (a.empty()) throw_render("no items for cycling given");
      const auto* l = static_cast<const detail::LoopObj*>(self.obj());
      return a[static_cast<size_t>(l->index0) % a.size()];
    }
    case kLoopChanged: {
      auto* l = static_cast<detail::LoopObj*>(self.obj());
      Value cur = detail::make_list(a, detail::ListFlavor::kTuple);
      if (!l->changed_called || !py_eq(l->last_changed, cur)) {
        l->changed_called = true;
        l->last_changed = std::move(cur);
        return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    case kCyclerNext: {
      auto* c = static_cast<detail::CyclerObj*>(self.obj());
      Value v = c->items[c->pos];
      c->pos = (c->pos + 1) % c->items.size();
      return v;
    }
    case kCyclerReset: static_cast<detail::CyclerObj*>(self.obj())->pos = 0; return Value::none();
    default: break;
  }
  (void)ev;
  throw_render("unknown method");
}

}  // namespace agentserve::tmpl
