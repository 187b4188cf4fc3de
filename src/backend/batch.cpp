#include "backend/batch.h"

#include <algorithm>
#include <cstddef>
#include <string>

namespace agentserve {

void Batch::clear() {
  token_ids.clear();
  positions.clear();
  token_sequence.clear();
  sequences.clear();
  page_table.clear();
  page_table_stride = 0;
  logit_rows.clear();
}

int32_t Batch::add_sequence(const int32_t* tokens, int32_t num_tokens, int32_t context_len,
                            const std::vector<int32_t>& pages, bool want_logits) {
  const int32_t seq = num_sequences();
  BatchSequence s;
  s.first_token = this->num_tokens();
  s.num_tokens = num_tokens;
  s.context_len = context_len;
  s.page_row = seq;
  sequences.push_back(s);
  for (int32_t i = 0; i < num_tokens; ++i) {
    token_ids.push_back(tokens[i]);
    positions.push_back(context_len - num_tokens + i);
    token_sequence.push_back(seq);
  }
  // Widen the table when this row needs more pages than earlier rows had.
  const int32_t needed = static_cast<int32_t>(pages.size());
  if (needed > page_table_stride) {
    std::vector<int32_t> wider(static_cast<size_t>(seq) * needed, -1);
    for (int32_t r = 0; r < seq; ++r)
      std::copy_n(page_table.begin() + static_cast<std::ptrdiff_t>(r) * page_table_stride,
                  page_table_stride, wider.begin() + static_cast<std::ptrdiff_t>(r) * needed);
    page_table = std::move(wider);
    page_table_stride = needed;
  }
  page_table.resize(static_cast<size_t>(seq + 1) * page_table_stride, -1);
  std::copy(pages.begin(), pages.end(),
            page_table.begin() + static_cast<std::ptrdiff_t>(seq) * page_table_stride);
  if (want_logits && num_tokens > 0) logit_rows.push_back(s.first_token + num_tokens - 1);
  return seq;
}

std::string Batch::validate(int32_t page_size, int32_t num_pages) const {
  const size_t n = token_ids.size();
  if (positions.size() != n || token_sequence.size() != n)
    return "token arrays differ in length";
  if (page_table_stride < 0 ||
      page_table.size() != static_cast<size_t>(page_table_stride) * sequences.size())
    return "page table size does not match sequences x stride";
  int32_t expected_first = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const BatchSequence& q = sequences[s];
    if (q.first_token != expected_first) return "sequence " + std::to_string(s) + " not contiguous";
    if (q.num_tokens < 1 || q.context_len < q.num_tokens)
      return "sequence " + std::to_string(s) + " has bad lengths";
    if (q.page_row < 0 || q.page_row >= static_cast<int32_t>(sequences.size()))
      return "sequence " + std::to_string(s) + " page_row out of range";
    const int32_t pages_needed = (q.context_len + page_size - 1) / page_size;
    if (pages_needed > page_table_stride) return "sequence " + std::to_string(s) + " lacks pages";
    for (int32_t p = 0; p < pages_needed; ++p) {
      int32_t id = page_table[static_cast<size_t>(q.page_row) * page_table_stride + p];
      if (id < 0 || id >= num_pages)
        return "sequence " + std::to_string(s) + " page " + std::to_string(p) + " is " +
               std::to_string(id);
    }
    for (int32_t i = 0; i < q.num_tokens; ++i) {
      const size_t t = static_cast<size_t>(q.first_token + i);
      if (token_sequence[t] != static_cast<int32_t>(s)) return "token_sequence mismatch";
      if (positions[t] != q.context_len - q.num_tokens + i) return "positions not contiguous";
    }
    expected_first += q.num_tokens;
  }
  if (static_cast<size_t>(expected_first) != n) return "sequences do not cover all tokens";
  for (int32_t row : logit_rows)
    if (row < 0 || static_cast<size_t>(row) >= n) return "logit row out of range";
  return {};
}

}  // namespace agentserve
