#include "server/prompt_hygiene.h"

#include <gtest/gtest.h>

namespace agentserve::server {
namespace {

std::string normalized(std::string s, bool* changed = nullptr) {
  const bool c = normalize_attribution(&s);
  if (changed != nullptr) *changed = c;
  return s;
}

TEST(PromptHygiene, RewritesOnlyTheHashOfTheAttributionLine) {
  bool changed = false;
  EXPECT_EQ(normalized("x-anthropic-billing-header: cc_version=2.0.14.7a1; cc_entrypoint=cli; cch=9a8f7;", &changed),
            "x-anthropic-billing-header: cc_version=2.0.14.7a1; cc_entrypoint=cli; cch=00000;");
  EXPECT_TRUE(changed);
  // Any hash length, no trailing ';', and already normalized text (no change reported).
  EXPECT_EQ(normalized("x-anthropic-billing-header: cch=0123456789abcdef"), "x-anthropic-billing-header: cch=00000");
  EXPECT_EQ(normalized("x-anthropic-billing-header: cc_version=1; cch=00000;", &changed),
            "x-anthropic-billing-header: cc_version=1; cch=00000;");
  EXPECT_FALSE(changed);
}

TEST(PromptHygiene, OtherLinesAndOtherTextStayAsSent) {
  // A system message that joins the attribution line with the rest: only that line changes.
  EXPECT_EQ(normalized("x-anthropic-billing-header: cc_version=1; cch=abcde;\nYou are an agent. cch=keep;"),
            "x-anthropic-billing-header: cc_version=1; cch=00000;\nYou are an agent. cch=keep;");
  bool changed = true;
  EXPECT_EQ(normalized("You are an agent.\nx-anthropic-billing-header cch=abc;", &changed),
            "You are an agent.\nx-anthropic-billing-header cch=abc;");  // no colon: not the header
  EXPECT_FALSE(changed);
  EXPECT_EQ(normalized(" x-anthropic-billing-header: cch=abc;"), " x-anthropic-billing-header: cch=abc;");
  // A field that merely ends in "cch" is not the hash.
  EXPECT_EQ(normalized("x-anthropic-billing-header: xcch=abc; cch=def;"),
            "x-anthropic-billing-header: xcch=abc; cch=00000;");
  // The header on a later line is normalized too, and an empty text is fine.
  EXPECT_EQ(normalized("intro\nx-anthropic-billing-header: cch=1;\r\nrest"),
            "intro\nx-anthropic-billing-header: cch=00000;\r\nrest");
  EXPECT_EQ(normalized(""), "");
}

}  // namespace
}  // namespace agentserve::server
