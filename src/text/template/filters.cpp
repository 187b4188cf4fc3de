// Builtin filters on strings and scalars, the filter registry and dispatch.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/utf8.h"
#include "text/template/evaluator.h"
#include "text/template/filters_internal.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

struct FilterName {
  std::string_view name;
  int id;
};
const FilterName kFilters[] = {
    {"abs", kFAbs}, {"attr", kFAttr}, {"batch", kFBatch}, {"capitalize", kFCapitalize},
    {"center", kFCenter}, {"count", kFCount}, {"d", kFD}, {"default", kFDefault},
    {"dictsort", kFDictsort}, {"e", kFE}, {"escape", kFEscape},
    {"filesizeformat", kFFilesizeformat}, {"first", kFFirst}, {"float", kFFloat},
    {"forceescape", kFForceescape}, {"format", kFFormat}, {"indent", kFIndent}, {"int", kFInt},
    {"join", kFJoin}, {"last", kFLast}, {"length", kFLength}, {"list", kFList},
    {"lower", kFLower}, {"items", kFItems}, {"map", kFMap}, {"min", kFMin}, {"max", kFMax},
    {"reject", kFReject}, {"rejectattr", kFRejectattr}, {"replace", kFReplace},
    {"reverse", kFReverse}, {"round", kFRound}, {"safe", kFSafe}, {"select", kFSelect},
    {"selectattr", kFSelectattr}, {"slice", kFSlice}, {"sort", kFSort}, {"string", kFString},
    {"striptags", kFStriptags}, {"sum", kFSum}, {"title", kFTitle}, {"trim", kFTrim},
    {"truncate", kFTruncate}, {"unique", kFUnique}, {"upper", kFUpper},
    {"wordcount", kFWordcount}, {"tojson", kFTojson},
};
// Filters Jinja2 3.1 has that agentserve does not implement (chat templates do not use them).
const char* const kJinjaOnlyFilters[] = {"groupby", "pprint", "random", "urlencode", "urlize",
                                         "wordwrap", "xmlattr"};

// Python's int(str): optional sign, digits with single underscores, surrounding whitespace.
bool parse_py_int(std::string_view s, int base, int64_t* out) {
  s = py_strip(s, std::nullopt, true, true);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') s.remove_prefix(2);
  if (s.empty()) return false;
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || s[i + 1] == '_') return false;
      continue;
    }
    digits.push_back(s[i]);
  }
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(digits.c_str(), &end, base);
  if (end == nullptr || *end != '\0' || digits.empty() || digits[0] == '+' || digits[0] == '-') return false;
  if (errno == ERANGE) throw_unsupported("integer beyond 64 bits");
  *out = neg ? -v : v;
  return true;
}

// Python's float(str).
bool parse_py_float(std::string_view s, double* out) {
  s = py_strip(s, std::nullopt, true, true);
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return false;
      continue;
    }
    t.push_back(s[i]);
  }
  if (t.empty()) return false;
  std::string l = py_lower(t);
  std::string_view body = l;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "infinity" || body == "nan") {
    *out = std::strtod(l.c_str(), nullptr);
    return true;
  }
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-'))
      return false;
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return end != nullptr && *end == '\0';
}

Value do_int(const Value& v, const Value& def, const Value& base_v) {
  check_defined(v);  // int(Undefined) raises UndefinedError, which do_int does not catch
  const int64_t base = as_index(base_v).value_or(10);
  if (v.is_string()) {
    int64_t i;
    if (parse_py_int(v.as_string(), static_cast<int>(base), &i)) return Value::integer(i);
    double d;
    if (parse_py_float(v.as_string(), &d) && std::isfinite(d)) return Value::integer(static_cast<int64_t>(std::trunc(d)));
    return def;
  }
  if (v.is_int() || v.is_bool()) return Value::integer(v.is_bool() ? v.as_bool() : v.as_int());
  if (v.is_float()) {
    if (!std::isfinite(v.as_float())) return def;
    return Value::integer(static_cast<int64_t>(std::trunc(v.as_float())));
  }
  return def;
}

