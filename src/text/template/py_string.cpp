#include "text/template/py_string.h"

#include <unicode/uchar.h>
#include <unicode/ucasemap.h>

#include <algorithm>
#include <cstring>

#include "base/utf8.h"

namespace agentserve::tmpl {
namespace {

using CaseFn = int32_t (*)(const UCaseMap*, char*, int32_t, const char*, int32_t, UErrorCode*);

std::string icu_case(std::string_view s, CaseFn fn) {
  UErrorCode err = U_ZERO_ERROR;
  // The root locale: Python's str.upper/lower are locale independent.
  thread_local UCaseMap* map = ucasemap_open("", 0, &err);
  std::string out(s.size() + 16, '\0');
  err = U_ZERO_ERROR;
  int32_t n = fn(map, out.data(), static_cast<int32_t>(out.size()), s.data(),
                 static_cast<int32_t>(s.size()), &err);
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    out.assign(static_cast<size_t>(n), '\0');
    err = U_ZERO_ERROR;
    n = fn(map, out.data(), n, s.data(), static_cast<int32_t>(s.size()), &err);
  }
  out.resize(U_SUCCESS(err) ? static_cast<size_t>(n) : 0);
  return out;
}

bool is_cased(uint32_t cp) { return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_CASED); }

int numeric_type(uint32_t cp) {
  return u_getIntPropertyValue(static_cast<UChar32>(cp), UCHAR_NUMERIC_TYPE);
}

bool char_is(uint32_t cp, CharClass c) {
  const int8_t cat = u_charType(static_cast<UChar32>(cp));
  const bool alpha = cat == U_UPPERCASE_LETTER || cat == U_LOWERCASE_LETTER ||
                     cat == U_TITLECASE_LETTER || cat == U_MODIFIER_LETTER ||
                     cat == U_OTHER_LETTER;
  switch (c) {
    case CharClass::kAlpha: return alpha;
    case CharClass::kDecimal: return cat == U_DECIMAL_DIGIT_NUMBER;
    case CharClass::kDigit: {
      const int t = numeric_type(cp);
      return t == U_NT_DECIMAL || t == U_NT_DIGIT;
    }
    case CharClass::kNumeric: return numeric_type(cp) != U_NT_NONE;
    case CharClass::kAlnum: return alpha || numeric_type(cp) != U_NT_NONE;
    case CharClass::kSpace: return py_isspace(cp);
  }
  return false;
}

bool in_chars(uint32_t cp, std::string_view chars) {
  size_t p = 0;
  while (p < chars.size())
    if (utf8_decode_one(chars, &p) == cp) return true;
  return false;
}

// Start of the code point that ends at byte `end` (end > 0).
size_t prev_cp_start(std::string_view s, size_t end) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<uint8_t>(s[b]) & 0xC0) == 0x80) --b;
  return b;
}

}  // namespace

bool py_isspace(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool py_isprintable(uint32_t cp) {
  if (cp == ' ') return true;
  if (cp < 0x7F) return cp > 0x20;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR: return false;
    default: return true;
  }
}

bool py_is_word_char(uint32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) || cp == '_';
  return char_is(cp, CharClass::kAlnum);
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  return true;
}

size_t cp_count(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

size_t cp_offset(std::string_view s, size_t index) {
  size_t pos = 0;
  for (size_t i = 0; i < index && pos < s.size(); ++i) utf8_decode_one(s, &pos);
  return pos;
}

std::vector<uint32_t> decode_all(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t p = 0;
  while (p < s.size()) out.push_back(utf8_decode_one(s, &p));
  return out;
}

std::string encode_all(const uint32_t* cps, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) utf8_append(&out, cps[i]);
  return out;
}

std::string py_upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    return out;
  }
  return icu_case(s, ucasemap_utf8ToUpper);
}

std::string py_lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
  }
  return icu_case(s, ucasemap_utf8ToLower);
}

std::string py_capitalize(std::string_view s) {
  if (s.empty()) return std::string();
  size_t p = 0;
  const uint32_t first = utf8_decode_one(s, &p);
  std::string out;
  utf8_append(&out, static_cast<uint32_t>(u_totitle(static_cast<UChar32>(first))));
  out += py_lower(s.substr(p));
  return out;
}

