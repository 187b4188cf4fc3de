#include "server/prompt_divergence.h"

#include <fmt/core.h>

#include <algorithm>

namespace agentserve::server {

void PromptMap::add(std::string label, std::string_view text, bool in_order) {
  if (text.empty()) return;
  const size_t at = rendered_.find(text, cursor_);
  if (at == std::string::npos) return;
  Span span{at, at + text.size(), std::move(label)};
  auto pos = std::upper_bound(spans_.begin(), spans_.end(), at,
                              [](size_t b, const Span& s) { return b < s.begin; });
  spans_.insert(pos, std::move(span));
  if (in_order) cursor_ = at + text.size();
}

std::string PromptMap::describe(size_t offset) const {
  // The innermost span holding the byte (the latest-starting one), else the spans around it.
  const Span* holder = nullptr;
  const Span* after = nullptr;   // last span ending at or before offset
  const Span* before = nullptr;  // first span starting after offset
  for (const Span& s : spans_) {
    if (s.begin <= offset && offset < s.end) holder = &s;
    if (s.end <= offset) after = &s;
    if (s.begin > offset && before == nullptr) before = &s;
  }
  if (holder != nullptr) return fmt::format("{} at byte {} of it", holder->label, offset - holder->begin);
  const std::string after_label = after == nullptr ? std::string("the prompt's start") : after->label;
  const std::string before_label = before == nullptr ? std::string("the prompt's end") : before->label;
  return fmt::format("between {} and {} (template text or a block printed in its own format)",
                     after_label, before_label);
}

std::shared_ptr<PromptHistory::Entry> PromptHistory::match_and_add(std::span<const int32_t> prompt,
                                                                   int32_t* common_prefix) {
  auto entry = std::make_shared<Entry>();
  entry->tokens.assign(prompt.begin(), prompt.end());
  std::lock_guard<std::mutex> lock(mutex_);
  size_t best = 0;
  for (const auto& e : entries_) {
    const size_t n = std::min(e->tokens.size(), prompt.size());
    const size_t common = static_cast<size_t>(
        std::mismatch(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(n), e->tokens.begin()).first -
        prompt.begin());
    best = std::max(best, common);
  }
  *common_prefix = static_cast<int32_t>(best);
  entries_.push_back(entry);
  total_tokens_ += entry->tokens.size();
  while (entries_.size() > kMaxEntries || (total_tokens_ > kMaxTokens && entries_.size() > 1)) {
    total_tokens_ -= entries_.front()->tokens.size();
    entries_.pop_front();
  }
  return entry;
}

void PromptHistory::append_generated(const std::shared_ptr<Entry>& entry, std::span<const int32_t> tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  entry->tokens.insert(entry->tokens.end(), tokens.begin(), tokens.end());
  // Counted against the budget only while remembered; a forgotten entry's tokens are freed
  // with its last holder.
  if (std::find(entries_.begin(), entries_.end(), entry) != entries_.end()) total_tokens_ += tokens.size();
}

std::string describe_divergence(std::span<const int32_t> prompt, int32_t cached_tokens, int32_t page_size,
                                int32_t common_prefix, const Tokenizer& tokenizer, const PromptMap* map) {
  const auto n = static_cast<int32_t>(prompt.size());
  std::string out = fmt::format("prefix cache reused {} of {} prompt tokens", cached_tokens, n);
  if (common_prefix >= n) {
    // Reuse stops one token short of a fully cached prompt (its last token must be computed to
    // produce logits), at a page boundary.
    return out + "; the prompt equals an earlier one (nothing diverged)";
  }
  int32_t first_diff = common_prefix;
  const char* how = "exact";
  if (first_diff < cached_tokens || first_diff >= cached_tokens + std::max(page_size, 1)) {
    // The record disagrees with the cache (forgot the sequence, or the cache evicted it): the
    // first token not reused is where the cache's knowledge ends, to a page.
    first_diff = cached_tokens;
    how = "page-granular";
  }
  out += fmt::format("; first differing token {} ({})", first_diff, how);
  if (map == nullptr) return out;
  size_t offset = 0;
  for (int32_t i = 0; i < first_diff; ++i) offset += tokenizer.token_bytes(prompt[static_cast<size_t>(i)]).size();
  return out + fmt::format(", byte {} of the rendered prompt: {}", offset, map->describe(offset));
}

}  // namespace agentserve::server
