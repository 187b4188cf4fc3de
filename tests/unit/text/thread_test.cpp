// encode/decode from many threads at once give the single-threaded results (the pre-token
// cache is shared and lock-free).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "text/tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace agentserve {
namespace {

TEST(Threads, ConcurrentEncodeMatchesSequential) {
  const Tokenizer& tok = testing::qwen3();
  const auto all = testing::corpus();
  const std::vector<std::string> texts(all.begin(), all.begin() + 3000);
  std::vector<std::vector<int32_t>> expected;
  for (const auto& t : texts) expected.push_back(tok.encode(t));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 2; ++rep) {
        for (size_t i = static_cast<size_t>(t); i < texts.size(); i += 2) {
          if (tok.encode(texts[i]) != expected[i]) ++failures;
          if (tok.decode(expected[i]) != tok.decode(tok.encode(texts[i]))) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace agentserve
