#include "text/template/py_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/utf8.h"
#include "text/template/objects.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

using detail::ListFlavor;

const char kHex[] = "0123456789abcdef";

void append_seq_repr(std::string* out, const Value& v) {
  const auto* l = v.list_obj();
  const auto items = v.as_list();
  switch (l->flavor) {
    case ListFlavor::kTuple:
      out->push_back('(');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out->append(", ");
        append_repr(out, items[i]);
      }
      if (items.size() == 1) out->push_back(',');
      out->push_back(')');
      return;
    case ListFlavor::kRange:
      out->append("range(");
      append_int(out, l->range_start);
      out->append(", ");
      append_int(out, l->range_stop);
      if (l->range_step != 1) {
        out->append(", ");
        append_int(out, l->range_step);
      }
      out->push_back(')');
      return;
    case ListFlavor::kGenerator:
    case ListFlavor::kReversed:
      throw_unsupported(
          "printing a generator (Python prints its memory address); apply |list first");
    default: break;
  }
  const bool view = l->flavor != ListFlavor::kList;
  if (view) {
    out->append(detail::list_flavor_name(l->flavor));
    out->push_back('(');
  }
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out->append(", ");
    append_repr(out, items[i]);
  }
  out->push_back(']');
  if (view) out->push_back(')');
}

void append_dict_repr(std::string* out, const Value& v) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, x] : v.as_dict()) {
    if (!first) out->append(", ");
    first = false;
    append_repr(out, k);
    out->append(": ");
    append_repr(out, x);
  }
  out->push_back('}');
}

void append_object_str(std::string* out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNamespace: {
      out->append("<Namespace {");
      bool first = true;
      for (const auto& [k, x] : static_cast<const detail::NamespaceObj*>(v.obj())->attrs) {
        if (!first) out->append(", ");
        first = false;
        append_string_repr(out, k);
        out->append(": ");
        append_repr(out, x);
      }
      out->append("}>");
      return;
    }
    case ValueKind::kLoop: {
      const auto* l = static_cast<const detail::LoopObj*>(v.obj());
      out->append("<LoopContext ");
      append_int(out, l->index0 + 1);
      out->push_back('/');
      append_int(out, l->length);
      out->push_back('>');
      return;
    }
    case ValueKind::kCallable: {
      const auto* c = static_cast<const detail::CallableObj*>(v.obj());
      if (c->ckind == detail::CallableKind::kMacro) {
        out->append("<Macro '");
        out->append(c->name);
        out->append("'>");
        return;
      }
      throw_unsupported("printing the function '" + c->name +
                        "' (Python prints its memory address)");
    }
    default:
      throw_unsupported("printing a cycler or joiner (Python prints its memory address)");
  }
}

}  // namespace

void append_int(std::string* out, int64_t i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), i);
  out->append(buf, r.ptr);
}

void append_float_repr(std::string* out, double d) {
  if (std::isnan(d)) {
    out->append("nan");
    return;
  }
  if (std::isinf(d)) {
    out->append(d < 0 ? "-inf" : "inf");
    return;
  }
  // Shortest round-trip digits, then Python's layout: fixed notation when the decimal
  // exponent is in [-4, 16), else d.ddde±XX.
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  const size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at))
    if (c != '.') digits.push_back(c);
  int exp = std::atoi(std::string(sci.substr(e_at + 1)).c_str());
  if (neg) out->push_back('-');
  const int decpt = exp + 1;  // position of the decimal point after the first digit
  if (exp >= -4 && exp < 16) {
    if (decpt <= 0) {
      out->append("0.");
      out->append(static_cast<size_t>(-decpt), '0');
      out->append(digits);
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out->append(digits);
      out->append(static_cast<size_t>(decpt) - digits.size(), '0');
      out->append(".0");
    } else {
      out->append(digits.substr(0, static_cast<size_t>(decpt)));
      out->push_back('.');
      out->append(digits.substr(static_cast<size_t>(decpt)));
    }
    return;
  }
  out->push_back(digits[0]);
  if (digits.size() > 1) {
    out->push_back('.');
    out->append(digits.substr(1));
  }
  out->push_back('e');
  out->push_back(exp < 0 ? '-' : '+');
  const int a = std::abs(exp);
  if (a < 10) out->push_back('0');
  append_int(out, a);
}

