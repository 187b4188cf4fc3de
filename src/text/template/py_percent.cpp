// printf-style `%` formatting and str.format, as Python does them for the values templates
// hold.
#include <cmath>
#include <cstdio>
#include <string>

#include "base/utf8.h"
#include "text/template/objects.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

bool is_intlike(const Value& v) { return v.is_int() || v.is_bool(); }
int64_t int_of(const Value& v) { return v.is_bool() ? v.as_bool() : v.as_int(); }

std::string c_format(const std::string& spec, double d) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), spec.c_str(), d);
  return buf;
}

std::string c_format_int(const std::string& spec, long long i) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), spec.c_str(), i);
  return buf;
}

std::string pad(std::string s, int64_t width, bool left_align) {
  const int64_t len = static_cast<int64_t>(cp_count(s));
  if (width <= len) return s;
  const std::string fill(static_cast<size_t>(width - len), ' ');
  return left_align ? s + fill : fill + s;
}

}  // namespace

Value py_percent_format(const Value& text, const Value& args) {
  const std::string_view f = text.as_string();
  const bool markup = text.str_obj()->markup;
  std::vector<Value> pos;
  const Value* mapping = nullptr;
  // CPython: a non-tuple argument with __getitem__ (dict, list ...) counts as a mapping, so
  // leftover arguments are no error.
  bool mapping_like = false;
  if (args.is_list() && args.list_obj()->flavor == detail::ListFlavor::kTuple) {
    pos.assign(args.as_list().begin(), args.as_list().end());
  } else {
    if (args.is_dict()) mapping = &args;
    mapping_like = args.is_dict() || args.is_undefined() ||
                   (args.is_list() && detail::flavor_subscriptable(args.list_obj()->flavor));
    pos.push_back(args);
  }
  size_t next = 0;
  bool used_mapping = false;
  const auto take = [&]() -> Value {
    if (next >= pos.size()) throw_render("not enough arguments for format string");
    return pos[next++];
  };
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    if (++i >= f.size()) throw_render("incomplete format");
    Value arg;
    bool have_arg = false;
    if (f[i] == '(') {
      const size_t close = f.find(')', i);
      if (close == std::string_view::npos) throw_render("incomplete format key");
      if (mapping == nullptr) throw_render("format requires a mapping");
      const Value key = Value::string(f.substr(i + 1, close - i - 1));
      const Value* v = mapping->dict_obj()->find(key);
      if (v == nullptr) throw_render("KeyError: '" + std::string(key.as_string()) + "'");
      arg = *v;
      have_arg = true;
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < f.size() && std::string_view("-+ #0").find(f[i]) != std::string_view::npos)
      flags.push_back(f[i++]);
    int64_t width = -1, prec = -1;
    if (i < f.size() && f[i] == '*') {
      const Value w = take();
      width = int_of(w);
      ++i;
    } else {
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') width = (width < 0 ? 0 : width * 10) + (f[i++] - '0');
    }
    if (i < f.size() && f[i] == '.') {
      ++i;
      prec = 0;
      if (i < f.size() && f[i] == '*') {
        prec = int_of(take());
        ++i;
      } else {
        while (i < f.size() && f[i] >= '0' && f[i] <= '9') prec = prec * 10 + (f[i++] - '0');
      }
    }
    while (i < f.size() && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L')) ++i;
    if (i >= f.size()) throw_render("incomplete format");
    const char type = f[i];
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    if (!have_arg) arg = take();
    const bool left = flags.find('-') != std::string::npos;
    std::string piece;
    switch (type) {
      case 's':
      case 'r':
      case 'a': {
        if (type == 's') {
          piece = to_str(arg);
          if (markup && !(arg.is_string() && arg.str_obj()->markup)) piece = html_escape(piece);
        } else {
          append_repr(&piece, arg);
        }
        if (prec >= 0 && static_cast<int64_t>(cp_count(piece)) > prec)
          piece = piece.substr(0, cp_offset(piece, static_cast<size_t>(prec)));
        piece = pad(piece, width, left);
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        long long v;
        if (is_intlike(arg)) {
          v = int_of(arg);
        } else if (arg.is_float() && (type == 'd' || type == 'i' || type == 'u')) {
          if (!std::isfinite(arg.as_float())) throw_render("cannot convert float to integer");
          v = static_cast<long long>(std::trunc(arg.as_float()));
        } else {
          check_defined(arg);
          throw_render(std::string("%") + type + " format: " +
                       (type == 'd' || type == 'i' || type == 'u' ? "a real number" : "an integer") +
                       " is required, not " + py_type_name(arg));
        }
        std::string spec = "%" + flags;
        if (width >= 0) spec += std::to_string(width);
        if (prec >= 0) spec += "." + std::to_string(prec);
        spec += "ll";
        spec += type == 'u' || type == 'i' ? 'd' : type;
        piece = c_format_int(spec, v);
        if (type == 'o' && flags.find('#') != std::string::npos) {
          const size_t z = piece.find('0');
          if (z != std::string::npos) piece.insert(z + 1, "o");
        }
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        double d;
        if (arg.is_float()) d = arg.as_float();
        else if (is_intlike(arg)) d = static_cast<double>(int_of(arg));
        else {
          check_defined(arg);
          throw_render(std::string("must be real number, not ") + py_type_name(arg));
        }
        std::string spec = "%" + flags;
        if (width >= 0) spec += std::to_string(width);
        spec += "." + std::to_string(prec >= 0 ? prec : 6);
        spec += type;
        piece = c_format(spec, d);
        break;
      }
      case 'c': {
        if (arg.is_string()) piece = std::string(arg.as_string());
        else if (is_intlike(arg)) utf8_append(&piece, static_cast<uint32_t>(int_of(arg)));
        else throw_render("%c requires int or char");
        piece = pad(piece, width, left);
        break;
      }
      default:
        throw_render(std::string("unsupported format character '") + type + "'");
    }
    out += piece;
  }
  if (!used_mapping && !mapping_like && next < pos.size())
    throw_render("not all arguments converted during string formatting");
  return Value::adopt(ValueKind::kString, detail::new_str(out, markup));
}

