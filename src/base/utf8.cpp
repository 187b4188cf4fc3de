#include "base/utf8.h"

namespace agentserve {
namespace {

// Valid range of the second byte for each lead byte (Unicode Table 3-7); the other
// continuation bytes are always 0x80..0xBF.
inline bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

// Length of the well-formed prefix of the sequence starting at s[pos] (how many bytes form a
// valid start of a code point), and whether it is complete.
size_t valid_prefix(std::string_view s, size_t pos, int* needed) {
  const uint8_t lead = static_cast<uint8_t>(s[pos]);
  *needed = utf8_sequence_length(lead);
  if (*needed == 0) return 0;
  size_t n = 1;
  while (n < static_cast<size_t>(*needed) && pos + n < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[pos + n]);
    const bool ok = n == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++n;
  }
  return n;
}

}  // namespace

size_t utf8_incomplete_tail(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  const size_t limit = s.size() < 3 ? s.size() : 3;
  for (size_t back = 1; back <= limit; ++back) {
    const size_t pos = s.size() - back;
    const uint8_t b = static_cast<uint8_t>(s[pos]);
    if ((b & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
    int needed = 0;
    const size_t have = valid_prefix(s, pos, &needed);
    if (needed > 0 && have == back && static_cast<size_t>(needed) > back) return back;
    return 0;
  }
  return 0;
}

bool utf8_is_valid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<uint8_t>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    int needed = 0;
    const size_t have = valid_prefix(s, pos, &needed);
    if (needed == 0 || have != static_cast<size_t>(needed)) return false;
    pos += have;
  }
  return true;
}

uint32_t utf8_decode_one(std::string_view s, size_t* pos) {
  const uint8_t lead = static_cast<uint8_t>(s[*pos]);
  if (lead < 0x80) {
    ++*pos;
    return lead;
  }
  int needed = 0;
  const size_t have = valid_prefix(s, *pos, &needed);
  if (needed == 0 || have != static_cast<size_t>(needed)) {
    *pos += have == 0 ? 1 : have;
    return 0xFFFD;
  }
  uint32_t cp = lead & (0x7F >> needed);
  for (int i = 1; i < needed; ++i) cp = (cp << 6) | (static_cast<uint8_t>(s[*pos + i]) & 0x3F);
  *pos += static_cast<size_t>(needed);
  return cp;
}

std::string utf8_sanitize(std::string_view s) {
  if (utf8_is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    const uint32_t cp = utf8_decode_one(s, &pos);
    if (cp == 0xFFFD && !(pos - start == 3 && s.substr(start, 3) == "\xEF\xBF\xBD"))
      utf8_append(&out, 0xFFFD);
    else
      out.append(s.substr(start, pos - start));
  }
  return out;
}

void utf8_append(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace agentserve
