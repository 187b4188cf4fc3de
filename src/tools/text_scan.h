// Small scanning helpers shared by the tag-based tool-call parsers (Qwen3-Coder, harmony): how
// much of a streamed text must be held back because a marker may be starting at its end, and
// how raw text becomes the inside of a JSON string.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace agentserve::tools {

// Length of the longest suffix of `text` that is a proper prefix of one of `markers`: the bytes
// a streaming parser must not release yet, since the next piece may complete the marker.
size_t marker_prefix_tail(std::string_view text, std::initializer_list<std::string_view> markers);

// True for space, tab, CR and LF: the whitespace that models put between markers.
inline bool is_format_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_blank(std::string_view text);
// Strips whitespace (is_format_space) at both ends.
std::string_view trim_space(std::string_view text);

// Appends `text` as the inside of a JSON string (no quotes): '"' and '\' escaped, control
// characters as \n, \t, \r, \b, \f or \u00XX; every other byte as is (the caller hands in
// whole UTF-8 characters, so the result is valid JSON text).
void append_json_string_body(std::string* out, std::string_view text);

}  // namespace agentserve::tools
