// StreamingDetokenizer: token ids -> always-valid UTF-8 chunks for streamed responses.
#include "base/utf8.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(&tok), skip_special_tokens_(skip_special_tokens) {}

std::string StreamingDetokenizer::push(int32_t id) {
  if (skip_special_tokens_ && tok_->is_special(id)) return std::string();
  pending_ += tok_->token_bytes(id);
  const size_t hold = utf8_incomplete_tail(pending_);
  const std::string_view ready(pending_.data(), pending_.size() - hold);
  std::string out = utf8_sanitize(ready);
  pending_.erase(0, ready.size());
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = utf8_sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace agentserve
