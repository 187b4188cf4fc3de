#include "tools/text_scan.h"

#include <algorithm>

namespace agentserve::tools {

size_t marker_prefix_tail(std::string_view text, std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view m : markers) {
    // Only proper prefixes: a whole marker at the end is the caller's to find, not to hold.
    const size_t longest = std::min(text.size(), m.size() - 1);
    for (size_t n = longest; n > best; --n) {
      if (text.substr(text.size() - n) == m.substr(0, n)) {
        best = n;
        break;
      }
    }
  }
  return best;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_format_space);
}

std::string_view trim_space(std::string_view text) {
  while (!text.empty() && is_format_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_format_space(text.back())) text.remove_suffix(1);
  return text;
}

void append_json_string_body(std::string* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
}

}  // namespace agentserve::tools
