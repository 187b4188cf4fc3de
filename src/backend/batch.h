// One engine step: a mixed batch of prefill chunks and decode tokens over paged KV.
// The scheduler fills it; a backend reads it as-is (a CUDA kernel reads these arrays without
// translation). Prefill of one prompt and decode of fifty sequences are the same call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace agentserve {

struct BatchSequence {
  int32_t first_token = 0;  // index of this sequence's first token in Batch::token_ids
  int32_t num_tokens = 0;   // tokens of this sequence in this step (a prefill chunk, or 1)
  int32_t context_len = 0;  // tokens in its KV after this step; its tokens sit at positions
                            // [context_len - num_tokens, context_len)
  int32_t page_row = 0;     // row of Batch::page_table that maps its positions to pages
};

struct Batch {
  std::vector<int32_t> token_ids;        // [num_tokens] all sequences' tokens, concatenated
  std::vector<int32_t> positions;        // [num_tokens] absolute position within its sequence
  std::vector<int32_t> token_sequence;   // [num_tokens] index into `sequences`
  std::vector<BatchSequence> sequences;  // [num_sequences]
  // [num_rows, page_table_stride] row-major page ids; position p of a row lives in page
  // page_table[row * stride + p / page_size] at slot p % page_size. Unused entries are -1.
  std::vector<int32_t> page_table;
  int32_t page_table_stride = 0;
  // Token indices whose logits forward() returns, in this order (the last token of each
  // prefill chunk that finishes a prompt, and every decode token).
  std::vector<int32_t> logit_rows;

  int32_t num_tokens() const { return static_cast<int32_t>(token_ids.size()); }
  int32_t num_sequences() const { return static_cast<int32_t>(sequences.size()); }

  void clear();
  // Appends one sequence's tokens; `pages` is its page-table row (copied, padded with -1).
  // Returns the index of the new sequence.
  int32_t add_sequence(const int32_t* tokens, int32_t num_tokens, int32_t context_len,
                       const std::vector<int32_t>& pages, bool want_logits);

  // Checks the invariants above; returns an empty string when all hold, else what is wrong.
  std::string validate(int32_t page_size, int32_t num_pages) const;
};

}  // namespace agentserve
