// Where a request's prompt first diverged from what the server has cached, logged at debug
// level (issue 5, item 4): the token index, and the message and block of the request it falls
// in, so that whoever sees a poor cache hit can tell which part of the prompt changed.
//
// The token index. The engine reports the reused tokens (Usage::cached_prompt_tokens), which
// are whole pages: the first differing token lies somewhere in the page after them. To name
// the exact token, the server keeps a bounded record of the token sequences it recently
// computed (PromptHistory: prompts, and the tokens generated after them, which the cache also
// holds) and takes the longest common prefix with any of them. The radix cache itself is not
// asked: it stores full pages only and is owned by the engine thread. When the record and the
// cache disagree (the record forgot a sequence the cache still holds, or the cache evicted one
// the record remembers), the cache is the truth and the page-granular index is logged.
//
// The message and block. Token index → byte offset in the rendered prompt (the sum of the
// preceding tokens' bytes, Tokenizer::token_bytes: byte-level BPE is lossless) → which block's
// text holds that byte. PromptMap finds each request block's text in the rendered prompt, in
// request order, each search starting where the previous block ended (templates print message
// text verbatim and in order). Blocks the template reformats (tool calls: arguments as JSON)
// or leaves out (old reasoning) are not found; a byte between found blocks is reported as
// lying between them (template framing, or such a block). This needs no change to the template
// engine and is exact for every block it finds.
//
// All of this runs only when debug logging is on.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer/tokenizer.h"

namespace agentserve::server {

class PromptMap {
 public:
  explicit PromptMap(std::string rendered) : rendered_(std::move(rendered)) {}

  // The block named `label` (e.g. "messages[2].content[0] (user text)") whose text, as the
  // template prints it, is `text`. Searched after the previous found block; empty or missing
  // text is skipped. `in_order` false: a block the chat layer may move (mid-conversation system
  // messages, folded near the tail where a template cannot render them in place) is searched
  // from the same point but does not move it, so the blocks after it are still found.
  void add(std::string label, std::string_view text, bool in_order = true);

  // Names the block holding byte `offset` of the rendered prompt, or the found blocks around it.
  std::string describe(size_t offset) const;

  const std::string& rendered() const { return rendered_; }

 private:
  struct Span {
    size_t begin = 0, end = 0;
    std::string label;
  };
  std::string rendered_;
  std::vector<Span> spans_;  // by begin
  size_t cursor_ = 0;
};

// Recently computed token sequences, for the exact first differing token. Thread-safe.
class PromptHistory {
 public:
  struct Entry {
    std::vector<int32_t> tokens;  // guarded by PromptHistory's mutex once added
  };

  // The longest common prefix of `prompt` with any remembered sequence, then remembers
  // `prompt` (the returned entry; append_generated extends it).
  std::shared_ptr<Entry> match_and_add(std::span<const int32_t> prompt, int32_t* common_prefix);
  void append_generated(const std::shared_ptr<Entry>& entry, std::span<const int32_t> tokens);

 private:
  static constexpr size_t kMaxEntries = 64;
  static constexpr size_t kMaxTokens = size_t{8} << 20;  // 32 MiB of token ids at most
  std::mutex mutex_;
  std::deque<std::shared_ptr<Entry>> entries_;  // oldest first
  size_t total_tokens_ = 0;
};

// The debug line for one finished request: reused tokens, the first differing token and where
// it falls. `common_prefix` is PromptHistory's answer at submission; `map` may be null (raw
// token prompts: /v1/completions).
std::string describe_divergence(std::span<const int32_t> prompt, int32_t cached_tokens,
                                int32_t page_size, int32_t common_prefix,
                                const Tokenizer& tokenizer, const PromptMap* map);

}  // namespace agentserve::server
