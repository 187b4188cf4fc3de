#include "server/cors.h"

#include <gtest/gtest.h>

namespace agentserve::server {
namespace {

HttpRequest request(std::string method, Headers headers) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = "/v1/messages";
  r.headers = std::move(headers);
  return r;
}

std::string header(const Headers& h, std::string_view name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

TEST(Cors, OffByDefault) {
  CorsPolicy off;
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.allows("http://localhost:3000"));
  EXPECT_TRUE(off.response_headers(request("POST", {{"origin", "http://localhost:3000"}})).empty());
  // A preflight is then an ordinary OPTIONS request for the router (no such method: 405).
  EXPECT_FALSE(off.preflight(request("OPTIONS", {{"origin", "http://a"}, {"access-control-request-method", "POST"}})));
}

TEST(Cors, NamedOriginsOnlyAndTrailingSlashesIgnored) {
  CorsPolicy p({"http://localhost:3000/", "https://app.example"});
  EXPECT_TRUE(p.allows("http://localhost:3000"));
  EXPECT_TRUE(p.allows("https://app.example"));
  EXPECT_FALSE(p.allows("http://localhost:3001"));
  EXPECT_FALSE(p.allows("https://app.example.evil"));
  EXPECT_FALSE(p.allows(""));
  const Headers h = p.response_headers(request("POST", {{"origin", "https://app.example"}}));
  EXPECT_EQ(header(h, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(header(h, "Vary"), "Origin");
  EXPECT_EQ(header(h, "Access-Control-Expose-Headers"), "request-id");
  EXPECT_TRUE(p.response_headers(request("POST", {{"origin", "http://evil"}})).empty());
  EXPECT_TRUE(p.response_headers(request("POST", {})).empty());  // not a browser
}

TEST(Cors, AnyOriginWithStar) {
  CorsPolicy p({"*"});
  EXPECT_TRUE(p.allows("http://anything:1"));
  EXPECT_EQ(header(p.response_headers(request("GET", {{"origin", "http://x"}})), "Access-Control-Allow-Origin"),
            "http://x");
}

TEST(Cors, PreflightAllowsTheAskedHeadersOrRefuses) {
  CorsPolicy p({"http://localhost:3000"});
  auto ok = p.preflight(request("OPTIONS", {{"origin", "http://localhost:3000"},
                                            {"access-control-request-method", "POST"},
                                            {"access-control-request-headers", "content-type,x-api-key,anthropic-version"}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(header(ok->headers, "Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(header(ok->headers, "Access-Control-Allow-Headers"), "content-type,x-api-key,anthropic-version");
  EXPECT_NE(header(ok->headers, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_EQ(header(ok->headers, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(header(ok->headers, "Access-Control-Allow-Private-Network"), "");  // not asked
  // A public site's page reaching this machine (Chrome's Private Network Access) asks too.
  auto pna = p.preflight(request("OPTIONS", {{"origin", "http://localhost:3000"},
                                             {"access-control-request-method", "POST"},
                                             {"access-control-request-private-network", "true"}}));
  ASSERT_TRUE(pna);
  EXPECT_EQ(header(pna->headers, "Access-Control-Allow-Private-Network"), "true");
  auto refused = p.preflight(request("OPTIONS", {{"origin", "http://evil"}, {"access-control-request-method", "POST"}}));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_TRUE(refused->headers.empty());
  // OPTIONS without the preflight header, or another method: not a preflight.
  EXPECT_FALSE(p.preflight(request("OPTIONS", {{"origin", "http://localhost:3000"}})));
  EXPECT_FALSE(p.preflight(request("POST", {{"origin", "http://localhost:3000"}, {"access-control-request-method", "POST"}})));
}

}  // namespace
}  // namespace agentserve::server
