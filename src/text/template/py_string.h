// Python str semantics over UTF-8 (engine-internal): code-point indexing, Unicode whitespace,
// case mapping and the str methods templates call. Strings are assumed valid UTF-8 (ill-formed
// bytes decode as U+FFFD, one per maximal subpart).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentserve::tmpl {

bool py_isspace(uint32_t cp);       // str.isspace() for one code point
bool py_isprintable(uint32_t cp);   // str.isprintable() for one code point
bool py_is_word_char(uint32_t cp);  // regex \w (Unicode): alphanumeric or '_'

bool is_ascii(std::string_view s);
size_t cp_count(std::string_view s);  // len(s)
// Byte offset of code point `index` (0 <= index <= cp_count(s)).
size_t cp_offset(std::string_view s, size_t index);
std::vector<uint32_t> decode_all(std::string_view s);
std::string encode_all(const uint32_t* cps, size_t n);

std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);  // str.capitalize()
std::string py_title(std::string_view s);       // str.title()
std::string py_swapcase(std::string_view s);
bool py_islower(std::string_view s);
bool py_isupper(std::string_view s);
bool py_istitle(std::string_view s);

enum class CharClass { kAlpha, kDigit, kDecimal, kNumeric, kAlnum, kSpace };
bool py_is_all(std::string_view s, CharClass c);  // str.isalpha() ... (false when empty)

// strip/lstrip/rstrip: `chars` absent = Unicode whitespace.
std::string_view py_strip(std::string_view s, const std::optional<std::string_view>& chars,
                          bool left, bool right);
// str.split / str.rsplit; sep absent = runs of whitespace; maxsplit < 0 = no limit.
std::vector<std::string_view> py_split(std::string_view s,
                                       const std::optional<std::string_view>& sep,
                                       int64_t maxsplit, bool from_right);
std::vector<std::string_view> py_splitlines(std::string_view s, bool keepends);
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);
// find/rfind in code points, -1 when absent. [start, end) are code-point bounds (Python slice
// semantics already applied by the caller).
int64_t py_find(std::string_view s, std::string_view sub, int64_t start, int64_t end, bool rev);
int64_t py_count(std::string_view s, std::string_view sub, int64_t start, int64_t end);
std::string py_center(std::string_view s, int64_t width, uint32_t fill);
std::string py_ljust(std::string_view s, int64_t width, uint32_t fill, bool right);

// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(std::string_view s);

}  // namespace agentserve::tmpl
