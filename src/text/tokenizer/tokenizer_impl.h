// Tokenizer's private state, shared by tokenizer_load.cpp (building it) and tokenizer.cpp
// (encoding and decoding with it). Not part of the public API.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/tokenizer/added_tokens.h"
#include "text/tokenizer/bpe.h"
#include "text/tokenizer/normalizer.h"
#include "text/tokenizer/pre_tokenizer.h"
#include "text/tokenizer/run_cache.h"
#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/tokenizer_json.h"

namespace agentserve {

struct Tokenizer::Impl {
  std::string file;
  std::unique_ptr<tok::BpeModel> bpe;
  tok::Normalizer normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  tok::AddedTokenMatcher raw_matcher;         // added tokens with normalized=false
  tok::AddedTokenMatcher normalized_matcher;  // normalized=true, matched after the normalizer
  std::vector<AddedToken> added;
  std::vector<std::string> token_bytes;  // by id
  std::vector<uint8_t> special;          // by id
  std::unordered_map<std::string, int32_t> by_content;  // vocab strings and added contents
  int32_t vocab_size = 0;

  tok::TokenizerConfigSpec config;
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  bool add_bos = false;
  std::string bos_text;
  std::string eos_text;
  std::string default_template;
  // Ids of runs between added tokens already encoded (run_cache.h).
  std::unique_ptr<tok::RunCache> run_cache = std::make_unique<tok::RunCache>(kDefaultRunCacheBytes);
  static constexpr size_t kDefaultRunCacheBytes = 64u << 20;

  // protected_ranges: sorted, merged, non-empty; null for none.
  void encode(std::string_view text, SpecialTokenMode mode,
              const std::vector<ByteRange>* protected_ranges, std::vector<int32_t>* out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>* out) const;
};

}  // namespace agentserve