std::string py_title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  size_t p = 0;
  while (p < s.size()) {
    const uint32_t cp = utf8_decode_one(s, &p);
    const auto c = static_cast<UChar32>(cp);
    utf8_append(&out, static_cast<uint32_t>(prev_cased ? u_tolower(c) : u_totitle(c)));
    prev_cased = is_cased(cp);
  }
  return out;
}

std::string py_swapcase(std::string_view s) {
  std::string out;
  size_t p = 0;
  while (p < s.size()) {
    const auto c = static_cast<UChar32>(utf8_decode_one(s, &p));
    if (u_isULowercase(c))
      utf8_append(&out, static_cast<uint32_t>(u_toupper(c)));
    else if (u_isUUppercase(c))
      utf8_append(&out, static_cast<uint32_t>(u_tolower(c)));
    else
      utf8_append(&out, static_cast<uint32_t>(c));
  }
  return out;
}

bool py_islower(std::string_view s) {
  bool cased = false;
  size_t p = 0;
  while (p < s.size()) {
    const auto c = static_cast<UChar32>(utf8_decode_one(s, &p));
    if (u_isUUppercase(c) || u_istitle(c)) return false;
    if (u_isULowercase(c)) cased = true;
  }
  return cased;
}

bool py_isupper(std::string_view s) {
  bool cased = false;
  size_t p = 0;
  while (p < s.size()) {
    const auto c = static_cast<UChar32>(utf8_decode_one(s, &p));
    if (u_isULowercase(c) || u_istitle(c)) return false;
    if (u_isUUppercase(c)) cased = true;
  }
  return cased;
}

bool py_istitle(std::string_view s) {
  bool cased = false, prev_cased = false;
  size_t p = 0;
  while (p < s.size()) {
    const auto c = static_cast<UChar32>(utf8_decode_one(s, &p));
    if (u_isUUppercase(c) || u_istitle(c)) {
      if (prev_cased) return false;
      prev_cased = cased = true;
    } else if (u_isULowercase(c)) {
      if (!prev_cased) return false;
      prev_cased = cased = true;
    } else {
      prev_cased = false;
    }
  }
  return cased;
}

bool py_is_all(std::string_view s, CharClass c) {
  if (s.empty()) return false;
  size_t p = 0;
  while (p < s.size())
    if (!char_is(utf8_decode_one(s, &p), c)) return false;
  return true;
}

std::string_view py_strip(std::string_view s, const std::optional<std::string_view>& chars,
                          bool left, bool right) {
  const auto strip_cp = [&](uint32_t cp) { return chars ? in_chars(cp, *chars) : py_isspace(cp); };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      size_t p = b;
      if (!strip_cp(utf8_decode_one(s, &p))) break;
      b = p;
    }
  }
  if (right) {
    while (e > b) {
      const size_t start = prev_cp_start(s, e);
      size_t p = start;
      if (!strip_cp(utf8_decode_one(s, &p))) break;
      e = start;
    }
  }
  return s.substr(b, e - b);
}