void append_string_repr(std::string* out, std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  out->push_back(quote);
  size_t p = 0;
  while (p < s.size()) {
    const auto c = static_cast<uint8_t>(s[p]);
    if (c < 0x80) {
      ++p;
      if (c == static_cast<uint8_t>(quote) || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out->append("\\n");
      } else if (c == '\r') {
        out->append("\\r");
      } else if (c == '\t') {
        out->append("\\t");
      } else if (c < 0x20 || c == 0x7F) {
        out->append("\\x");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      } else {
        out->push_back(static_cast<char>(c));
      }
      continue;
    }
    const size_t start = p;
    const uint32_t cp = utf8_decode_one(s, &p);
    if (py_isprintable(cp)) {
      out->append(s.substr(start, p - start));
    } else if (cp < 0x100) {
      out->append("\\x");
      out->push_back(kHex[cp >> 4]);
      out->push_back(kHex[cp & 15]);
    } else if (cp < 0x10000) {
      out->append("\\u");
      for (int sh = 12; sh >= 0; sh -= 4) out->push_back(kHex[(cp >> sh) & 15]);
    } else {
      out->append("\\U");
      for (int sh = 28; sh >= 0; sh -= 4) out->push_back(kHex[(cp >> sh) & 15]);
    }
  }
  out->push_back(quote);
}

void append_repr(std::string* out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: out->append("Undefined"); return;
    case ValueKind::kString:
      if (v.str_obj()->markup) {
        out->append("Markup(");
        append_string_repr(out, v.as_string());
        out->push_back(')');
      } else {
        append_string_repr(out, v.as_string());
      }
      return;
    case ValueKind::kList: append_seq_repr(out, v); return;
    case ValueKind::kDict: append_dict_repr(out, v); return;
    default: append_str(out, v);
  }
}

void append_str(std::string* out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return;
    case ValueKind::kNone: out->append("None"); return;
    case ValueKind::kBool: out->append(v.as_bool() ? "True" : "False"); return;
    case ValueKind::kInt: append_int(out, v.as_int()); return;
    case ValueKind::kFloat: append_float_repr(out, v.as_float()); return;
    case ValueKind::kString: out->append(v.as_string()); return;
    case ValueKind::kList: append_seq_repr(out, v); return;
    case ValueKind::kDict: append_dict_repr(out, v); return;
    default: append_object_str(out, v);
  }
}

std::string to_str(const Value& v) {
  if (v.is_string()) return std::string(v.as_string());
  std::string s;
  append_str(&s, v);
  return s;
}

// ---- json.dumps ---------------------------------------------------------------------------

namespace {

const char* json_type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNamespace: return "Namespace";
    case ValueKind::kLoop: return "LoopContext";
    case ValueKind::kCallable: return "Macro";
    case ValueKind::kCycler: return "Cycler";
    case ValueKind::kList: return detail::list_flavor_name(v.list_obj()->flavor);
    default: return "object";
  }
}

// Bytes json.dumps escapes: control characters, '"' and '\\'; with ensure_ascii also DEL and
// everything non-ASCII.
struct JsonEscapeTable {
  bool plain[256];
  bool ascii_plain[256];
  constexpr JsonEscapeTable() : plain(), ascii_plain() {
    for (int c = 0; c < 256; ++c) {
      plain[c] = c >= 0x20 && c != '"' && c != '\\';
      ascii_plain[c] = plain[c] && c < 0x7F;
    }
  }
};
constexpr JsonEscapeTable kJsonEscape;

void append_json_string(std::string* out, std::string_view s, bool ensure_ascii) {
  out->push_back('"');
  const bool* plain = ensure_ascii ? kJsonEscape.ascii_plain : kJsonEscape.plain;
  size_t run = 0;
  size_t p = 0;
  const auto flush = [&](size_t upto) {
    if (upto > run) out->append(s.data() + run, upto - run);
  };
  while (p < s.size()) {
    const auto c = static_cast<uint8_t>(s[p]);
    if (plain[c]) {
      ++p;
      continue;
    }
    flush(p);
    if (c >= 0x80 || c == 0x7F) {
      size_t q = p;
      uint32_t cp = utf8_decode_one(s, &q);
      const auto u4 = [&](uint32_t u) {
        out->append("\\u");
        for (int sh = 12; sh >= 0; sh -= 4) out->push_back(kHex[(u >> sh) & 15]);
      };
      if (cp >= 0x10000) {
        cp -= 0x10000;
        u4(0xD800 + (cp >> 10));
        u4(0xDC00 + (cp & 0x3FF));
      } else {
        u4(cp);
      }
      p = q;
    } else {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default:
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
      }
      ++p;
    }
    run = p;
  }
  flush(p);
  out->push_back('"');
}

