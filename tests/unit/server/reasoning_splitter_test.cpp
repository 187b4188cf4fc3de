#include "server/reasoning_splitter.h"

#include <gtest/gtest.h>

#include <random>

namespace agentserve::server {
namespace {

struct Split {
  std::string reasoning, answer;
};

Split run(bool starts_in_reasoning, const std::string& text, const std::vector<size_t>& cuts, bool enabled = true) {
  ReasoningSplitter s(enabled, starts_in_reasoning);
  Split out;
  std::string r, a;
  size_t at = 0;
  for (size_t cut : cuts) {
    if (at >= text.size()) break;
    const size_t n = std::min(cut, text.size() - at);
    s.push(std::string_view(text).substr(at, n), &r, &a);
    out.reasoning += r;
    out.answer += a;
    at += n;
  }
  if (at < text.size()) {
    s.push(std::string_view(text).substr(at), &r, &a);
    out.reasoning += r;
    out.answer += a;
  }
  s.flush(&r, &a);
  out.reasoning += r;
  out.answer += a;
  return out;
}

TEST(ReasoningSplitter, ThinkBlockThenAnswer) {
  const Split s = run(false, "<think>\nLet me see.\n</think>\n\nThe answer.", {1});
  EXPECT_EQ(s.reasoning, "Let me see.");
  EXPECT_EQ(s.answer, "The answer.");
}

TEST(ReasoningSplitter, PromptOpenedThink) {
  const Split s = run(true, "plan\nmore</think>\n\nok", {3});
  EXPECT_EQ(s.reasoning, "plan\nmore");
  EXPECT_EQ(s.answer, "ok");
}

TEST(ReasoningSplitter, NoThinkIsAllAnswer) {
  const Split s = run(false, "just text <think> inside", {2});
  EXPECT_EQ(s.reasoning, "");
  EXPECT_EQ(s.answer, "just text <think> inside");
}

TEST(ReasoningSplitter, DisabledPassesEverything) {
  const Split s = run(false, "<think>x</think>y", {1}, /*enabled=*/false);
  EXPECT_EQ(s.reasoning, "");
  EXPECT_EQ(s.answer, "<think>x</think>y");
}

TEST(ReasoningSplitter, UnclosedThinkIsReasoningAtTheEnd) {
  const Split s = run(false, "<think>never closed </thi", {4});
  EXPECT_EQ(s.reasoning, "never closed </thi");
  EXPECT_EQ(s.answer, "");
}

// Any chunking gives the same split as feeding the whole text at once.
TEST(ReasoningSplitter, ChunkingInvariant) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {"<think>", "</think>", "\n", " ", "a", "b", "<", "/", "t", "\xC3\xA9"};
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    const bool opened = rng() % 2;
    const Split whole = run(opened, text, {text.size() + 1});
    std::vector<size_t> cuts;
    for (size_t at = 0; at < text.size();) {
      const size_t c = 1 + rng() % 4;
      cuts.push_back(c);
      at += c;
    }
    const Split chunked = run(opened, text, cuts);
    ASSERT_EQ(chunked.reasoning, whole.reasoning) << "text [" << text << "]";
    ASSERT_EQ(chunked.answer, whole.answer) << "text [" << text << "]";
  }
}

}  // namespace
}  // namespace agentserve::server
