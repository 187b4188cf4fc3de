// Small text helpers of the tag-based tool-call parsers (Qwen3-Coder, harmony): whitespace
// between markers, and raw text as the inside of a JSON string.
#pragma once

#include <string>
#include <string_view>

namespace agentserve::tools {

// True for space, tab, CR and LF: the whitespace that models put between markers.
inline bool is_format_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
// The first position at or after `from` that is not such whitespace (text.size() if none).
inline size_t skip_format_space(std::string_view text, size_t from = 0) {
  while (from < text.size() && is_format_space(text[from])) ++from;
  return from;
}
bool is_blank(std::string_view text);
// Strips whitespace (is_format_space) at both ends.
std::string_view trim_space(std::string_view text);

// Appends `text` as the inside of a JSON string (no quotes): '"' and '\' escaped, control
// characters as \n, \t, \r, \b, \f or \u00XX; every other byte as is (the caller hands in
// whole UTF-8 characters, so the result is valid JSON text).
void append_json_string_body(std::string* out, std::string_view text);

}  // namespace agentserve::tools
