// Tokenizer: the encode pipeline (added tokens -> normalizer -> normalized added tokens ->
// pre-tokenizer -> BPE), protected ranges, decoding and vocabulary queries.
#include "text/tokenizer/tokenizer.h"

#include <algorithm>

#include "base/check.h"
#include "base/utf8.h"
#include "text/tokenizer/tokenizer_impl.h"

namespace agentserve {

using tok::AddedTokenMatcher;

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

}  // namespace

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

  auto encode_run = [&](size_t run_begin, size_t run_end) {
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

  // A run's ids depend only on its bytes and the mode, unless a protected range reaches into
  // it (special-token text from a client, rare): then it is encoded without the cache.
  auto on_raw_text = [&](size_t run_begin, size_t run_end) {
    const std::string_view run = text.substr(run_begin, run_end - run_begin);
    bool cacheable = run.size() >= tok::RunCache::kMinRunBytes;
    if (cacheable && protected_ranges != nullptr) {
      for (const ByteRange& r : *protected_ranges)
        if (r.first <= run_end && r.second >= run_begin) cacheable = false;
    }
    const int mode_key = static_cast<int>(mode);
    if (cacheable && run_cache->lookup(run, mode_key, out)) return;
    const size_t before = out->size();
    encode_run(run_begin, run_end);
    if (cacheable) run_cache->insert(run, mode_key, out->data() + before, out->size() - before);
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

void Tokenizer::set_run_cache_budget(size_t bytes) const { impl_->run_cache->set_budget(bytes); }

std::vector<ByteRange> Tokenizer::special_token_spans(std::string_view text) const {
  std::vector<ByteRange> spans;
  for (const tok::AddedTokenMatcher* matcher : {&impl_->raw_matcher, &impl_->normalized_matcher}) {
    if (matcher->empty()) continue;
    size_t pos = 0, begin = 0, end = 0;
    const tok::AddedTokenMatcher::Entry* entry = nullptr;
    while (pos < text.size() && matcher->next_match(text, pos, &begin, &end, &entry)) {
      if (entry->special) {
        spans.push_back({begin, end});
        pos = end;
      } else {
        pos = begin + 1;
      }
    }
  }
  std::sort(spans.begin(), spans.end());
  return spans;
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
