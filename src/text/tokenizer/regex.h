// The split regexes of tokenizer.json, run through PCRE2 (UTF + UCP, JIT compiled).
//
// Hugging Face compiles these patterns with Oniguruma, where \s is Unicode White_Space
// (U+0085 included); PCRE2's \s under UCP is a different set (no U+0085). Patterns are therefore
// rewritten so that \s / \S mean \p{White_Space} / \P{White_Space}, inside classes too.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace agentserve::tok {

// The pattern with \s and \S replaced as described above.
std::string translate_pattern(std::string_view pattern);

class Regex {
 public:
  // `where` names the pattern in errors ("tokenizer.json: pre_tokenizer...pattern").
  static Result<std::unique_ptr<Regex>> compile(std::string_view pattern,
                                                const std::string& where);
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex();

  // The first non-empty match at or after byte `start` of `text` (valid UTF-8; the whole text is
  // the subject, so look-around sees past `start`). False when there is none.
  bool find(std::string_view text, size_t start, size_t* match_begin, size_t* match_end) const;

  bool jit() const { return jit_; }

 private:
  Regex() = default;
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace agentserve::tok
