#include "text/tokenizer/added_tokens.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "base/utf8.h"

namespace agentserve::tok {
namespace {

// The code point that ends text[0, end) (end > 0), and where it starts.
uint32_t last_code_point(std::string_view text, size_t end, size_t* start) {
  size_t b = end - 1;
  while (b > 0 && end - b < 4 && (static_cast<uint8_t>(text[b]) & 0xC0) == 0x80) --b;
  size_t pos = b;
  const uint32_t cp = utf8_decode_one(text, &pos);
  if (pos != end) {  // not a whole sequence: treat the last byte alone
    *start = end - 1;
    return 0xFFFD;
  }
  *start = b;
  return cp;
}

}  // namespace

bool is_unicode_whitespace(uint32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)); }

bool is_word_char(uint32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL))
    return true;
  switch (u_charType(c)) {
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_CONNECTOR_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

void AddedTokenMatcher::build(std::vector<Entry> entries) {
  entries_.clear();
  nodes_.assign(1, Node{});
  first_byte_.fill(false);
  for (Entry& e : entries) {
    if (e.text.empty()) continue;  // an empty token can never be matched
    entries_.push_back(std::move(e));
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    int32_t node = 0;
    for (char ch : entries_[i].text) {
      const auto byte = static_cast<uint8_t>(ch);
      int32_t next = child(node, byte);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& kids = nodes_[node].children;
        kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(byte, int32_t{0})),
                    {byte, next});
      }
      node = next;
    }
    // Two added tokens with the same text: the first one listed wins.
    if (nodes_[node].entry < 0) nodes_[node].entry = static_cast<int32_t>(i);
    first_byte_[static_cast<uint8_t>(entries_[i].text[0])] = true;
  }
  int count = 0;
  for (int b = 0; b < 256; ++b) {
    if (first_byte_[b]) {
      ++count;
      single_first_byte_ = b;
    }
  }
  if (count != 1) single_first_byte_ = -1;
}

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  for (const auto& [b, next] : nodes_[node].children) {
    if (b == byte) return next;
    if (b > byte) break;
  }
  return -1;
}

bool AddedTokenMatcher::next_match(std::string_view text, size_t pos, size_t* begin, size_t* end,
                                   const Entry** entry) const {
  if (entries_.empty()) return false;
  while (pos < text.size()) {
    if (single_first_byte_ >= 0) {
      const void* hit = std::memchr(text.data() + pos, single_first_byte_, text.size() - pos);
      if (hit == nullptr) return false;
      pos = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else {
      while (pos < text.size() && !first_byte_[static_cast<uint8_t>(text[pos])]) ++pos;
      if (pos == text.size()) return false;
    }
    int32_t node = 0;
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t j = pos; j < text.size(); ++j) {
      node = child(node, static_cast<uint8_t>(text[j]));
      if (node < 0) break;
      if (nodes_[node].entry >= 0) {
        best = nodes_[node].entry;
        best_end = j + 1;
      }
    }
    if (best >= 0) {
      *begin = pos;
      *end = best_end;
      *entry = &entries_[best];
      return true;
    }
    ++pos;
  }
  return false;
}

void AddedTokenMatcher::split(std::string_view text, AcceptFn accept,
                              FunctionRef<void(size_t, size_t)> on_text,
                              FunctionRef<void(int32_t)> on_token) const {
  size_t done = 0;  // text before this is emitted
  size_t pos = 0;   // where the next search starts
  size_t b = 0;
  size_t e = 0;
  const Entry* entry = nullptr;
  while (next_match(text, pos, &b, &e, &entry)) {
    pos = e;
    const Decision d = accept(*entry, b, e);
    if (!d.accept) {
      AS_CHECK_GT(d.resume, b);
      pos = d.resume;
      continue;
    }
    if (entry->single_word) {
      size_t cp_start = 0;
      const bool word_before = b > 0 && is_word_char(last_code_point(text, b, &cp_start));
      size_t after = e;
      const bool word_after = e < text.size() && is_word_char(utf8_decode_one(text, &after));
      if (word_before || word_after) continue;
    }
    if (entry->lstrip) {
      size_t start = b;
      while (start > done) {
        size_t cp_start = 0;
        if (!is_unicode_whitespace(last_code_point(text, start, &cp_start))) break;
        start = cp_start;
      }
      b = std::max(start, done);
    }
    if (entry->rstrip) {
      while (e < text.size()) {
        size_t next = e;
        if (!is_unicode_whitespace(utf8_decode_one(text, &next))) break;
        e = next;
      }
      pos = e;
    }
    if (b > done) on_text(done, b);
    on_token(entry->id);
    done = e;
  }
  if (done < text.size()) on_text(done, text.size());
}

}  // namespace agentserve::tok
