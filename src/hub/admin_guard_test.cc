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
    if (!c.allowed) {
      EXPECT_EQ(status.code(), StatusCode::kNotAuthorized);
    }
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

TEST(AdminGuard, OpensOffLoopbackOnlyWithATokenOrWhenToldTheNetworkIsTrusted) {
  struct Case {
    std::string listen;
    bool has_token, insecure, allowed;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1:8080", false, false, true},  {"127.5.6.7:0", false, false, true},
      {"[::1]:8080", false, false, true},      {"localhost:8080", false, false, true},
      {"0.0.0.0:8080", false, false, false},   {"10.0.0.5:8080", false, false, false},
      {"[::]:8080", false, false, false},      {"hub.internal:8080", false, false, false},
      {"0.0.0.0:8080", true, false, true},     {"0.0.0.0:8080", false, true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.listen + (c.has_token ? " with a token" : "") + (c.insecure ? " insecure" : ""));
    Status status = CheckAdminExposure(c.listen, c.has_token, c.insecure);
    EXPECT_EQ(status.ok(), c.allowed) << status.ToString();
    if (!c.allowed) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
      EXPECT_NE(status.message().find("--admin-token"), std::string::npos) << status.message();
    }
  }
  EXPECT_EQ(CheckAdminExposure("no port", true, true).code(), StatusCode::kInvalidRequest);
}

TEST(AdminGuard, TheTokenMatchesOnlyWhenTheHeaderIsExactlyBearerToken) {
  EXPECT_TRUE(AdminTokenMatches("Bearer s3cret", "s3cret"));
  for (std::string_view header : {"Bearer s3cre", "Bearer s3cret ", "bearer s3cret", "s3cret",
                                  "Bearer S3CRET", "", "Bearer s3cretX"}) {
    SCOPED_TRACE(header);
    EXPECT_FALSE(AdminTokenMatches(header, "s3cret"));
  }
}

}  // namespace
}  // namespace carrefour::hub
