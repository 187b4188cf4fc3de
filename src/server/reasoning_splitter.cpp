#include "server/reasoning_splitter.h"

#include <algorithm>

#include "base/utf8.h"

namespace agentserve::server {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the longest suffix of `s` that is a proper prefix of `tag`.
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  const size_t max = std::min(s.size(), tag.size() - 1);
  for (size_t len = max; len > 0; --len)
    if (tag.compare(0, len, s.substr(s.size() - len)) == 0) return len;
  return 0;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool enabled, bool starts_in_reasoning, std::string open,
                                     std::string close)
    : enabled_(enabled),
      open_(std::move(open)),
      close_(std::move(close)),
      state_(!enabled ? State::kAnswer
                      : starts_in_reasoning ? State::kReasoning : State::kStart) {}

void ReasoningSplitter::push(std::string_view text, std::string* reasoning, std::string* answer) {
  reasoning->clear();
  answer->clear();
  buf_.append(text);
  step(reasoning, answer, false);
}

void ReasoningSplitter::flush(std::string* reasoning, std::string* answer) {
  reasoning->clear();
  answer->clear();
  step(reasoning, answer, true);
}

void ReasoningSplitter::step(std::string* reasoning, std::string* answer, bool final) {
  while (true) {
    switch (state_) {
      case State::kStart: {
        // Leading whitespace, then either the open tag or the answer.
        size_t i = 0;
        while (i < buf_.size() && is_ws(buf_[i])) ++i;
        const std::string_view rest(buf_.data() + i, buf_.size() - i);
        if (rest.size() >= open_.size() && rest.compare(0, open_.size(), open_) == 0) {
          buf_.erase(0, i + open_.size());
          state_ = State::kReasoning;
          continue;
        }
        if (!final && open_.compare(0, rest.size(), rest) == 0) return;  // maybe the tag
        state_ = State::kAnswer;
        continue;
      }
      case State::kReasoning: {
        const size_t close_at = buf_.find(close_);
        std::string_view chunk(buf_);
        size_t consumed;
        if (close_at != std::string::npos) {
          chunk = chunk.substr(0, close_at);
          consumed = close_at + close_.size();
        } else {
          const size_t hold = final ? 0 : partial_tag_suffix(buf_, close_);
          chunk = chunk.substr(0, buf_.size() - hold);
          chunk = chunk.substr(0, chunk.size() - (final ? 0 : utf8_incomplete_tail(chunk)));
          consumed = chunk.size();
        }
        // Reasoning without its framing newlines: skip them before the first content, and hold
        // trailing ones until more reasoning follows.
        for (char c : chunk) {
          if (c == '\n' || c == '\r') {
            if (reasoning_started_) held_newlines_ += c;
            continue;
          }
          if (!held_newlines_.empty()) {
            reasoning->append(held_newlines_);
            held_newlines_.clear();
          }
          reasoning->push_back(c);
          reasoning_started_ = true;
        }
        buf_.erase(0, consumed);
        if (close_at == std::string::npos) return;
        held_newlines_.clear();
        state_ = State::kAfterReasoning;
        continue;
      }
      case State::kAfterReasoning: {
        size_t i = 0;
        while (i < buf_.size() && is_ws(buf_[i])) ++i;
        buf_.erase(0, i);
        if (buf_.empty() && !final) return;
        state_ = State::kAnswer;
        continue;
      }
      case State::kAnswer: {
        const size_t keep = final ? 0 : utf8_incomplete_tail(buf_);
        answer->append(buf_, 0, buf_.size() - keep);
        buf_.erase(0, buf_.size() - keep);
        return;
      }
    }
  }
}

}  // namespace agentserve::server
