#include "text/template/lexer.h"

#include <unicode/uchar.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/utf8.h"
#include "text/template/py_string.h"

namespace agentserve::tmpl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Python's str.isidentifier() for the characters we meet: ASCII letters, digits, '_' and
// Unicode XID characters.
bool ident_start(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_XID_START);
}
bool ident_continue(uint32_t cp) {
  if (cp < 0x80) return ident_start(cp) || (cp >= '0' && cp <= '9');
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_XID_CONTINUE);
}

class Lexer {
 public:
  Lexer(std::string_view src, std::vector<Token>* out, LexError* err)
      : s_(src), out_(out), err_(err) {}

  bool run() {
    while (pos_ < s_.size()) {
      if (!root_step()) return false;
    }
    push(Tok::kEof, static_cast<uint32_t>(s_.size()));
    return true;
  }

 private:
  bool fail(std::string msg, size_t at) {
    err_->message = std::move(msg);
    err_->pos = static_cast<uint32_t>(at);
    return false;
  }

  Token& push(Tok t, uint32_t at, std::string text = {}) {
    out_->push_back(Token{t, at, std::move(text), 0, 0, false});
    return out_->back();
  }

  // Length of the run of Python whitespace at s_[p...].
  size_t ws_len(size_t p) const {
    size_t q = p;
    while (q < s_.size()) {
      size_t r = q;
      if (!py_isspace(utf8_decode_one(s_, &r))) break;
      q = r;
    }
    return q - p;
  }

  bool starts(size_t p, std::string_view what) const { return s_.substr(p, what.size()) == what; }