Value do_float(const Value& v, const Value& def) {
  check_defined(v);
  if (v.is_float()) return v;
  if (v.is_int() || v.is_bool()) return Value::number(static_cast<double>(v.is_bool() ? v.as_bool() : v.as_int()));
  if (v.is_string()) {
    double d;
    if (parse_py_float(v.as_string(), &d)) return Value::number(d);
  }
  return def;
}

Value do_round(const Value& v, const Value& prec_v, const Value& method) {
  const std::string m = method.is_string() ? std::string(method.as_string()) : "common";
  if (m != "common" && m != "ceil" && m != "floor")
    throw_render("method must be common, ceil or floor");
  const int64_t p = as_index(prec_v).value_or(0);
  check_defined(v);
  if (m == "common") {
    if (v.is_int() || v.is_bool()) {
      const int64_t x = v.is_bool() ? v.as_bool() : v.as_int();
      if (p >= 0) return Value::integer(x);
      int64_t scale = 1;
      for (int64_t i = 0; i < -p && scale < INT64_MAX / 10; ++i) scale *= 10;
      const int64_t q = x / scale, r = x % scale;
      int64_t res = q;
      if (2 * std::llabs(r) > scale || (2 * std::llabs(r) == scale && (q % 2 != 0))) res += x < 0 ? -1 : 1;
      return Value::integer(res * scale);
    }
    if (!v.is_float()) throw_render(std::string("type ") + py_type_name(v) + " doesn't define __round__ method");
    const double x = v.as_float();
    if (!std::isfinite(x)) return v;
    if (p >= 0 && p < 300) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(p), x);
      return Value::number(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(-p));
    return Value::number(std::nearbyint(x / scale) * scale);
  }
  // ceil/floor: math.ceil(value * 10**precision) / 10**precision (true division: a float).
  const Value scale = op_binary(BinOp::kPow, Value::integer(10), Value::integer(p));
  const Value scaled = op_binary(BinOp::kMul, v, scale);
  const double s = scaled.is_float() ? scaled.as_float() : static_cast<double>(scaled.as_int());
  const double r = m == "ceil" ? std::ceil(s) : std::floor(s);
  return op_binary(BinOp::kDiv, Value::integer(static_cast<int64_t>(r)), scale);
}

std::string do_indent(std::string s, const Value& width, bool first, bool blank) {
  const std::string ind = width.is_string() ? std::string(width.as_string())
                                            : std::string(static_cast<size_t>(std::max<int64_t>(0, as_index(width).value_or(4))), ' ');
  s += "\n";
  std::string rv;
  const auto lines = py_splitlines(s, false);
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + ind;
      rv.append(lines[i]);
    }
  } else {
    if (!lines.empty()) rv.append(lines[0]);
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += ind;
      rv.append(lines[i]);
    }
  }
  if (first) rv = ind + rv;
  return rv;
}

std::string do_truncate(const std::string& s, int64_t length, bool killwords, const std::string& end,
                        int64_t leeway) {
  const int64_t endlen = static_cast<int64_t>(cp_count(end));
  if (length < endlen) throw_render("expected length >= " + std::to_string(endlen) + ", got " + std::to_string(length));
  if (leeway < 0) throw_render("expected leeway >= 0, got " + std::to_string(leeway));
  if (static_cast<int64_t>(cp_count(s)) <= length + leeway) return s;
  const std::string head = s.substr(0, cp_offset(s, static_cast<size_t>(length - endlen)));
  if (killwords) return head + end;
  const size_t sp = head.rfind(' ');
  return (sp == std::string::npos ? head : head.substr(0, sp)) + end;
}

