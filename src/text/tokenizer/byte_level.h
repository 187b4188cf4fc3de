// The byte-level alphabet of GPT-2-style BPE (Qwen, Llama 3, DeepSeek, gpt-oss): every byte
// 0..255 is written as one printable code point, so that vocabularies are valid UTF-8 text.
// Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100.. in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace agentserve {

// The code point that stands for `byte` in vocabulary strings.
uint32_t byte_to_unicode(uint8_t byte);

// Encodes raw bytes as their byte-level string (UTF-8 of the mapped code points).
std::string bytes_to_byte_level(std::string_view bytes);

// Decodes a byte-level vocabulary string back to raw bytes; false if it contains a code point
// outside the alphabet (the string is then not a byte-level token).
bool byte_level_to_bytes(std::string_view text, std::string* bytes);

}  // namespace agentserve