std::vector<std::string_view> py_split(std::string_view s,
                                       const std::optional<std::string_view>& sep,
                                       int64_t maxsplit, bool from_right) {
  std::vector<std::string_view> out;
  if (sep) {
    const std::string_view d = *sep;
    if (!from_right) {
      size_t start = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        const size_t at = s.find(d, start);
        if (at == std::string_view::npos) break;
        out.push_back(s.substr(start, at - start));
        start = at + d.size();
      }
      out.push_back(s.substr(start));
    } else {
      size_t end = s.size();
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        if (end < d.size()) break;
        const size_t at = s.rfind(d, end - d.size());
        if (at == std::string_view::npos) break;
        out.push_back(s.substr(at + d.size(), end - at - d.size()));
        end = at;
      }
      out.push_back(s.substr(0, end));
      std::reverse(out.begin(), out.end());
    }
    return out;
  }
  // Whitespace split: runs of whitespace separate, leading/trailing whitespace ignored.
  std::vector<std::pair<size_t, size_t>> words;  // byte ranges
  size_t p = 0;
  while (p < s.size()) {
    size_t q = p;
    const uint32_t cp = utf8_decode_one(s, &q);
    if (py_isspace(cp)) {
      p = q;
      continue;
    }
    const size_t start = p;
    p = q;
    while (p < s.size()) {
      size_t r = p;
      if (py_isspace(utf8_decode_one(s, &r))) break;
      p = r;
    }
    words.emplace_back(start, p);
  }
  if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit) {
    for (auto [a, b] : words) out.push_back(s.substr(a, b - a));
    return out;
  }
  if (!from_right) {
    for (int64_t i = 0; i < maxsplit; ++i) out.push_back(s.substr(words[i].first, words[i].second - words[i].first));
    // The remainder keeps its inner and trailing whitespace, from the next word on.
    const size_t rest = words[static_cast<size_t>(maxsplit)].first;
    out.push_back(s.substr(rest));  // "a b  ".split(None, 1) == ['a', 'b  ']
  } else {
    const size_t keep = words.size() - static_cast<size_t>(maxsplit);
    out.push_back(s.substr(0, words[keep - 1].second));
    // Leading whitespace of the remainder is kept: "  a b".rsplit(None, 1) == ['  a', 'b'].
    for (size_t i = keep; i < words.size(); ++i)
      out.push_back(s.substr(words[i].first, words[i].second - words[i].first));
  }
  return out;
}

std::vector<std::string_view> py_splitlines(std::string_view s, bool keepends) {
  std::vector<std::string_view> out;
  size_t start = 0, p = 0;
  while (p < s.size()) {
    const size_t at = p;
    const uint32_t cp = utf8_decode_one(s, &p);
    const bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C ||
                     cp == 0x1D || cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!brk) continue;
    if (cp == '\r' && p < s.size() && s[p] == '\n') ++p;
    out.push_back(s.substr(start, (keepends ? p : at) - start));
    start = p;
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `repl` before every code point and at the end.
    int64_t done = 0;
    size_t p = 0;
    while (p <= s.size()) {
      if (count >= 0 && done >= count) {
        out.append(s.substr(p));
        break;
      }
      out.append(repl);
      ++done;
      if (p == s.size()) break;
      const size_t q0 = p;
      utf8_decode_one(s, &p);
      out.append(s.substr(q0, p - q0));
    }
    return out;
  }
  out.reserve(s.size());
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(repl);
    start = at + old.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

int64_t py_find(std::string_view s, std::string_view sub, int64_t start, int64_t end, bool rev) {
  if (start > end) return -1;
  const size_t b = cp_offset(s, static_cast<size_t>(start));
  const size_t e = cp_offset(s, static_cast<size_t>(end));
  const std::string_view hay = s.substr(b, e - b);
  const size_t at = rev ? hay.rfind(sub) : hay.find(sub);
  if (at == std::string_view::npos) return -1;
  return start + static_cast<int64_t>(cp_count(hay.substr(0, at)));
}

int64_t py_count(std::string_view s, std::string_view sub, int64_t start, int64_t end) {
  if (start > end) return 0;
  const size_t b = cp_offset(s, static_cast<size_t>(start));
  const size_t e = cp_offset(s, static_cast<size_t>(end));
  const std::string_view hay = s.substr(b, e - b);
  if (sub.empty()) return static_cast<int64_t>(cp_count(hay)) + 1;
  int64_t n = 0;
  size_t p = 0;
  while ((p = hay.find(sub, p)) != std::string_view::npos) {
    ++n;
    p += sub.size();
  }
  return n;
}

std::string py_center(std::string_view s, int64_t width, uint32_t fill) {
  const int64_t len = static_cast<int64_t>(cp_count(s));
  if (width <= len) return std::string(s);
  const int64_t marg = width - len;
  const int64_t left = marg / 2 + (marg & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) utf8_append(&out, fill);
  out.append(s);
  for (int64_t i = 0; i < marg - left; ++i) utf8_append(&out, fill);
  return out;
}

std::string py_ljust(std::string_view s, int64_t width, uint32_t fill, bool right) {
  const int64_t len = static_cast<int64_t>(cp_count(s));
  std::string pad;
  for (int64_t i = len; i < width; ++i) utf8_append(&pad, fill);
  return right ? pad + std::string(s) : std::string(s) + pad;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace agentserve::tmpl
