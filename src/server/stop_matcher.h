// Stop strings matched on generated text across token boundaries (the first to complete wins). Text that could still be the
// start of a stop string is held back; a matched stop string and everything after it are never
// emitted (OpenAI and Anthropic semantics).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace agentserve::server {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends `text`; *emit receives what can be released now. Returns true when a stop string
  // matched (then *matched names it; nothing after it will ever be released).
  bool push(std::string_view text, std::string* emit, std::string* matched);
  // The held-back tail, released at the end of generation.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  size_t longest_ = 0;
  bool stopped_ = false;
};

}  // namespace agentserve::server
