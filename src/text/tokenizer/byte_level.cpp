#include "text/tokenizer/byte_level.h"

#include <array>

#include "base/utf8.h"

namespace agentserve {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_unicode{};
  std::array<int16_t, 324> from_unicode{};  // code points 0..323 cover the whole alphabet
  Tables() {
    from_unicode.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_unicode[b] = printable ? b : next++;
      from_unicode[to_unicode[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_unicode(uint8_t byte) { return tables().to_unicode[byte]; }

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) utf8_append(&out, tables().to_unicode[static_cast<uint8_t>(c)]);
  return out;
}

bool byte_level_to_bytes(std::string_view text, std::string* bytes) {
  bytes->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    const uint32_t cp = utf8_decode_one(text, &pos);
    if (cp >= tables().from_unicode.size() || tables().from_unicode[cp] < 0) return false;
    bytes->push_back(static_cast<char>(tables().from_unicode[cp]));
  }
  return true;
}

}  // namespace agentserve
