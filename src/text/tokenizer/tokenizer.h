// Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (Llama 3, Qwen 2.5 / 3,
// DeepSeek-V3, gpt-oss ...), with the special-token facts of tokenizer_config.json.
//
// Semantics are those of Hugging Face `tokenizers` for `encode(text, add_special_tokens=False)`:
//   1. added tokens (tokenizer.json "added_tokens") are split out first, leftmost-longest, with
//      their lstrip / rstrip / single_word / normalized flags honoured;
//   2. the rest is normalized (NFC, or nothing), then pre-tokenized (Split regexes run through
//      PCRE2, ByteLevel, Digits), then each pre-token goes through byte-level BPE.
// The post-processor (e.g. a BOS prepended by TemplateProcessing) is NOT applied: callers that
// want a BOS ask add_bos_token() / bos_token_id() and prepend it themselves (chat templates
// usually render it as text). "truncation" and "padding" of tokenizer.json are ignored.
// Input text that is not valid UTF-8 is encoded as if each ill-formed sequence were U+FFFD.
// Unsupported features (another model type, another normalizer or pre-tokenizer, BPE dropout,
// byte_fallback ...) make load() fail with ErrorKind::kUnsupported naming the feature.
//
// Thread safety: after load() every method is const and may be called from many threads at
// once (the pre-token cache inside is lock-free and bounded). StreamingDetokenizer is one
// object per stream, not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace agentserve {

// How the text of special tokens (added tokens with "special": true) is treated by encode().
enum class SpecialTokenMode {
  // Hugging Face's default: "<|im_end|>" in the text becomes the special token. For text that
  // the server itself wrote (rendered chat templates).
  kRecognize,
  // Special tokens are never produced: their text is encoded as ordinary text, so a user
  // cannot inject "<|im_end|>". Non-special added tokens (Qwen3's "<think>", "<tool_call>")
  // are still matched, as Hugging Face does with split_special_tokens=True.
  kAsText,
};

// A byte range [first, second) of a text, e.g. the user-supplied parts of a rendered prompt.
using ByteRange = std::pair<size_t, size_t>;

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

struct NamedChatTemplate {
  std::string name;  // "default" for a plain string "chat_template" or chat_template.jinja
  std::string source;
};

class Tokenizer {
 public:
  // tokenizer_config_path may be "" (no special-token facts then: bos/eos nullopt, no
  // template). Errors name the file and say what was expected and what was found.
  static Result<std::unique_ptr<Tokenizer>> load(const std::string& tokenizer_json_path,
                                                 const std::string& tokenizer_config_path);
  // dir/tokenizer.json, plus dir/tokenizer_config.json when present, plus the chat templates of
  // dir/chat_template.jinja and dir/additional_chat_templates/*.jinja when the config has none.
  static Result<std::unique_ptr<Tokenizer>> load_from_model_dir(const std::string& dir);
  // The same from in-memory JSON texts; `name` stands for the file in error messages.
  static Result<std::unique_ptr<Tokenizer>> load_from_strings(std::string_view tokenizer_json,
                                                              std::string_view tokenizer_config,
                                                              const std::string& name);

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text,
                              SpecialTokenMode mode = SpecialTokenMode::kRecognize) const;
  void encode_append(std::string_view text, SpecialTokenMode mode,
                     std::vector<int32_t>* out) const;

  // Encodes a rendered prompt in which the bytes of `protected_ranges` came from a user.
  // The rule: a special token is produced only where its whole text lies outside every
  // protected range; a special token's text that touches a protected range is encoded as
  // ordinary text, and never swallows the template text that follows the range. Non-special
  // added tokens are matched everywhere (as in kAsText). Everything else, in particular how
  // plain text is split into pre-tokens across range boundaries, is exactly encode(text): when
  // the protected ranges hold no special-token text, the result equals
  // encode(text, kRecognize). Ranges may be unsorted, empty or overlapping; each must satisfy
  // first <= second <= text.size() (checked: a violation is a caller bug and aborts).
  std::vector<int32_t> encode_protected(std::string_view text,
                                        std::span<const ByteRange> protected_ranges) const;
  void encode_protected_append(std::string_view text, std::span<const ByteRange> protected_ranges,
                               std::vector<int32_t>* out) const;

  // Runs of text between added tokens are encoded independently; their ids are cached (64 MiB
  // by default, least recently used first out), so the unchanged part of a follow-up prompt is
  // not encoded again. 0 turns the cache off. Results never depend on it.
  void set_run_cache_budget(size_t bytes) const;

  // Every occurrence of a special token's text in `text` (leftmost-longest, not overlapping),
  // as byte ranges in text order: where encode(text, kRecognize) may produce special tokens.
  // The chat layer uses it to keep special-token text in user content from becoming tokens.
  std::vector<ByteRange> special_token_spans(std::string_view text) const;

  // Concatenated raw bytes of the tokens: may be invalid UTF-8 (a token can hold part of a
  // character). Ids without a token (gaps, < 0, >= vocab_size()) contribute nothing.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  void decode_append(std::span<const int32_t> ids, bool skip_special_tokens,
                     std::string* out) const;

  // The raw bytes a token stands for ("" for an id without a token).
  const std::string& token_bytes(int32_t id) const;
  // Max id + 1 over the model vocabulary and the added tokens.
  int32_t vocab_size() const;
  // A vocabulary string as written in tokenizer.json ("Ġthe") or an added token's content.
  std::optional<int32_t> find_token(std::string_view content) const;
  // True for added tokens marked "special": true.
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& added_tokens() const;

  // From tokenizer_config.json (absent fields -> nullopt / false / empty).
  std::optional<int32_t> bos_token_id() const;
  std::optional<int32_t> eos_token_id() const;
  const std::string& bos_token() const;  // the token's text, "" if none
  const std::string& eos_token() const;
  // "add_bos_token" of tokenizer_config.json; when that field is absent, whether the
  // post-processor of tokenizer.json (TemplateProcessing) starts the single-sequence template
  // with the BOS token (Llama 3.1).
  bool add_bos_token() const;
  // Hugging Face transformers' decode() option; decode() here never applies it (raw bytes).
  bool clean_up_tokenization_spaces() const;
  // The template named "default" ("" if none).
  const std::string& chat_template() const;
  // All named templates (a plain string config value is one template named "default").
  const std::vector<NamedChatTemplate>& chat_templates() const;
  // The template of that name, or nullptr.
  const std::string* chat_template_named(std::string_view name) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text chunks that are always valid UTF-8: bytes of a
// character split across tokens are held back until the character is complete; ill-formed
// bytes become U+FFFD (as Python's errors="replace"). For valid UTF-8 output the chunks
// concatenate to exactly decode(ids).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tok, bool skip_special_tokens = false);

  // The text that is complete now (may be "").
  std::string push(int32_t id);
  // Whatever is held back (an incomplete character becomes U+FFFD); the stream may go on.
  std::string flush();
  // Bytes held back now (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tok_;
  bool skip_special_tokens_;
  std::string pending_;
};

}  // namespace agentserve