namespace {

// format(value, spec) for str.format's replacement fields.
std::string format_field(const Value& v, std::string_view spec) {
  if (spec.empty()) return to_str(v);
  size_t i = 0;
  uint32_t fill = ' ';
  char align = 0;
  {
    size_t p = 0;
    const uint32_t first = utf8_decode_one(spec, &p);
    if (p < spec.size() && std::string_view("<>^=").find(spec[p]) != std::string_view::npos) {
      fill = first;
      align = spec[p];
      i = p + 1;
    } else if (std::string_view("<>^=").find(spec[0]) != std::string_view::npos) {
      align = spec[0];
      i = 1;
    }
  }
  char sign = 0;
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
  bool alt = false;
  if (i < spec.size() && spec[i] == '#') {
    alt = true;
    ++i;
  }
  if (i < spec.size() && spec[i] == '0') {
    if (!align) {
      fill = '0';
      align = '=';
    }
    ++i;
  }
  int64_t width = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') width = width * 10 + (spec[i++] - '0');
  char grouping = 0;
  if (i < spec.size() && (spec[i] == ',' || spec[i] == '_')) grouping = spec[i++];
  int64_t prec = -1;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    prec = 0;
    while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') prec = prec * 10 + (spec[i++] - '0');
  }
  char type = i < spec.size() ? spec[i++] : 0;
  if (i != spec.size()) throw_render("Invalid format specifier");
  std::string body;
  bool numeric = false;
  if (v.is_string()) {
    if (type && type != 's') throw_render(std::string("Unknown format code '") + type + "' for object of type 'str'");
    body = std::string(v.as_string());
    if (prec >= 0 && static_cast<int64_t>(cp_count(body)) > prec) body = body.substr(0, cp_offset(body, static_cast<size_t>(prec)));
    if (!align) align = '<';
  } else if (v.is_int() || v.is_bool() || v.is_float()) {
    numeric = true;
    if (!align) align = '>';
    const bool as_float = v.is_float() || (type && std::string_view("eEfFgG%").find(type) != std::string_view::npos);
    if (!as_float) {
      const int64_t x = int_of(v);
      std::string digits;
      const uint64_t ax = x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
      char buf[80];
      switch (type) {
        case 'x': std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(ax)); digits = buf; if (alt) digits = "0x" + digits; break;
        case 'X': std::snprintf(buf, sizeof buf, "%llX", static_cast<unsigned long long>(ax)); digits = buf; if (alt) digits = "0X" + digits; break;
        case 'o': std::snprintf(buf, sizeof buf, "%llo", static_cast<unsigned long long>(ax)); digits = buf; if (alt) digits = "0o" + digits; break;
        case 'b': {
          uint64_t y = ax;
          do { digits.insert(digits.begin(), static_cast<char>('0' + (y & 1))); y >>= 1; } while (y);
          if (alt) digits = "0b" + digits;
          break;
        }
        case 'c': utf8_append(&digits, static_cast<uint32_t>(x)); break;
        default: digits = std::to_string(ax);
      }
      if (grouping && (type == 0 || type == 'd' || type == 'n')) {
        std::string g;
        for (size_t k = 0; k < digits.size(); ++k) {
          if (k && (digits.size() - k) % 3 == 0) g.push_back(grouping);
          g.push_back(digits[k]);
        }
        digits = g;
      }
      body = (x < 0 ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "") + digits;
    } else {
      const double d = v.is_float() ? v.as_float() : static_cast<double>(int_of(v));
      std::string cspec = "%";
      if (sign == '+' || sign == ' ') cspec += sign;
      if (alt) cspec += '#';
      if (type == 0) {
        if (prec < 0) {
          append_float_repr(&body, d);
          if (sign == '+' && d >= 0) body = "+" + body;
        } else {
          cspec += "." + std::to_string(prec == 0 ? 1 : prec) + "g";
          body = c_format(cspec, d);
        }
      } else if (type == '%') {
        cspec += "." + std::to_string(prec < 0 ? 6 : prec) + "f";
        body = c_format(cspec, d * 100) + "%";
      } else {
        cspec += "." + std::to_string(prec < 0 ? 6 : prec) + type;
        body = c_format(cspec, d);
      }
    }
  } else {
    throw_render(std::string("unsupported format string passed to ") + py_type_name(v) + ".__format__");
  }
  const int64_t len = static_cast<int64_t>(cp_count(body));
  if (width <= len) return body;
  const int64_t padn = width - len;
  std::string fs;
  utf8_append(&fs, fill);
  const auto rep = [&](int64_t n) {
    std::string r;
    for (int64_t k = 0; k < n; ++k) r += fs;
    return r;
  };
  switch (align) {
    case '<': return body + rep(padn);
    case '^': return rep(padn / 2) + body + rep(padn - padn / 2);
    case '=':
      if (numeric && !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' '))
        return body.substr(0, 1) + rep(padn) + body.substr(1);
      return rep(padn) + body;
    default: return rep(padn) + body;
  }
}

}  // namespace

