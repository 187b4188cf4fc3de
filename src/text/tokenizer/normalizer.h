// Normalizers of tokenizer.json that byte-level BPE models use: none, or Unicode NFC (Qwen 2.5,
// Qwen3), possibly written as a Sequence. NFC runs through ICU's UTF-8 API, after a fast check
// that skips ASCII and already-normalized text without copying.
#pragma once

#include <string>
#include <string_view>

namespace agentserve::tok {

class Normalizer {
 public:
  enum class Kind { kNone, kNfc };
  explicit Normalizer(Kind kind = Kind::kNone);

  Kind kind() const { return kind_; }
  bool is_identity() const { return kind_ == Kind::kNone; }

  // Returns `text` itself when it is already normalized; otherwise writes the normalized text
  // into *storage and returns a view of it. `text` must be valid UTF-8.
  std::string_view normalize(std::string_view text, std::string* storage) const;

 private:
  Kind kind_;
  const void* nfc_ = nullptr;  // const icu::Normalizer2*
};

}  // namespace agentserve::tok
