// SPDX-License-Identifier: EUPL-1.2
#include "net/internal/text.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "net/server.h"

#include <gtest/gtest.h>

namespace carrefour::net::internal {
namespace {

TEST(PercentDecode, DecodesAndRefusesBadEscapes) {
  struct Case {
    std::string in;
    bool plus_is_space;
    std::optional<std::string> out;
  };
  const Case cases[] = {
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"a%2Fb%2f", false, "a/b/"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%41%62", true, "Ab"},
      {"%", false, std::nullopt},
      {"%4", false, std::nullopt},
      {"ab%", false, std::nullopt},
      {"%zz", false, std::nullopt},
      {"%4g", false, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(PercentDecode(c.in, c.plus_is_space), c.out);
  }
}

TEST(ParseTarget, SplitsPathAndQuery) {
  using Query = std::vector<std::pair<std::string, std::string>>;
  struct Case {
    std::string target;
    bool ok;
    std::string path;
    Query query;
  };
  const Case cases[] = {
      {"/", true, "/", {}},
      {"/v1/mutations/feed?after=0&limit=10&wait=30", true, "/v1/mutations/feed",
       {{"after", "0"}, {"limit", "10"}, {"wait", "30"}}},
      {"/a%20b?x=1+2&&y&=z", true, "/a b", {{"x", "1 2"}, {"y", ""}, {"", "z"}}},
      {"/a?x=1#frag", true, "/a", {{"x", "1"}}},
      {"/a?niss=85.07.30-033.28", true, "/a", {{"niss", "85.07.30-033.28"}}},
      {"/a?x=%", false, "", {}},
      {"/a%g0", false, "", {}},
      {"*", false, "", {}},
      {"http://host/a", false, "", {}},
      {"", false, "", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    std::string path;
    Query query;
    Status status = ParseTarget(c.target, &path, &query);
    EXPECT_EQ(status.ok(), c.ok) << status.ToString();
    if (!c.ok) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
      continue;
    }
    EXPECT_EQ(path, c.path);
    EXPECT_EQ(query, c.query);
  }
}

}  // namespace
}  // namespace carrefour::net::internal

namespace carrefour::net {
namespace {

TEST(ParseListenAddress, TakesHostAndPortAndNamesWhatIsWrong) {
  struct Case {
    std::string in;
    std::optional<std::pair<std::string, uint16_t>> out;
    std::string error;  // a part of the message when refused
  };
  const Case cases[] = {
      {"127.0.0.1:8443", std::make_pair(std::string("127.0.0.1"), uint16_t{8443}), ""},
      {"0.0.0.0:0", std::make_pair(std::string("0.0.0.0"), uint16_t{0}), ""},
      {"[::1]:80", std::make_pair(std::string("::1"), uint16_t{80}), ""},
      {"[::]:65535", std::make_pair(std::string("::"), uint16_t{65535}), ""},
      {":80", std::nullopt, "is not HOST:PORT"},
      {"127.0.0.1", std::nullopt, "is not HOST:PORT"},
      {"", std::nullopt, "is not HOST:PORT"},
      {"host:", std::nullopt, "has a bad port"},
      {"host:65536", std::nullopt, "has a bad port"},
      {"host:99999999999999999999", std::nullopt, "has a bad port"},
      {"host:-1", std::nullopt, "has a bad port"},
      {"host:8o", std::nullopt, "has a bad port"},
      {"[::1]", std::nullopt, "has a bad port"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    Result<std::pair<std::string, uint16_t>> parsed = ParseListenAddress(c.in, "--listen");
    ASSERT_EQ(parsed.has_value(), c.out.has_value()) << (parsed ? parsed->first : parsed.error().ToString());
    if (c.out) {
      EXPECT_EQ(*parsed, *c.out);
    } else {
      EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidRequest);
      EXPECT_NE(parsed.error().message().find("--listen '" + c.in + "'"), std::string::npos) << parsed.error().message();
      EXPECT_NE(parsed.error().message().find(c.error), std::string::npos) << parsed.error().message();
    }
  }
}

}  // namespace
}  // namespace carrefour::net
