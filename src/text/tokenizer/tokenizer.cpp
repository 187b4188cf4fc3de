// Tokenizer: loading (tokenizer.json + tokenizer_config.json + chat templates), the encode
// pipeline (added tokens -> normalizer -> normalized added tokens -> pre-tokenizer -> BPE) and
// decoding.
#include "text/tokenizer/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "base/check.h"
#include "base/log.h"
#include "base/mmap_file.h"
#include "base/utf8.h"
#include "text/tokenizer/added_tokens.h"
#include "text/tokenizer/bpe.h"
#include "text/tokenizer/byte_level.h"
#include "text/tokenizer/normalizer.h"
#include "text/tokenizer/pre_tokenizer.h"
#include "text/tokenizer/tokenizer_json.h"

namespace agentserve {

using tok::AddedTokenMatcher;

struct Tokenizer::Impl {
  std::string file;
  std::unique_ptr<tok::BpeModel> bpe;
  tok::Normalizer normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  AddedTokenMatcher raw_matcher;         // added tokens with normalized=false
  AddedTokenMatcher normalized_matcher;  // normalized=true, matched after the normalizer
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

  // protected_ranges: sorted, merged, non-empty; null for none.
  void encode(std::string_view text, SpecialTokenMode mode,
              const std::vector<ByteRange>* protected_ranges, std::vector<int32_t>* out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>* out) const;
};

namespace {

const std::string kEmpty;

// Decision for a special token found at [b, e) of a text with protected ranges: refused when it
// touches a range; the scan then resumes where that range ends if that is inside the match, so
// that a token's text straddling the end of user text never hides the template after it.
AddedTokenMatcher::Decision protected_decision(const std::vector<ByteRange>& ranges, size_t b,
                                               size_t e) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), b,
                             [](size_t pos, const ByteRange& r) { return pos < r.second; });
  if (it == ranges.end() || it->first >= e) return {true, e};
  return {false, it->second < e ? it->second : e};
}

std::vector<ByteRange> normalize_ranges(std::span<const ByteRange> in, size_t text_size) {
  std::vector<ByteRange> r;
  for (const ByteRange& x : in) {
    AS_CHECK_LE(x.first, x.second);
    AS_CHECK_LE(x.second, text_size);
    if (x.first < x.second) r.push_back(x);
  }
  std::sort(r.begin(), r.end());
  std::vector<ByteRange> merged;
  for (const ByteRange& x : r) {
    if (!merged.empty() && x.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, x.second);
    } else {
      merged.push_back(x);
    }
  }
  return merged;
}

// Replaces ill-formed UTF-8 by U+FFFD piece by piece between range boundaries, moving the
// ranges along with their text.
std::string sanitize_with_ranges(std::string_view text, std::vector<ByteRange>* ranges) {
  std::vector<size_t> cuts{0, text.size()};
  for (const ByteRange& r : *ranges) {
    cuts.push_back(r.first);
    cuts.push_back(r.second);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::string out;
  std::vector<size_t> moved(cuts.size());
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    moved[i] = out.size();
    out += utf8_sanitize(text.substr(cuts[i], cuts[i + 1] - cuts[i]));
  }
  moved.back() = out.size();
  auto move = [&](size_t pos) {
    return moved[std::lower_bound(cuts.begin(), cuts.end(), pos) - cuts.begin()];
  };
  for (ByteRange& r : *ranges) r = {move(r.first), move(r.second)};
  return out;
}