std::string do_striptags(std::string s) {
  // Markup.striptags: drop comments and tags, unescape entities, collapse whitespace.
  std::string t;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t e = s.find("-->", i + 4);
      if (e == std::string::npos) { t.append(s.substr(i)); break; }
      i = e + 3;
    } else if (s[i] == '<') {
      const size_t e = s.find('>', i + 1);
      if (e == std::string::npos) { t.append(s.substr(i)); break; }
      i = e + 1;
    } else {
      t.push_back(s[i++]);
    }
  }
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#34;", "\""},
      {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", "\xC2\xA0"}};
  std::string u;
  for (size_t i = 0; i < t.size();) {
    bool hit = false;
    if (t[i] == '&') {
      for (const auto& [ent, rep] : kEntities) {
        if (t.compare(i, std::strlen(ent), ent) == 0) {
          u += rep;
          i += std::strlen(ent);
          hit = true;
          break;
        }
      }
    }
    if (!hit) u.push_back(t[i++]);
  }
  std::string out;
  for (std::string_view w : py_split(u, std::nullopt, -1, false)) {
    if (!out.empty()) out.push_back(' ');
    out.append(w);
  }
  return out;
}

std::string do_filesizeformat(const Value& v, bool binary) {
  const Value f = do_float(v, Value());
  if (f.is_undefined()) throw_render("could not convert value to float");
  const double bytes = f.as_float();
  const double base = binary ? 1024 : 1000;
  static const char* const kBin[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  static const char* const kDec[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  char buf[64];
  if (bytes == 1) return "1 Byte";
  if (bytes < base) {
    std::snprintf(buf, sizeof buf, "%lld Bytes", static_cast<long long>(bytes));
    return buf;
  }
  double unit = base;
  int i = 0;
  for (; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    if (bytes < unit) break;
  }
  if (i == 8) i = 7;
  std::snprintf(buf, sizeof buf, "%.1f %s", base * bytes / unit, binary ? kBin[i] : kDec[i]);
  return buf;
}

JsonOptions json_options(const std::vector<Value>& b) {
  JsonOptions o;
  o.ensure_ascii = b[0].truthy();
  if (!b[1].is_none() && !b[1].is_undefined()) {
    if (b[1].is_string()) {
      o.indent = std::string(b[1].as_string());
    } else if (auto n = as_index(b[1])) {
      o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, *n)), ' ');
    } else {
      throw_render("indent must be an int or a str");
    }
    o.item_sep = ",";
  }
  if (!b[2].is_none() && !b[2].is_undefined()) {
    std::vector<Value> seps = py_iterate(b[2]);
    if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
      throw_render("separators must be a (item_separator, key_separator) pair of strings");
    o.item_sep = std::string(seps[0].as_string());
    o.key_sep = std::string(seps[1].as_string());
  }
  o.sort_keys = b[3].truthy();
  return o;
}

}  // namespace

Value get_attribute_path(const Value& item, const Value& attribute, const Value* default_value) {
  if (attribute.is_none() || attribute.is_undefined()) return item;
  std::vector<Value> parts;
  if (attribute.is_string()) {
    for (std::string_view p : py_split(attribute.as_string(), std::string_view("."), -1, false)) {
      bool digits = !p.empty();
      for (char c : p) digits &= c >= '0' && c <= '9';
      parts.push_back(digits ? Value::integer(std::stoll(std::string(p))) : Value::string(p));
    }
  } else {
    parts.push_back(attribute);
  }
  Value cur = item;
  for (const Value& p : parts) {
    cur = env_getitem(cur, p);
    if (default_value != nullptr && cur.is_undefined()) cur = *default_value;
  }
  return cur;
}

void append_tojson(const Value& v, const Args& args, std::string* out) {
  // transformers replaces Jinja2's tojson with json.dumps(x, ensure_ascii=False, ...).
  const std::vector<Value> b =
      bind_args("tojson", args, {{"ensure_ascii"}, {"indent"}, {"separators"}, {"sort_keys"}},
                {Value::boolean(false), Value::none(), Value::none(), Value::boolean(false)});
  append_json(out, v, json_options(b));
}

