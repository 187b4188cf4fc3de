// Reading tokenizer.json and tokenizer_config.json into plain specs; everything this
// tokenizer cannot honour is refused here with kUnsupported, naming the feature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "text/tokenizer/bpe.h"
#include "text/tokenizer/normalizer.h"
#include "text/tokenizer/pre_tokenizer.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::tok {

struct TokenizerJsonSpec {
  BpeSpec bpe;
  std::vector<AddedToken> added_tokens;
  Normalizer::Kind normalizer = Normalizer::Kind::kNone;
  std::vector<PreTokenizerStep> pre_tokenizer;
  // Special tokens the post-processor (TemplateProcessing) puts before a single sequence.
  std::vector<int32_t> post_processor_prefix_ids;
};

// `file` names the file in errors.
Result<TokenizerJsonSpec> parse_tokenizer_json(std::string_view text, const std::string& file);

struct TokenizerConfigSpec {
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<bool> add_bos_token;
  bool clean_up_tokenization_spaces = false;
  std::vector<NamedChatTemplate> chat_templates;
};

Result<TokenizerConfigSpec> parse_tokenizer_config(std::string_view text, const std::string& file);

}  // namespace agentserve::tok