std::string py_str_format(std::string_view f, const std::vector<Value>& args,
                          const std::vector<std::pair<std::string, Value>>& kwargs) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      throw_render("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = f.find('}', i);
    if (close == std::string_view::npos) throw_render("Single '{' encountered in format string");
    std::string_view field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string_view spec;
    char conv = 0;
    if (const size_t colon = field.find(':'); colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (const size_t bang = field.find('!'); bang != std::string_view::npos) {
      if (bang + 1 < field.size()) conv = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '.' && field[name_end] != '[') ++name_end;
    const std::string_view head = field.substr(0, name_end);
    Value v;
    if (head.empty()) {
      if (auto_index >= args.size()) throw_render("Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
      v = args[auto_index++];
    } else if (head[0] >= '0' && head[0] <= '9') {
      const size_t k = static_cast<size_t>(std::stoul(std::string(head)));
      if (k >= args.size()) throw_render("Replacement index " + std::to_string(k) + " out of range for positional args tuple");
      v = args[k];
    } else {
      bool found = false;
      for (const auto& [k, x] : kwargs) {
        if (k == head) {
          v = x;
          found = true;
        }
      }
      if (!found) throw_render("KeyError: '" + std::string(head) + "'");
    }
    size_t p = name_end;
    while (p < field.size()) {
      if (field[p] == '.') {
        size_t e = p + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        v = env_getattr(v, Value::string(field.substr(p + 1, e - p - 1)));
        p = e;
      } else {
        const size_t e = field.find(']', p);
        if (e == std::string_view::npos) throw_render("Missing ']' in format string");
        const std::string_view key = field.substr(p + 1, e - p - 1);
        bool digits = !key.empty();
        for (char ch : key) digits &= ch >= '0' && ch <= '9';
        v = env_getitem(v, digits ? Value::integer(std::stoll(std::string(key))) : Value::string(key));
        p = e + 1;
      }
    }
    if (conv == 'r' || conv == 'a') {
      std::string r;
      append_repr(&r, v);
      v = Value::string(r);
    } else if (conv == 's') {
      v = Value::string(to_str(v));
    }
    out += format_field(v, spec);
  }
  return out;
}

}  // namespace agentserve::tmpl
