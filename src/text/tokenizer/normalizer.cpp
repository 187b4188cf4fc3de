#include "text/tokenizer/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include <cstdint>
#include <cstring>

#include "base/check.h"

namespace agentserve::tok {
namespace {

// Index of the first byte >= 0x80, or text.size().
size_t ascii_prefix(std::string_view text) {
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < text.size() && static_cast<uint8_t>(text[i]) < 0x80) ++i;
  return i;
}

}  // namespace

Normalizer::Normalizer(Kind kind) : kind_(kind) {
  if (kind_ == Kind::kNfc) {
    UErrorCode status = U_ZERO_ERROR;
    nfc_ = icu::Normalizer2::getNFCInstance(status);
    AS_CHECK_MSG(U_SUCCESS(status) && nfc_ != nullptr,
                 std::string("ICU NFC data unavailable: ") + u_errorName(status));
  }
}

std::string_view Normalizer::normalize(std::string_view text, std::string* storage) const {
  if (kind_ == Kind::kNone) return text;
  // ASCII is NFC, and every ASCII character starts a new normalization segment (it is never
  // the second half of a composition), so an ASCII prefix stays as it is, except that its last
  // character may compose with a following mark ("e" + U+0301): start ICU there.
  const size_t first = ascii_prefix(text);
  if (first == text.size()) return text;
  const auto* nfc = static_cast<const icu::Normalizer2*>(nfc_);
  UErrorCode status = U_ZERO_ERROR;
  const size_t from = first > 0 ? first - 1 : 0;
  const icu::StringPiece rest(text.data() + from, static_cast<int32_t>(text.size() - from));
  if (nfc->isNormalizedUTF8(rest, status) && U_SUCCESS(status)) return text;
  status = U_ZERO_ERROR;
  storage->clear();
  storage->reserve(text.size() + 16);
  storage->append(text.substr(0, from));
  icu::StringByteSink<std::string> sink(storage);
  nfc->normalizeUTF8(0, rest, sink, nullptr, status);
  AS_CHECK_MSG(U_SUCCESS(status), std::string("ICU NFC failed: ") + u_errorName(status));
  return *storage;
}

}  // namespace agentserve::tok