void append_json_float(std::string* out, double d) {
  if (std::isnan(d)) {
    out->append("NaN");
  } else if (std::isinf(d)) {
    out->append(d < 0 ? "-Infinity" : "Infinity");
  } else {
    append_float_repr(out, d);
  }
}

// Python ordering of two dict keys for sort_keys (str, int, float, bool, None mixed → error).
bool json_key_less(const Value& a, const Value& b) {
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  const auto num = [](const Value& v, double* d) {
    if (v.is_int()) *d = static_cast<double>(v.as_int());
    else if (v.is_float()) *d = v.as_float();
    else if (v.is_bool()) *d = v.as_bool();
    else return false;
    return true;
  };
  double x, y;
  if (num(a, &x) && num(b, &y)) return x < y;
  throw_render("'<' not supported between instances of these dict keys");
}

void dump(std::string* out, const Value& v, const JsonOptions& o, int level) {
  switch (v.kind()) {
    case ValueKind::kNone: out->append("null"); return;
    case ValueKind::kBool: out->append(v.as_bool() ? "true" : "false"); return;
    case ValueKind::kInt: append_int(out, v.as_int()); return;
    case ValueKind::kFloat: append_json_float(out, v.as_float()); return;
    case ValueKind::kString: append_json_string(out, v.as_string(), o.ensure_ascii); return;
    default: break;
  }
  const auto newline = [&](int lvl) {
    out->push_back('\n');
    for (int i = 0; i < lvl; ++i) out->append(*o.indent);
  };
  if (v.is_list()) {
    const auto f = v.list_obj()->flavor;
    if (f != detail::ListFlavor::kList && f != detail::ListFlavor::kTuple)
      throw_render(std::string("Object of type ") + json_type_name(v) + " is not JSON serializable");
    const auto items = v.as_list();
    if (items.empty()) {
      out->append("[]");
      return;
    }
    out->push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out->append(o.item_sep);
      if (o.indent) newline(level + 1);
      dump(out, items[i], o, level + 1);
    }
    if (o.indent) newline(level);
    out->push_back(']');
    return;
  }
  if (v.is_dict()) {
    const auto entries = v.as_dict();
    if (entries.empty()) {
      out->append("{}");
      return;
    }
    std::vector<const std::pair<Value, Value>*> order;
    order.reserve(entries.size());
    for (const auto& e : entries) order.push_back(&e);
    if (o.sort_keys)
      std::stable_sort(order.begin(), order.end(),
                       [](auto* a, auto* b) { return json_key_less(a->first, b->first); });
    out->push_back('{');
    bool first = true;
    for (const auto* e : order) {
      if (!first) out->append(o.item_sep);
      first = false;
      if (o.indent) newline(level + 1);
      const Value& k = e->first;
      switch (k.kind()) {
        case ValueKind::kString: append_json_string(out, k.as_string(), o.ensure_ascii); break;
        case ValueKind::kInt:
          out->push_back('"');
          append_int(out, k.as_int());
          out->push_back('"');
          break;
        case ValueKind::kFloat:
          out->push_back('"');
          append_json_float(out, k.as_float());
          out->push_back('"');
          break;
        case ValueKind::kBool: out->append(k.as_bool() ? "\"true\"" : "\"false\""); break;
        case ValueKind::kNone: out->append("\"null\""); break;
        default:
          throw_render(std::string("keys must be str, int, float, bool or None, not ") +
                       (k.is_list() ? detail::list_flavor_name(k.list_obj()->flavor) : "object"));
      }
      out->append(o.key_sep);
      dump(out, e->second, o, level + 1);
    }
    if (o.indent) newline(level);
    out->push_back('}');
    return;
  }
  throw_render(std::string("Object of type ") + json_type_name(v) + " is not JSON serializable");
}

}  // namespace

void append_json(std::string* out, const Value& v, const JsonOptions& options) {
  dump(out, v, options, 0);
}

}  // namespace agentserve::tmpl
