// Splits text on added tokens (tokenizer.json "added_tokens") the way Hugging Face's
// AddedVocabulary does: matches are found leftmost-longest without overlap; a match that is
// then refused (a special token in kAsText mode, a single_word token inside a word) is skipped
// as a whole and its text stays ordinary text; lstrip / rstrip widen an accepted match over the
// Unicode whitespace beside it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer/function_ref.h"

namespace agentserve::tok {

class AddedTokenMatcher {
 public:
  struct Entry {
    std::string text;  // what is matched (the content, normalized for normalized tokens)
    int32_t id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
  };
  // Whether a match is taken; when refused, the scan goes on at `resume` (>= the match start +1).
  struct Decision {
    bool accept;
    size_t resume;
  };
  using AcceptFn = FunctionRef<Decision(const Entry& entry, size_t begin, size_t end)>;

  void build(std::vector<Entry> entries);
  bool empty() const { return entries_.empty(); }

  // Calls on_text(begin, end) for each run of ordinary text and on_token(id) for each accepted
  // match, in text order. on_text ranges are non-empty.
  void split(std::string_view text, AcceptFn accept, FunctionRef<void(size_t, size_t)> on_text,
             FunctionRef<void(int32_t)> on_token) const;

  // The leftmost-longest match at or after `pos`: false when none.
  bool next_match(std::string_view text, size_t pos, size_t* begin, size_t* end,
                  const Entry** entry) const;

 private:
  struct Node {
    int32_t entry = -1;  // index of the token that ends here, or -1
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  };
  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Entry> entries_;
  std::vector<Node> nodes_;
  std::array<bool, 256> first_byte_{};
  int single_first_byte_ = -1;  // the only first byte, when all tokens share one (memchr)
};

// Unicode White_Space (Rust's char::is_whitespace, regex \s).
bool is_unicode_whitespace(uint32_t cp);
// The regex crate's \w: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
bool is_word_char(uint32_t cp);

}  // namespace agentserve::tok
