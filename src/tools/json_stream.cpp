// The JSON grammar as a byte-at-a-time state machine; see json_stream.h for what it promises.
#include "tools/json_stream.h"

#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A raw control character inside a string, as the escape JSON requires.
void append_escaped_control(unsigned char c, std::string* out) {
  switch (c) {
    case '\n':
      out->append("\\n");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

size_t JsonStream::feed(std::string_view text, std::string* out) {
  size_t n = 0;
  while (n < text.size() && !done_ && !broken_) {
    if (!step(static_cast<unsigned char>(text[n]), out)) break;
    ++n;
  }
  consumed_ += n;
  return n;
}

void JsonStream::end_of_input() {
  if (done_ || broken_ || mode_ != Mode::kNumber || !stack_.empty()) return;
  if (num_ == Num::kZero || num_ == Num::kInt || num_ == Num::kFrac || num_ == Num::kExp)
    done_ = true;
}

void JsonStream::value_done() {
  if (stack_.empty()) {
    done_ = true;
  } else {
    mode_ = Mode::kAfterValue;
  }
}

bool JsonStream::step(unsigned char c, std::string* out) {
  for (;;) {
    switch (mode_) {
      case Mode::kValue: {
        if (is_format_space(c)) return space(c, out), true;
        if (stack_.empty() && top_ == Top::kObject && c != '{') return broken_ = true, false;
        if (array_first_ && c == ']') {
          array_first_ = false;
          out->push_back(']');
          stack_.pop_back();
          value_done();
          return true;
        }
        array_first_ = false;
        if (c == '{' || c == '[') {
          release_held(out);
          out->push_back(static_cast<char>(c));
          stack_.push_back(static_cast<char>(c));
          if (c == '{') {
            mode_ = Mode::kKeyOrEnd;
          } else {
            array_first_ = true;  // an empty array may close at once
          }
          return true;
        }
        if (c == '"') {
          release_held(out);
          out->push_back('"');
          mode_ = Mode::kString;
          is_key_ = false;
          return true;
        }
        if (c == '-' || is_digit(c)) {
          release_held(out);
          out->push_back(static_cast<char>(c));
          mode_ = Mode::kNumber;
          num_ = c == '-' ? Num::kMinus : (c == '0' ? Num::kZero : Num::kInt);
          range_ = NumberRange();
          if (c != '-') range_.int_digit(static_cast<char>(c));
          return true;
        }
        if (c == 't' || c == 'f' || c == 'n') {
          release_held(out);
          out->push_back(static_cast<char>(c));
          mode_ = Mode::kLiteral;
          literal_ = c == 't' ? "true" : (c == 'f' ? "false" : "null");
          literal_pos_ = 1;
          return true;
        }
        return broken_ = true, false;
      }
      case Mode::kKeyOrEnd:
      case Mode::kKey: {
        if (is_format_space(c)) return space(c, out), true;
        if (c == '"') {
          release_held(out);
          out->push_back('"');
          mode_ = Mode::kString;
          is_key_ = true;
          return true;
        }
        if (c == '}' && mode_ == Mode::kKeyOrEnd) {
          out->push_back('}');
          stack_.pop_back();
          value_done();
          return true;
        }
        return broken_ = true, false;
      }
      case Mode::kColon: {
        if (is_format_space(c)) return space(c, out), true;
        if (c != ':') return broken_ = true, false;
        out->push_back(':');
        mode_ = Mode::kValue;
        return true;
      }
      case Mode::kAfterValue: {
        if (is_format_space(c)) return space(c, out), true;
        const char open = stack_.back();
        if (c == ',') {
          held_.push_back(',');
          mode_ = open == '{' ? Mode::kKey : Mode::kValue;
          return true;
        }
        if ((open == '{' && c == '}') || (open == '[' && c == ']')) {
          out->push_back(static_cast<char>(c));
          stack_.pop_back();
          value_done();
          return true;
        }
        return broken_ = true, false;
      }
      case Mode::kString:
        return string_byte(c, out);
      case Mode::kNumber: {
        bool ok = false;
        NumberRange range = range_;
        const char ch = static_cast<char>(c);
        switch (num_) {
          case Num::kMinus:
            if (is_digit(c)) num_ = c == '0' ? Num::kZero : Num::kInt, ok = true;
            if (ok) range.int_digit(ch);
            break;
          case Num::kZero:
            if (c == '.')
              num_ = Num::kDot, ok = true;
            else if (c == 'e' || c == 'E')
              num_ = Num::kE, ok = true;
            break;
          case Num::kInt:
            if (is_digit(c))
              ok = true, range.int_digit(ch);
            else if (c == '.')
              num_ = Num::kDot, ok = true;
            else if (c == 'e' || c == 'E')
              num_ = Num::kE, ok = true;
            break;
          case Num::kDot:
            if (is_digit(c)) num_ = Num::kFrac, ok = true, range.fraction_digit(ch);
            break;
          case Num::kFrac:
            if (is_digit(c))
              ok = true, range.fraction_digit(ch);
            else if (c == 'e' || c == 'E')
              num_ = Num::kE, ok = true;
            break;
          case Num::kE:
            if (c == '+' || c == '-')
              num_ = Num::kESign, ok = true;
            else if (is_digit(c))
              num_ = Num::kExp, ok = true, range.exponent_digit(ch);
            if (c == '-') range.exponent_negative();
            break;
          case Num::kESign:
          case Num::kExp:
            if (is_digit(c)) num_ = Num::kExp, ok = true, range.exponent_digit(ch);
            break;
        }
        if (ok) {
          // A digit that takes the number past a double's range offends like any bad byte.
          if (range.overflows()) return broken_ = true, false;
          range_ = range;
          out->push_back(ch);
          return true;
        }
        const bool can_end =
            num_ == Num::kZero || num_ == Num::kInt || num_ == Num::kFrac || num_ == Num::kExp;
        if (!can_end) return broken_ = true, false;
        // The number ended just before `c`; `c` belongs to what follows it.
        value_done();
        if (done_) return false;
        continue;
      }
      case Mode::kLiteral: {
        if (c != static_cast<unsigned char>(literal_[literal_pos_])) return broken_ = true, false;
        out->push_back(static_cast<char>(c));
        if (++literal_pos_ == literal_.size()) value_done();
        return true;
      }
    }
  }
}

bool JsonStream::string_byte(unsigned char c, std::string* out) {
  if (utf8_need_ > 0) {
    if (c < utf8_lo_ || c > utf8_hi_) return broken_ = true, false;
    utf8_.push_back(static_cast<char>(c));
    utf8_lo_ = 0x80;
    utf8_hi_ = 0xBF;
    if (--utf8_need_ == 0) {
      out->append(utf8_);
      utf8_.clear();
    }
    return true;
  }
  switch (esc_) {
    case Esc::kNone:
      break;
    case Esc::kBackslash:
      if (c == 'u') {
        esc_ = Esc::kHex;
        hex_count_ = 0;
        hex_value_ = 0;
      } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                 c == 'r' || c == 't') {
        esc_ = Esc::kNone;
      } else {
        return broken_ = true, false;
      }
      out->push_back(static_cast<char>(c));
      return true;
    case Esc::kHex:
    case Esc::kLowHex: {
      const int d = hex_digit(c);
      if (d < 0) return broken_ = true, false;
      // A low half must be DC00..DFFF: check each digit as it comes, so a break is found at
      // the byte that causes it.
      if (esc_ == Esc::kLowHex) {
        if (hex_count_ == 0 && d != 0xD) return broken_ = true, false;
        if (hex_count_ == 1 && d < 0xC) return broken_ = true, false;
      } else if (hex_count_ == 1 && hex_value_ == 0xD && d >= 0xC) {
        return broken_ = true, false;  // a low half with no high half before it
      }
      hex_value_ = hex_value_ * 16 + static_cast<uint32_t>(d);
      out->push_back(static_cast<char>(c));
      if (++hex_count_ < 4) return true;
      if (esc_ == Esc::kLowHex) {
        esc_ = Esc::kNone;
      } else if (hex_value_ >= 0xD800 && hex_value_ <= 0xDBFF) {
        esc_ = Esc::kLowSlash;
      } else {
        esc_ = Esc::kNone;
      }
      return true;
    }
    case Esc::kLowSlash:
      if (c != '\\') return broken_ = true, false;
      out->push_back('\\');
      esc_ = Esc::kLowU;
      return true;
    case Esc::kLowU:
      if (c != 'u') return broken_ = true, false;
      out->push_back('u');
      esc_ = Esc::kLowHex;
      hex_count_ = 0;
      hex_value_ = 0;
      return true;
  }
  if (c == '"') {
    out->push_back('"');
    if (is_key_) {
      mode_ = Mode::kColon;
    } else {
      value_done();
    }
    return true;
  }
  if (c == '\\') {
    out->push_back('\\');
    esc_ = Esc::kBackslash;
    return true;
  }
  if (c < 0x20) {
    append_escaped_control(c, out);
    return true;
  }
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
    return true;
  }
  // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
  if (c >= 0xC2 && c <= 0xDF) {
    utf8_need_ = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    utf8_need_ = 2;
    if (c == 0xE0) utf8_lo_ = 0xA0;
    if (c == 0xED) utf8_hi_ = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    utf8_need_ = 3;
    if (c == 0xF0) utf8_lo_ = 0x90;
    if (c == 0xF4) utf8_hi_ = 0x8F;
  } else {
    return broken_ = true, false;
  }
  utf8_.push_back(static_cast<char>(c));
  return true;
}