Result<std::unique_ptr<Tokenizer::Impl>> build_impl(std::string_view tokenizer_json,
                                                    std::string_view tokenizer_config,
                                                    const std::string& json_name,
                                                    const std::string& config_name) {
  auto impl = std::make_unique<Tokenizer::Impl>();
  impl->file = json_name;
  AS_ASSIGN_OR_RETURN(tok::TokenizerJsonSpec spec,
                      tok::parse_tokenizer_json(tokenizer_json, json_name));
  AS_ASSIGN_OR_RETURN(impl->bpe, tok::BpeModel::build(spec.bpe, json_name));
  impl->normalizer = tok::Normalizer(spec.normalizer);
  AS_ASSIGN_OR_RETURN(impl->pre_tokenizer, tok::PreTokenizer::build(spec.pre_tokenizer));

  int32_t max_id = -1;
  for (const auto& [token, id] : spec.bpe.vocab) max_id = std::max(max_id, id);
  for (const AddedToken& a : spec.added_tokens) max_id = std::max(max_id, a.id);
  impl->vocab_size = max_id + 1;
  impl->token_bytes.assign(static_cast<size_t>(impl->vocab_size), std::string());
  impl->special.assign(static_cast<size_t>(impl->vocab_size), 0);
  impl->by_content.reserve(spec.bpe.vocab.size() + spec.added_tokens.size());
  // The ByteLevel decoder maps a token's characters back to bytes when every character is in
  // the byte-level alphabet, and passes the token's UTF-8 through otherwise.
  auto bytes_of = [](const std::string& token) {
    std::string bytes;
    return byte_level_to_bytes(token, &bytes) ? bytes : token;
  };
  for (const auto& [token, id] : spec.bpe.vocab) {
    impl->token_bytes[id] = bytes_of(token);
    impl->by_content.emplace(token, id);
  }
  std::vector<AddedTokenMatcher::Entry> raw_entries;
  std::vector<AddedTokenMatcher::Entry> normalized_entries;
  for (const AddedToken& a : spec.added_tokens) {
    impl->token_bytes[a.id] = bytes_of(a.content);
    impl->special[a.id] = a.special ? 1 : 0;
    impl->by_content[a.content] = a.id;  // an added token wins over a vocab string
    AddedTokenMatcher::Entry e{a.content, a.id, a.special, a.lstrip, a.rstrip, a.single_word};
    if (a.normalized && !impl->normalizer.is_identity()) {
      std::string storage;
      e.text = std::string(impl->normalizer.normalize(utf8_sanitize(a.content), &storage));
      normalized_entries.push_back(std::move(e));
    } else if (a.normalized) {
      normalized_entries.push_back(std::move(e));
    } else {
      raw_entries.push_back(std::move(e));
    }
  }
  impl->raw_matcher.build(std::move(raw_entries));
  impl->normalized_matcher.build(std::move(normalized_entries));
  impl->added = std::move(spec.added_tokens);

  if (!tokenizer_config.empty()) {
    AS_ASSIGN_OR_RETURN(impl->config, tok::parse_tokenizer_config(tokenizer_config, config_name));
  }
  auto lookup = [&](const std::optional<std::string>& text,
                    const char* what) -> std::optional<int32_t> {
    if (!text) return std::nullopt;
    const auto it = impl->by_content.find(*text);
    if (it != impl->by_content.end()) return it->second;
    AS_LOG_WARN("{}: {} '{}' is not a token of {}", config_name, what, *text, json_name);
    return std::nullopt;
  };
  impl->bos_id = lookup(impl->config.bos_token, "bos_token");
  impl->eos_id = lookup(impl->config.eos_token, "eos_token");
  impl->bos_text = impl->config.bos_token.value_or("");
  impl->eos_text = impl->config.eos_token.value_or("");
  if (impl->config.add_bos_token) {
    impl->add_bos = *impl->config.add_bos_token;
  } else {
    const auto& prefix = spec.post_processor_prefix_ids;
    impl->add_bos = impl->bos_id && !prefix.empty() && prefix.front() == *impl->bos_id;
  }
  for (const NamedChatTemplate& t : impl->config.chat_templates)
    if (t.name == "default") impl->default_template = t.source;
  return impl;
}

}  // namespace