  // Whitespace control for the text before a tag (Jinja2's OptionalLStrip).
  std::string_view control_text(std::string_view text, char sign, bool lstrip_applies) {
    if (sign == '-') return py_strip(text, std::nullopt, false, true);
    if (sign != '+' && lstrip_applies) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        const std::string_view tail = text.substr(l_pos);
        if (!tail.empty() && py_strip(tail, std::nullopt, true, false).empty())
          return text.substr(0, l_pos);
      }
    }
    return text;
  }

  void emit_data(std::string_view text, size_t at) {
    if (!text.empty()) push(Tok::kData, static_cast<uint32_t>(at), std::string(text));
  }

  // Matches {%[-+]?\s*raw\s*(-%}\s*|%}) at p; returns the end or 0.
  size_t match_raw_begin(size_t p) const {
    size_t q = p + 2;
    if (q < s_.size() && (s_[q] == '-' || s_[q] == '+')) ++q;
    q += ws_len(q);
    if (!starts(q, "raw")) return 0;
    q += 3;
    q += ws_len(q);
    if (starts(q, "-%}")) return q + 3 + ws_len(q + 3);
    if (starts(q, "%}")) return q + 2;
    return 0;
  }

  bool root_step() {
    size_t i = pos_;
    for (;;) {
      i = s_.find('{', i);
      if (i == std::string_view::npos || i + 1 >= s_.size()) {
        emit_data(s_.substr(pos_), pos_);
        pos_ = s_.size();
        return true;
      }
      const char c = s_[i + 1];
      if (c == '{' || c == '%' || c == '#') break;
      ++i;
    }
    const char kind = s_[i + 1];
    const char sign = i + 2 < s_.size() && (s_[i + 2] == '-' || s_[i + 2] == '+') ? s_[i + 2] : 0;
    const std::string_view text = s_.substr(pos_, i - pos_);
    if (kind == '%') {
      if (const size_t raw_end = match_raw_begin(i)) {
        emit_data(control_text(text, sign, true), pos_);
        line_starting_ = s_[raw_end - 1] == '\n';
        return lex_raw(raw_end);
      }
    }
    emit_data(control_text(text, sign, kind != '{'), pos_);
    const size_t body = i + 2 + (sign ? 1 : 0);
    if (kind == '#') return lex_comment(i, body);
    push(kind == '{' ? Tok::kVarBegin : Tok::kBlockBegin, static_cast<uint32_t>(i));
    return lex_tag(body, kind == '%');
  }

  bool lex_comment(size_t open, size_t body) {
    const size_t k = s_.find("#}", body);
    if (k == std::string_view::npos) return fail("Missing end of comment tag", open);
    size_t end;
    if (k > body && s_[k - 1] == '-') {
      end = k + 2 + ws_len(k + 2);
    } else if (k > body && s_[k - 1] == '+') {
      end = k + 2;
    } else {
      end = k + 2;
      if (end < s_.size() && s_[end] == '\n') ++end;  // trim_blocks
    }
    line_starting_ = s_[end - 1] == '\n';
    pos_ = end;
    return true;
  }

  bool lex_raw(size_t start) {
    size_t i = start;
    for (;;) {
      i = s_.find("{%", i);
      if (i == std::string_view::npos) return fail("Missing end of raw directive", start);
      size_t q = i + 2;
      const char sign = q < s_.size() && (s_[q] == '-' || s_[q] == '+') ? s_[q] : 0;
      if (sign) ++q;
      q += ws_len(q);
      if (starts(q, "endraw")) {
        q += 6;
        q += ws_len(q);
        size_t end = 0;
        if (starts(q, "+%}")) {
          end = q + 3;
        } else if (starts(q, "-%}")) {
          end = q + 3 + ws_len(q + 3);
        } else if (starts(q, "%}")) {
          end = q + 2;
          if (end < s_.size() && s_[end] == '\n') ++end;
        }
        if (end) {
          emit_data(control_text(s_.substr(start, i - start), sign, true), start);
          line_starting_ = s_[end - 1] == '\n';
          pos_ = end;
          return true;
        }
      }
      i += 2;
    }
  }

  // Digits with single '_' separators at p: returns the end, or p when none.
  size_t digits(size_t p) const {
    size_t q = p;
    if (q >= s_.size() || !is_digit(s_[q])) return p;
    while (q < s_.size() && is_digit(s_[q])) ++q;
    while (q + 1 < s_.size() && s_[q] == '_' && is_digit(s_[q + 1])) {
      ++q;
      while (q < s_.size() && is_digit(s_[q])) ++q;
    }
    return q;
  }

  static std::string strip_underscores(std::string_view t) {
    std::string r;
    for (char c : t)
      if (c != '_') r.push_back(c);
    return r;
  }

  // Float per Jinja2's float_re; returns the end or 0.
  size_t match_float(size_t p) const {
    if (p > 0 && s_[p - 1] == '.') return 0;
    const size_t a = digits(p);
    if (a == p) return 0;
    size_t q = a;
    bool frac = false;
    if (q < s_.size() && s_[q] == '.') {
      const size_t b = digits(q + 1);
      if (b > q + 1) {
        q = b;
        frac = true;
      }
    }
    if (q < s_.size() && (s_[q] == 'e' || s_[q] == 'E')) {
      size_t r = q + 1;
      if (r < s_.size() && (s_[r] == '+' || s_[r] == '-')) ++r;
      const size_t e = digits(r);
      if (e > r) return e;
    }
    return frac ? q : 0;
  }

  // Integer per Jinja2's integer_re; returns the end or 0 and the value.
  size_t match_int(size_t p, Token* t) const {
    const auto base_digits = [&](size_t q, int base) -> size_t {
      size_t r = q;
      const auto ok = [&](char c) {
        const char l = static_cast<char>(c | 0x20);
        if (base == 2) return c == '0' || c == '1';
        if (base == 8) return c >= '0' && c <= '7';
        return is_digit(c) || (l >= 'a' && l <= 'f');
      };
      for (;;) {
        if (r < s_.size() && ok(s_[r])) {
          ++r;
        } else if (r + 1 < s_.size() && s_[r] == '_' && ok(s_[r + 1])) {
          r += 2;
        } else {
          break;
        }
      }
      return r > q ? r : 0;
    };
    if (s_[p] == '0' && p + 1 < s_.size()) {
      const char x = static_cast<char>(s_[p + 1] | 0x20);
      const int base = x == 'b' ? 2 : x == 'o' ? 8 : x == 'x' ? 16 : 0;
      if (base) {
        const size_t e = base_digits(p + 2, base);
        if (e) {
          const std::string d = strip_underscores(s_.substr(p + 2, e - p - 2));
          errno = 0;
          t->ival = static_cast<int64_t>(std::strtoull(d.c_str(), nullptr, base));
          t->int_overflow = errno == ERANGE || d.size() > 16;
          return e;
        }
      }
    }
    size_t e;
    if (s_[p] == '0') {
      e = p + 1;
      while (e + 1 < s_.size() && (s_[e] == '0' || (s_[e] == '_' && s_[e + 1] == '0')))
        e += s_[e] == '_' ? 2 : 1;
    } else {
      e = digits(p);
    }
    const std::string d = strip_underscores(s_.substr(p, e - p));
    errno = 0;
    t->ival = std::strtoll(d.c_str(), nullptr, 10);
    t->int_overflow = errno == ERANGE;
    return e;
  }

  bool lex_string(size_t p) {
    const char q = s_[p];
    size_t i = p + 1;
    while (i < s_.size() && s_[i] != q) i += s_[i] == '\\' ? 2 : 1;
    if (i >= s_.size()) return fail("unexpected char " + std::string(1, q) + " (unterminated string)", p);
    std::string v;
    if (!unescape(s_.substr(p + 1, i - p - 1), &v, p)) return false;
    push(Tok::kString, static_cast<uint32_t>(p), std::move(v));
    pos_ = i + 1;
    return true;
  }

  // Python's "unicode-escape" decoding of a string literal body.
  bool unescape(std::string_view b, std::string* out, size_t at) {
    for (size_t i = 0; i < b.size(); ++i) {
      const char c = b[i];
      if (c != '\\' || i + 1 >= b.size()) {
        out->push_back(c);
        continue;
      }
      const char e = b[++i];
      const auto hex = [&](int n) -> bool {
        uint32_t cp = 0;
        for (int k = 1; k <= n; ++k) {
          if (i + k >= b.size()) return false;
          const char h = b[i + k];
          int d;
          if (is_digit(h)) d = h - '0';
          else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f') d = (h | 0x20) - 'a' + 10;
          else return false;
          cp = cp * 16 + static_cast<uint32_t>(d);
        }
        i += static_cast<size_t>(n);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
        utf8_append(out, cp);
        return true;
      };
      switch (e) {
        case '\n': break;
        case '\\': out->push_back('\\'); break;
        case '\'': out->push_back('\''); break;
        case '"': out->push_back('"'); break;
        case 'a': out->push_back('\a'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'v': out->push_back('\v'); break;
        case 'x':
          if (!hex(2)) return fail("truncated \\xXX escape", at);
          break;
        case 'u':
          if (!hex(4)) return fail("truncated \\uXXXX escape", at);
          break;
        case 'U':
          if (!hex(8)) return fail("truncated \\UXXXXXXXX escape", at);
          break;
        case 'N': return fail("\\N{...} escapes are not supported", at);
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < b.size() && b[i + 1] >= '0' && b[i + 1] <= '7'; ++k)
              cp = cp * 8 + static_cast<uint32_t>(b[++i] - '0');
            utf8_append(out, cp);
          } else {
            out->push_back('\\');
            out->push_back(e);
          }
      }
    }
    return true;
  }

  bool lex_tag(size_t p, bool block) {
    pos_ = p;
    while (pos_ < s_.size()) {
      if (balance_.empty()) {
        size_t end = 0;
        if (block) {
          if (starts(pos_, "-%}")) end = pos_ + 3 + ws_len(pos_ + 3);
          else if (starts(pos_, "+%}")) end = pos_ + 3;
          else if (starts(pos_, "%}")) {
            end = pos_ + 2;
            if (end < s_.size() && s_[end] == '\n') ++end;  // trim_blocks
          }
        } else {
          if (starts(pos_, "-}}")) end = pos_ + 3 + ws_len(pos_ + 3);
          else if (starts(pos_, "}}")) end = pos_ + 2;
        }
        if (end) {
          push(block ? Tok::kBlockEnd : Tok::kVarEnd, static_cast<uint32_t>(pos_));
          line_starting_ = s_[end - 1] == '\n';
          pos_ = end;
          return true;
        }
      }
      if (const size_t w = ws_len(pos_)) {
        pos_ += w;
        continue;
      }
      const char c = s_[pos_];
      if (is_digit(c)) {
        if (const size_t e = match_float(pos_)) {
          Token& t = push(Tok::kFloat, static_cast<uint32_t>(pos_));
          t.fval = std::strtod(strip_underscores(s_.substr(pos_, e - pos_)).c_str(), nullptr);
          pos_ = e;
          continue;
        }
        Token t{Tok::kInt, static_cast<uint32_t>(pos_), std::string(), 0, 0, false};
        const size_t e = match_int(pos_, &t);
        out_->push_back(std::move(t));
        pos_ = e;
        continue;
      }
      {
        size_t q = pos_;
        const uint32_t cp = utf8_decode_one(s_, &q);
        if (ident_start(cp)) {
          size_t e = q;
          while (e < s_.size()) {
            size_t r = e;
            if (!ident_continue(utf8_decode_one(s_, &r))) break;
            e = r;
          }
          push(Tok::kName, static_cast<uint32_t>(pos_), std::string(s_.substr(pos_, e - pos_)));
          pos_ = e;
          continue;
        }
      }
      if (c == '\'' || c == '"') {
        if (!lex_string(pos_)) return false;
        continue;
      }
      static const char* const kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
      std::string op;
      for (const char* o : kOps2)
        if (starts(pos_, o)) op = o;
      if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", c) != nullptr && c != '\0') op = c;
      if (op.empty()) {
        size_t q = pos_;
        utf8_decode_one(s_, &q);
        return fail("unexpected char '" + std::string(s_.substr(pos_, q - pos_)) + "'", pos_);
      }
      if (op == "{" || op == "(" || op == "[") {
        balance_.push_back(op == "{" ? '}' : op == "(" ? ')' : ']');
      } else if (op == "}" || op == ")" || op == "]") {
        if (balance_.empty()) return fail("unexpected '" + op + "'", pos_);
        const char want = balance_.back();
        balance_.pop_back();
        if (want != op[0])
          return fail("unexpected '" + op + "', expected '" + std::string(1, want) + "'", pos_);
      }
      push(Tok::kOp, static_cast<uint32_t>(pos_), op);
      pos_ += op.size();
    }
    return true;  // end of input inside a tag: the parser reports it
  }

  std::string_view s_;
  std::vector<Token>* out_;
  LexError* err_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::string balance_;
};

}  // namespace

std::string normalize_template_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool lex_template(std::string_view source, std::vector<Token>* tokens, LexError* error) {
  Lexer lx(source, tokens, error);
  return lx.run();
}

void offset_to_line_col(std::string_view source, uint32_t pos, uint32_t* line, uint32_t* col) {
  uint32_t l = 1;
  size_t line_start = 0;
  const size_t end = std::min<size_t>(pos, source.size());
  for (size_t i = 0; i < end; ++i) {
    if (source[i] == '\n') {
      ++l;
      line_start = i + 1;
    }
  }
  *line = l;
  *col = static_cast<uint32_t>(cp_count(source.substr(line_start, end - line_start))) + 1;
}

}  // namespace agentserve::tmpl
