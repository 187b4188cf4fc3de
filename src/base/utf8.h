// UTF-8 helpers shared by the tokenizer, the streaming detokenizer and the HTTP layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace agentserve {

// Length of the UTF-8 sequence that starts with byte `lead` (1..4), or 0 for a byte that
// cannot start one (a continuation byte, 0xC0, 0xC1, 0xF5..0xFF).
inline int utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// Number of bytes at the end of `s` that form an incomplete (but so far valid) UTF-8
// sequence: what a streaming decoder must hold back until more bytes arrive. 0..3.
size_t utf8_incomplete_tail(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool utf8_is_valid(std::string_view s);

// Replaces each ill-formed sequence with U+FFFD, as Python's errors="replace" does (maximal
// subparts), so that text handed to clients is always valid JSON-encodable UTF-8.
std::string utf8_sanitize(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (must be <= U+10FFFF, not a surrogate).
void utf8_append(std::string* out, uint32_t cp);

// Decodes one code point at s[*pos] and advances *pos; returns U+FFFD (advancing by the
// maximal ill-formed subpart) for bad input.
uint32_t utf8_decode_one(std::string_view s, size_t* pos);

}  // namespace agentserve
