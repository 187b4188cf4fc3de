#include "server/stop_matcher.h"

#include <gtest/gtest.h>

#include <random>

namespace agentserve::server {
namespace {

// Feeds `text` in the given chunk sizes; returns what was emitted (incl. the final flush) and the
// matched stop string.
std::pair<std::string, std::string> run(const std::vector<std::string>& stops, const std::string& text,
                                        const std::vector<size_t>& cuts) {
  StopMatcher m(stops);
  std::string out, emit, matched;
  size_t at = 0;
  for (size_t cut : cuts) {
    const size_t n = std::min(cut, text.size() - at);
    if (m.push(std::string_view(text).substr(at, n), &emit, &matched)) {
      out += emit;
      return {out, matched};
    }
    out += emit;
    at += n;
  }
  if (at < text.size()) {
    const bool stopped = m.push(std::string_view(text).substr(at), &emit, &matched);
    out += emit;
    if (stopped) return {out, matched};
  }
  out += m.flush();
  return {out, ""};
}

// The answer by definition: the text before the stop string that completes first (of two
// ending at one place, the longer), the rule a token stream can keep whatever the chunking.
std::pair<std::string, std::string> reference(const std::vector<std::string>& stops, const std::string& text) {
  size_t best = std::string::npos, best_end = std::string::npos;
  std::string matched;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    const size_t at = text.find(s);
    if (at == std::string::npos) continue;
    if (at + s.size() < best_end || (at + s.size() == best_end && at < best)) {
      best = at;
      best_end = at + s.size();
      matched = s;
    }
  }
  return best == std::string::npos ? std::make_pair(text, std::string()) : std::make_pair(text.substr(0, best), matched);
}

TEST(StopMatcher, MatchAcrossChunksNeverLeaks) {
  auto [out, matched] = run({"STOP"}, "hello STOP world", {7, 1, 1, 7});
  EXPECT_EQ(out, "hello ");
  EXPECT_EQ(matched, "STOP");
}

TEST(StopMatcher, HeldPrefixReleasedWhenItDiverges) {
  StopMatcher m({"</end>"});
  std::string emit, matched;
  EXPECT_FALSE(m.push("abc</e", &emit, &matched));
  EXPECT_EQ(emit, "abc");
  EXPECT_FALSE(m.push("x", &emit, &matched));
  EXPECT_EQ(emit, "</ex");
}

TEST(StopMatcher, NoStopsPassesThrough) {
  auto [out, matched] = run({}, "anything at all", {3, 3});
  EXPECT_EQ(out, "anything at all");
  EXPECT_EQ(matched, "");
}

TEST(StopMatcher, NeverSplitsUtf8) {
  StopMatcher m({"zz"});
  std::string emit, matched;
  // "é" = C3 A9: a chunk ending in C3 must hold it back.
  EXPECT_FALSE(m.push("a\xC3", &emit, &matched));
  EXPECT_EQ(emit, "a");
  EXPECT_FALSE(m.push("\xA9" "b", &emit, &matched));
  EXPECT_EQ(emit, "\xC3\xA9" "b");
}

TEST(StopMatcher, RandomizedAgainstReference) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab\n<>/";
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<std::string> stops;
    const int ns = static_cast<int>(rng() % 4);
    for (int i = 0; i < ns; ++i) {
      std::string s;
      const int len = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
      stops.push_back(s);
    }
    std::string text;
    const int len = static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) text += alphabet[rng() % alphabet.size()];
    std::vector<size_t> cuts;
    for (size_t at = 0; at < text.size();) {
      const size_t c = 1 + rng() % 5;
      cuts.push_back(c);
      at += c;
    }
    const auto got = run(stops, text, cuts);
    const auto want = reference(stops, text);
    ASSERT_EQ(got.first, want.first) << "text " << text << " iteration " << iter;
    ASSERT_EQ(got.second, want.second) << "text " << text << " iteration " << iter;
  }
}

}  // namespace
}  // namespace agentserve::server