// ---- loading ----

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_from_strings(std::string_view tokenizer_json,
                                                                std::string_view tokenizer_config,
                                                                const std::string& name) {
  AS_ASSIGN_OR_RETURN(auto impl, build_impl(tokenizer_json, tokenizer_config, name,
                                            name + " (tokenizer_config)"));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::string& tokenizer_json_path,
                                                   const std::string& tokenizer_config_path) {
  AS_ASSIGN_OR_RETURN(std::string json_text, read_file(tokenizer_json_path));
  std::string config_text;
  if (!tokenizer_config_path.empty()) {
    AS_ASSIGN_OR_RETURN(config_text, read_file(tokenizer_config_path));
    if (config_text.empty())
      return make_error(ErrorKind::kFormat,
                        tokenizer_config_path + ": expected a JSON object, found an empty file");
  }
  AS_ASSIGN_OR_RETURN(auto impl, build_impl(json_text, config_text, tokenizer_json_path,
                                            tokenizer_config_path));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec))
    return make_error(ErrorKind::kNotFound, dir + ": expected a model directory, found " +
                                                (fs::exists(root, ec) ? "a file" : "nothing"));
  const fs::path json_path = root / "tokenizer.json";
  if (!fs::exists(json_path, ec))
    return make_error(ErrorKind::kNotFound,
                      json_path.string() + ": not found (expected a Hugging Face tokenizer.json "
                                           "in the model directory)");
  const fs::path config_path = root / "tokenizer_config.json";
  AS_ASSIGN_OR_RETURN(auto tok, load(json_path.string(),
                                     fs::exists(config_path, ec) ? config_path.string() : ""));
  Impl& impl = *tok->impl_;
  // Newer transformers save templates beside the config instead of inside it.
  if (impl.config.chat_templates.empty()) {
    const fs::path jinja = root / "chat_template.jinja";
    if (fs::exists(jinja, ec)) {
      AS_ASSIGN_OR_RETURN(std::string source, read_file(jinja.string()));
      impl.config.chat_templates.push_back({"default", std::move(source)});
    }
    const fs::path extra = root / "additional_chat_templates";
    if (fs::is_directory(extra, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(extra, ec))
        if (entry.path().extension() == ".jinja") files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        AS_ASSIGN_OR_RETURN(std::string source, read_file(f.string()));
        impl.config.chat_templates.push_back({f.stem().string(), std::move(source)});
      }
    }
    for (const NamedChatTemplate& t : impl.config.chat_templates)
      if (t.name == "default") impl.default_template = t.source;
  }
  return tok;
}

// ---- encoding ----

void Tokenizer::Impl::encode_plain(std::string_view text, std::vector<int32_t>* out) const {
  pre_tokenizer->split(text, [&](std::string_view word) { bpe->encode_word(word, out); });
}

