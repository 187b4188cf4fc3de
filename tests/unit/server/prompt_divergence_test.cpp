#include "server/prompt_divergence.h"

#include <gtest/gtest.h>

namespace agentserve::server {
namespace {

TEST(PromptMap, NamesTheBlockHoldingAByteOrTheBlocksAroundIt) {
  // "be brief" at 11, "hello" at 26 and 51.
  PromptMap map("<s>system: be brief</s><u>hello</u><a>[call]</a><u>hello again</u>");
  map.add("system", "be brief");
  map.add("messages[0]", "hello");
  map.add("messages[1] (tool call)", "not printed verbatim");  // not found: skipped
  map.add("messages[2]", "hello");  // found after messages[0], not at it again
  EXPECT_EQ(map.describe(13), "system at byte 2 of it");
  EXPECT_EQ(map.describe(26), "messages[0] at byte 0 of it");
  EXPECT_EQ(map.describe(51), "messages[2] at byte 0 of it");
  EXPECT_EQ(map.describe(40), "between messages[0] and messages[2] (template text or a block printed in its own format)");
  EXPECT_EQ(map.describe(0), "between the prompt's start and system (template text or a block printed in its own format)");
  EXPECT_EQ(map.describe(70), "between messages[2] and the prompt's end (template text or a block printed in its own format)");
}

TEST(PromptMap, OutOfOrderBlocksDoNotHideTheOnesAfterThem) {
  // The chat layer folded a mid-conversation system message to the end.
  PromptMap map("<u>first</u><u>second</u><s>reminder</s>");
  map.add("messages[0]", "first");
  map.add("messages[1] (system)", "reminder", /*in_order=*/false);
  map.add("messages[2]", "second");
  EXPECT_EQ(map.describe(15), "messages[2] at byte 0 of it");
  EXPECT_EQ(map.describe(31), "messages[1] (system) at byte 3 of it");
}

TEST(PromptHistory, LongestCommonPrefixWithAnyRememberedSequence) {
  PromptHistory h;
  int32_t common = -1;
  const std::vector<int32_t> a = {1, 2, 3, 4, 5};
  auto ea = h.match_and_add(a, &common);
  EXPECT_EQ(common, 0);
  // Generated tokens count: the cache holds them too.
  const std::vector<int32_t> gen = {6, 7};
  h.append_generated(ea, gen);
  const std::vector<int32_t> b = {1, 2, 3, 4, 5, 6, 9};
  h.match_and_add(b, &common);
  EXPECT_EQ(common, 6);
  const std::vector<int32_t> c = {1, 2, 8};
  h.match_and_add(c, &common);
  EXPECT_EQ(common, 2);
  h.match_and_add(c, &common);
  EXPECT_EQ(common, 3);
}

}  // namespace
}  // namespace agentserve::server
