#include "server/json_text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

namespace agentserve::server {
namespace {

std::string reference(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonText, MatchesNlohmannOnEscapes) {
  for (const std::string& s : {std::string(""), std::string("plain"), std::string("q\"b\\s/"),
                              std::string("\b\f\n\r\t\x01\x1f\x7f"), std::string("é 日本 🎉"),
                              std::string("bad \xC3 utf8 \xFF"), std::string(1, '\0')}) {
    std::string got;
    append_json_string(&got, s);
    EXPECT_EQ(got, reference(s));
  }
}

TEST(JsonText, RandomBytesMatchNlohmann) {
  std::mt19937 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? rng() % 0x20 : rng() % 256);
    std::string got = "prefix";
    append_json_string(&got, s);
    ASSERT_EQ(got, "prefix" + reference(s)) << i;
  }
}

}  // namespace
}  // namespace agentserve::server
