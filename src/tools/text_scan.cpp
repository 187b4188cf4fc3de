#include "tools/text_scan.h"

#include <algorithm>

namespace agentserve::tools {

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
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
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
