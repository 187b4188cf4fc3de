// Pre-tokenizers of tokenizer.json: Split (regex or string pattern, any behaviour), ByteLevel
// (optional prefix space and GPT-2 regex), Digits; a Sequence runs them in order, each one
// splitting every piece of the one before. Pieces stay raw bytes: the byte-level character
// mapping is folded into the BPE model's initial symbols.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "text/tokenizer/function_ref.h"
#include "text/tokenizer/regex.h"

namespace agentserve::tok {

enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel, kDigits };
  Kind kind = Kind::kSplit;
  std::string where;  // "tokenizer.json: pre_tokenizer.pretokenizers[0]" for errors
  // kSplit
  std::string pattern;
  bool pattern_is_regex = true;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  // kByteLevel
  bool add_prefix_space = false;
  bool use_regex = false;
  // kDigits
  bool individual_digits = false;
};

// The GPT-2 split pattern that ByteLevel applies when use_regex is true.
extern const char kGpt2SplitPattern[];

class PreTokenizer {
 public:
  static Result<std::unique_ptr<PreTokenizer>> build(const std::vector<PreTokenizerStep>& steps);
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;
  ~PreTokenizer();

  // Calls emit for each non-empty pre-token of `text` (valid UTF-8), in order.
  void split(std::string_view text, FunctionRef<void(std::string_view)> emit) const;

 private:
  struct Stage;
  PreTokenizer() = default;
  void run(std::string_view text, size_t stage, FunctionRef<void(std::string_view)> emit) const;
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace agentserve::tok