void Tokenizer::Impl::encode(std::string_view text, SpecialTokenMode mode,
                             const std::vector<ByteRange>* protected_ranges,
                             std::vector<int32_t>* out) const {
  std::string sanitized;
  std::vector<ByteRange> moved_ranges;
  if (!utf8_is_valid(text)) {
    if (protected_ranges != nullptr) {
      moved_ranges = *protected_ranges;
      sanitized = sanitize_with_ranges(text, &moved_ranges);
      protected_ranges = &moved_ranges;
    } else {
      sanitized = utf8_sanitize(text);
    }
    text = sanitized;
  }
  out->reserve(out->size() + text.size() / 3 + 8);
  auto push_token = [&](int32_t id) { out->push_back(id); };

  auto accept_raw = [&](const AddedTokenMatcher::Entry& e, size_t b,
                        size_t end) -> AddedTokenMatcher::Decision {
    if (!e.special) return {true, end};
    if (mode == SpecialTokenMode::kAsText) return {false, end};
    if (protected_ranges == nullptr) return {true, end};
    return protected_decision(*protected_ranges, b, end);
  };

  auto on_raw_text = [&](size_t run_begin, size_t run_end) {
    const std::string_view run = text.substr(run_begin, run_end - run_begin);
    std::string storage;
    const std::string_view norm = normalizer.normalize(run, &storage);
    if (normalized_matcher.empty()) {
      encode_plain(norm, out);
      return;
    }
    // Normalized tokens are matched in normalized text. With an identity normalizer offsets
    // still map 1:1 onto the input; otherwise a protected range anywhere in the run refuses
    // every special token found in it.
    auto accept_normalized = [&](const AddedTokenMatcher::Entry& e, size_t b,
                                 size_t end) -> AddedTokenMatcher::Decision {
      if (!e.special) return {true, end};
      if (mode == SpecialTokenMode::kAsText) return {false, end};
      if (protected_ranges == nullptr) return {true, end};
      if (normalizer.is_identity()) {
        const auto d = protected_decision(*protected_ranges, run_begin + b, run_begin + end);
        return {d.accept, d.resume - run_begin};
      }
      return {protected_decision(*protected_ranges, run_begin, run_end).accept, end};
    };
    normalized_matcher.split(
        norm, accept_normalized,
        [&](size_t b, size_t e) { encode_plain(norm.substr(b, e - b), out); }, push_token);
  };

  if (raw_matcher.empty()) {
    if (!text.empty()) on_raw_text(0, text.size());
    return;
  }
  raw_matcher.split(text, accept_raw, on_raw_text, push_token);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, SpecialTokenMode mode) const {
  std::vector<int32_t> ids;
  impl_->encode(text, mode, nullptr, &ids);
  return ids;
}

void Tokenizer::encode_append(std::string_view text, SpecialTokenMode mode,
                              std::vector<int32_t>* out) const {
  impl_->encode(text, mode, nullptr, out);
}

std::vector<int32_t> Tokenizer::encode_protected(
    std::string_view text, std::span<const ByteRange> protected_ranges) const {
  std::vector<int32_t> ids;
  encode_protected_append(text, protected_ranges, &ids);
  return ids;
}

void Tokenizer::encode_protected_append(std::string_view text,
                                        std::span<const ByteRange> protected_ranges,
                                        std::vector<int32_t>* out) const {
  const std::vector<ByteRange> ranges = normalize_ranges(protected_ranges, text.size());
  impl_->encode(text, SpecialTokenMode::kRecognize, ranges.empty() ? nullptr : &ranges, out);
}

// ---- decoding and vocabulary ----

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string out;
  decode_append(ids, skip_special_tokens, &out);
  return out;
}

void Tokenizer::decode_append(std::span<const int32_t> ids, bool skip_special_tokens,
                              std::string* out) const {
  for (int32_t id : ids) {
    if (id < 0 || id >= impl_->vocab_size) continue;
    if (skip_special_tokens && impl_->special[id]) continue;
    out->append(impl_->token_bytes[id]);
  }
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size) return kEmpty;
  return impl_->token_bytes[id];
}

int32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::optional<int32_t> Tokenizer::find_token(std::string_view content) const {
  const auto it = impl_->by_content.find(std::string(content));
  if (it == impl_->by_content.end()) return std::nullopt;
  return it->second;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < impl_->vocab_size && impl_->special[id] != 0;
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }
std::optional<int32_t> Tokenizer::bos_token_id() const { return impl_->bos_id; }
std::optional<int32_t> Tokenizer::eos_token_id() const { return impl_->eos_id; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_text; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_text; }
bool Tokenizer::add_bos_token() const { return impl_->add_bos; }
bool Tokenizer::clean_up_tokenization_spaces() const {
  return impl_->config.clean_up_tokenization_spaces;
}
const std::string& Tokenizer::chat_template() const { return impl_->default_template; }
const std::vector<NamedChatTemplate>& Tokenizer::chat_templates() const {
  return impl_->config.chat_templates;
}
const std::string* Tokenizer::chat_template_named(std::string_view name) const {
  for (const NamedChatTemplate& t : impl_->config.chat_templates)
    if (t.name == name) return &t.source;
  return nullptr;
}

}  // namespace agentserve
