// SPDX-License-Identifier: EUPL-1.2
#include "hub/admin_guard.h"

#include <gtest/gtest.h>

namespace carrefour::hub {
namespace {

net::Request Make(std::string method, std::vector<std::pair<std::string, std::string>> headers,
                  std::string body = "") {
  net::Request request;
  request.method = std::move(method);
  request.path = "/v1/admin/reload";
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

TEST(AdminGuard, AcceptsOnlyKnownHostsAndSameOriginJsonChanges) {
  const AdminHosts hosts{{"hub.internal"}};
  struct Case {
    std::string name;
    net::Request request;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"loopback address", Make("GET", {{"host", "127.0.0.1:8080"}}), true},
      {"IPv6 loopback", Make("GET", {{"host", "[::1]:8080"}}), true},
      {"localhost, any case", Make("GET", {{"host", "LocalHost:8080"}}), true},
      {"a configured name", Make("GET", {{"host", "hub.internal:8080"}}), true},
      {"no Host at all (not a browser)", Make("GET", {}), true},
      {"DNS rebinding: a foreign name", Make("GET", {{"host", "evil.example:8080"}}), false},
      {"a name that merely starts like a known one", Make("GET", {{"host", "localhost.evil.example"}}), false},
      {"malformed IPv6", Make("GET", {{"host", "[::1"}}), false},
      {"POST from its own page", Make("POST", {{"host", "127.0.0.1:8080"}, {"origin", "http://127.0.0.1:8080"}, {"content-type", "application/json"}}, "{}"), true},
      {"POST without body nor Origin (curl -X POST)", Make("POST", {{"host", "127.0.0.1:8080"}}), true},
      {"POST with charset", Make("POST", {{"host", "localhost:8080"}, {"content-type", "application/json; charset=utf-8"}}, "{}"), true},
      {"cross-site POST", Make("POST", {{"host", "127.0.0.1:8080"}, {"origin", "https://evil.example"}, {"content-type", "application/json"}}, "{}"), false},
      {"opaque origin", Make("POST", {{"host", "127.0.0.1:8080"}, {"origin", "null"}}), false},
      {"origin on another port", Make("POST", {{"host", "127.0.0.1:8080"}, {"origin", "http://127.0.0.1:9999"}}), false},
      {"text/plain body (a form)", Make("POST", {{"host", "127.0.0.1:8080"}, {"content-type", "text/plain"}}, "{}"), false},
      {"body without a content type", Make("POST", {{"host", "127.0.0.1:8080"}}, "{}"), false},
      {"form encoded", Make("POST", {{"host", "127.0.0.1:8080"}, {"content-type", "application/x-www-form-urlencoded"}}, "a=b"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status status = CheckAdminRequest(c.request, hosts);
    EXPECT_EQ(status.ok(), c.allowed) << status.ToString();
    if (!c.allowed) EXPECT_EQ(status.code(), StatusCode::kNotAuthorized);
  }
}

TEST(AdminGuard, EveryAnswerIsNotStoredNorSniffed) {
  auto header = [](const net::Response& response, const std::string& name) {
    std::vector<std::string> values;
    for (const auto& [key, value] : response.headers) {
      if (key == name) values.push_back(value);
    }
    return values;
  };
  net::Response data = net::Response::Json(200, "{}");
  AddAdminHeaders(data);
  EXPECT_EQ(header(data, "Cache-Control"), std::vector<std::string>{"no-store"});
  EXPECT_EQ(header(data, "X-Content-Type-Options"), std::vector<std::string>{"nosniff"});
  // A console file (no data) keeps its revalidation; nosniff only once.
  net::Response file = net::Response::Text(200, "x");
  file.headers = {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
  AddAdminHeaders(file);
  EXPECT_EQ(header(file, "Cache-Control"), std::vector<std::string>{"no-cache"});
  EXPECT_EQ(header(file, "X-Content-Type-Options"), std::vector<std::string>{"nosniff"});
}

}  // namespace
}  // namespace carrefour::hub