std::string JsonStream::closing() const {
  if (done_) return "";
  std::string s;
  switch (mode_) {
    case Mode::kValue:
      if (stack_.empty()) {
        s = top_ == Top::kObject ? "{}" : "null";
      } else if (stack_.back() == '{') {
        s = "null";  // after a colon
      }
      // In an array: right after '[' or after a held (unemitted) comma, nothing is missing.
      break;
    case Mode::kKeyOrEnd:
    case Mode::kKey:
    case Mode::kAfterValue:
      break;
    case Mode::kColon:
      s = ": null";
      break;
    case Mode::kString: {
      switch (esc_) {
        case Esc::kNone:
          break;
        case Esc::kBackslash:
          s = "\\";
          break;
        case Esc::kHex: {
          // Complete the digits with zeros; a high half then needs a low half after it.
          uint32_t v = hex_value_;
          for (int i = hex_count_; i < 4; ++i) s.push_back('0'), v *= 16;
          // Zeros never complete a lone low half: "\uD" followed by C..F breaks at once.
          if (v >= 0xD800 && v <= 0xDBFF) s += "\\uDC00";
          break;
        }
        case Esc::kLowSlash:
          s = "\\uDC00";
          break;
        case Esc::kLowU:
          s = "uDC00";
          break;
        case Esc::kLowHex:
          s = std::string("DC00").substr(static_cast<size_t>(hex_count_));
          break;
      }
      s.push_back('"');
      if (is_key_) s += ": null";
      break;
    }
    case Mode::kNumber:
      if (num_ == Num::kMinus || num_ == Num::kDot || num_ == Num::kE || num_ == Num::kESign)
        s = "0";
      break;
    case Mode::kLiteral:
      s = std::string(literal_.substr(literal_pos_));
      break;
  }
  for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) s.push_back(*it == '{' ? '}' : ']');
  return s;
}

}  // namespace agentserve::tools
