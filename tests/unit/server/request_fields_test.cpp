#include "server/request_fields.h"

#include <gtest/gtest.h>

namespace agentserve::server {
namespace {

using nlohmann::ordered_json;

ApiError error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const RequestError& e) {
    return e.error;
  }
  ADD_FAILURE() << "no RequestError thrown";
  return {};
}

TEST(RequestFields, ParseBodyRejectsBadInput) {
  EXPECT_NE(error_of([] { parse_body("{\"a\":"); }).message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([] { parse_body("[1]"); }).message.find("must be a JSON object, not an array"), std::string::npos);
  EXPECT_NE(error_of([] { parse_body("{\"a\":\"\xFF\"}"); }).message.find("UTF-8"), std::string::npos);
  EXPECT_NE(error_of([] { parse_body(""); }).message.find("empty"), std::string::npos);
  EXPECT_EQ(parse_body("{\"b\":1,\"a\":2}").begin().key(), "b");  // key order kept
}

TEST(RequestFields, TypedReadersNameTheField) {
  const ordered_json j = ordered_json::parse(R"({"t": "hot", "n": 2.5, "k": 3.0, "big": 99, "s": ["a", 1], "nul": null})");
  ApiError e = error_of([&] { opt_number(j, "t", 0, 2); });
  EXPECT_EQ(e.param, "t");
  EXPECT_EQ(e.message, "t must be a number, not a string");
  e = error_of([&] { opt_int(j, "n", 0, 10); });
  EXPECT_EQ(e.message, "n must be an integer, not 2.5");
  EXPECT_EQ(opt_int(j, "k", 0, 10), 3);  // 3.0 is an integer
  e = error_of([&] { opt_int(j, "big", 0, 20); });
  EXPECT_EQ(e.message, "big must be between 0 and 20, got 99");
  e = error_of([&] { opt_string_list(j, "s", 4); });
  EXPECT_EQ(e.message, "s[1] must be a string, not an integer");
  EXPECT_FALSE(opt_number(j, "nul", 0, 1).has_value());
  EXPECT_FALSE(opt_bool(j, "absent").has_value());
  e = error_of([&] { opt_string_list(ordered_json::parse(R"({"s":["a","b","c"]})"), "s", 2); });
  EXPECT_EQ(e.message, "s has 3 entries; at most 2 are allowed");
}

TEST(RequestFields, FitOutputClampsToTheRoomLeft) {
  EXPECT_FALSE(fit_output(100, 10, 100).has_value());
  EXPECT_FALSE(fit_output(150, 10, 100).has_value());
  auto b = fit_output(90, 64000, 100);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->max_tokens, 10);
  EXPECT_TRUE(b->clamped);
  b = fit_output(90, 5, 100);
  EXPECT_EQ(b->max_tokens, 5);
  EXPECT_FALSE(b->clamped);
  b = fit_output(90, std::nullopt, 100);
  EXPECT_EQ(b->max_tokens, 10);
  EXPECT_FALSE(b->clamped);
  b = fit_output(90, 0, 100);  // Anthropic cache prewarm
  EXPECT_EQ(b->max_tokens, 0);
}

}  // namespace
}  // namespace agentserve::server