int lookup_filter(std::string_view name) {
  for (const FilterName& f : kFilters)
    if (name == f.name) return f.id;
  return -1;
}

bool jinja_has_filter(std::string_view name) {
  if (lookup_filter(name) >= 0) return true;
  for (const char* f : kJinjaOnlyFilters)
    if (name == f) return true;
  return false;
}

Value call_filter(Evaluator& ev, int id, const Value& v, const Args& args) {
  switch (id) {
    case kFAbs: {
      bind_args("abs", args, {});
      if (v.is_float()) return Value::number(std::fabs(v.as_float()));
      if (v.is_int() || v.is_bool()) {
        const int64_t x = v.is_bool() ? v.as_bool() : v.as_int();
        if (x == INT64_MIN) throw_unsupported("integer result beyond 64 bits");
        return Value::integer(x < 0 ? -x : x);
      }
      check_defined(v);
      throw_render(std::string("bad operand type for abs(): '") + py_type_name(v) + "'");
    }
    case kFAttr: {
      std::vector<Value> b = bind_args("attr", args, {{"name", true}});
      check_defined(v);
      bool found = false;
      Value m = lookup_method(v, b[0].is_string() ? b[0].as_string() : "", &found);
      if (found) return m;
      if (v.kind() == ValueKind::kNamespace && b[0].is_string()) return env_getattr(v, b[0]);
      return Value::make_undefined(detail::kUndefAttr, detail::owner_of(v),
                                   detail::new_str(to_str(b[0])));
    }
    case kFCapitalize: bind_args("capitalize", args, {}); return str_value(py_capitalize(to_str(v)), is_markup(v));
    case kFCenter: {
      std::vector<Value> b = bind_args("center", args, {{"width"}}, {Value::integer(80)});
      return str_value(py_center(to_str(v), as_index(b[0]).value_or(80), ' '));
    }
    case kFD:
    case kFDefault: {
      std::vector<Value> b = bind_args("default", args, {{"default_value"}, {"boolean"}},
                                       {Value::string(""), Value::boolean(false)});
      if (v.is_undefined() || (b[1].truthy() && !v.truthy())) return b[0];
      return v;
    }
    case kFE:
    case kFEscape:
      bind_args("escape", args, {});
      if (is_markup(v)) return v;
      return str_value(html_escape(to_str(v)), true);
    case kFForceescape: bind_args("forceescape", args, {}); return str_value(html_escape(to_str(v)), true);
    case kFFilesizeformat: {
      std::vector<Value> b = bind_args("filesizeformat", args, {{"binary"}}, {Value::boolean(false)});
      return str_value(do_filesizeformat(v, b[0].truthy()));
    }
    case kFFloat: {
      std::vector<Value> b = bind_args("float", args, {{"default"}}, {Value::number(0.0)});
      return do_float(v, b[0]);
    }
    case kFFormat: {
      if (!args.pos.empty() && !args.kw.empty())
        throw_render("can't handle positional and keyword arguments at the same time");
      Value fmt = is_markup(v) ? v : Value::string(to_str(v));
      if (!args.kw.empty()) {
        std::vector<std::pair<Value, Value>> e;
        for (const auto& [k, x] : args.kw) e.emplace_back(Value::string(k), x);
        return py_percent_format(fmt, detail::make_dict(std::move(e)));
      }
      return py_percent_format(fmt, detail::make_list(args.pos, detail::ListFlavor::kTuple));
    }
    case kFIndent: {
      std::vector<Value> b = bind_args("indent", args, {{"width"}, {"first"}, {"blank"}},
                                       {Value::integer(4), Value::boolean(false), Value::boolean(false)});
      if (!v.is_string()) {
        check_defined(v);
        throw_render(std::string("unsupported operand type(s) for +=: '") + py_type_name(v) + "' and 'str'");
      }
      return str_value(do_indent(std::string(v.as_string()), b[0], b[1].truthy(), b[2].truthy()), is_markup(v));
    }
    case kFInt: {
      std::vector<Value> b = bind_args("int", args, {{"default"}, {"base"}}, {Value::integer(0), Value::integer(10)});
      return do_int(v, b[0], b[1]);
    }
    case kFLower: bind_args("lower", args, {}); return str_value(py_lower(to_str(v)), is_markup(v));
    case kFUpper: bind_args("upper", args, {}); return str_value(py_upper(to_str(v)), is_markup(v));
    case kFTitle: {
      bind_args("title", args, {});
      // Jinja2's own title: words start after '-', whitespace, '(', '{', '[', '<'.
      const std::string s = to_str(v);
      std::string out;
      bool start = true;
      size_t p = 0;
      while (p < s.size()) {
        const size_t q0 = p;
        const uint32_t cp = utf8_decode_one(s, &p);
        const bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || py_isspace(cp);
        const std::string ch = s.substr(q0, p - q0);
        if (sep) {
          out += ch;
          start = true;
        } else {
          out += start ? py_upper(ch) : py_lower(ch);
          start = false;
        }
      }
      return str_value(out, is_markup(v));
    }
    case kFReplace: {
      std::vector<Value> b = bind_args("replace", args, {{"old", true}, {"new", true}, {"count"}}, {Value(), Value(), Value::none()});
      const int64_t count = b[2].is_none() ? -1 : as_index(b[2]).value_or(-1);
      return str_value(py_replace(to_str(v), to_str(b[0]), to_str(b[1]), count));
    }
    case kFSafe: bind_args("safe", args, {}); return str_value(to_str(v), true);
    case kFString: bind_args("string", args, {}); return v.is_string() ? v : str_value(to_str(v));
    case kFStriptags: bind_args("striptags", args, {}); return str_value(do_striptags(to_str(v)));
    case kFTrim: {
      std::vector<Value> b = bind_args("trim", args, {{"chars"}}, {Value::none()});
      const std::string s = to_str(v);
      std::optional<std::string_view> chars;
      std::string cs;
      if (!b[0].is_none() && !b[0].is_undefined()) {
        cs = to_str(b[0]);
        chars = cs;
      }
      return str_value(std::string(py_strip(s, chars, true, true)), is_markup(v));
    }
    case kFTruncate: {
      std::vector<Value> b = bind_args("truncate", args, {{"length"}, {"killwords"}, {"end"}, {"leeway"}},
                                       {Value::integer(255), Value::boolean(false), Value::string("..."), Value::none()});
      const int64_t leeway = b[3].is_none() ? 5 : as_index(b[3]).value_or(5);
      const int64_t length = as_index(b[0]).value_or(255);
      if (!v.is_string()) {
        // do_truncate works on the value itself: a short sequence comes back unchanged.
        if (py_len(v) <= length + leeway) return v;
        if (b[1].truthy()) return op_binary(BinOp::kAdd, py_slice(v, Value::none(), Value::integer(length), Value::none()), b[2]);
        throw_render(std::string("'") + py_type_name(v) + "' object has no attribute 'rsplit'");
      }
      return str_value(do_truncate(to_str(v), length, b[1].truthy(), to_str(b[2]), leeway), is_markup(v));
    }
    case kFWordcount: {
      bind_args("wordcount", args, {});
      const std::string s = to_str(v);
      int64_t n = 0;
      bool in_word = false;
      size_t p = 0;
      while (p < s.size()) {
        const bool w = py_is_word_char(utf8_decode_one(s, &p));
        if (w && !in_word) ++n;
        in_word = w;
      }
      return Value::integer(n);
    }
    case kFRound: {
      std::vector<Value> b = bind_args("round", args, {{"precision"}, {"method"}}, {Value::integer(0), Value::string("common")});
      return do_round(v, b[0], b[1]);
    }
    case kFTojson: {
      std::string out;
      append_tojson(v, args, &out);
      return str_value(std::move(out));
    }
    default: return filter_seq(ev, id, v, args);
  }
}

}  // namespace agentserve::tmpl
