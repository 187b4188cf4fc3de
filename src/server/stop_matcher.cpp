#include "server/stop_matcher.h"

#include <algorithm>

#include "base/utf8.h"

namespace agentserve::server {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
  for (const std::string& s : stops_) longest_ = std::max(longest_, s.size());
}

bool StopMatcher::push(std::string_view text, std::string* emit, std::string* matched) {
  emit->clear();
  if (stopped_) return true;
  pending_.append(text);
  if (stops_.empty()) {
    emit->swap(pending_);
    return false;
  }
  // The stop string that completes first wins (of two ending at one place, the longer): on a
  // token stream that is the only rule that does not depend on how the text was chunked, since
  // a match cannot be taken back once a later-starting one has completed.
  size_t best = std::string::npos, best_end = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t at = pending_.find(s);
    if (at == std::string::npos) continue;
    const size_t end = at + s.size();
    if (end < best_end || (end == best_end && at < best)) {
      best = at;
      best_end = end;
      *matched = s;
    }
  }
  if (best != std::string::npos) {
    emit->assign(pending_, 0, best);
    pending_.clear();
    stopped_ = true;
    return true;
  }
  // Hold back the longest suffix that is a prefix of some stop string.
  size_t hold = 0;
  const size_t max_hold = std::min(pending_.size(), longest_ - 1);
  for (size_t len = max_hold; len > 0; --len) {
    const std::string_view tail(pending_.data() + pending_.size() - len, len);
    if (std::any_of(stops_.begin(), stops_.end(),
                    [&](const std::string& s) { return s.compare(0, len, tail) == 0; })) {
      hold = len;
      break;
    }
  }
  // Never split a UTF-8 character between what is released and what is held.
  size_t release = pending_.size() - hold;
  release -= utf8_incomplete_tail(std::string_view(pending_.data(), release));
  emit->assign(pending_, 0, release);
  pending_.erase(0, release);
  return false;
}

std::string StopMatcher::flush() {
  if (stopped_) return {};
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace agentserve::server
