// SPDX-License-Identifier: EUPL-1.2
#include "core/http_origin.h"

#include <gtest/gtest.h>

namespace carrefour {
namespace {

// The network definition's rules (https, port required) have their cases,
// with the loader's whole message, in network/loader_test.cc; these are the
// clients' rules.
TEST(HttpOrigin, ClientsMayUsePlainHttpAndTheSchemesPort) {
  const HttpOriginRules client{.plain_http = true, .port_required = false};
  struct Case {
    std::string_view text;
    bool tls;
    std::string_view host;
    uint16_t port;
    std::string_view normalized;
  };
  const Case cases[] = {
      {"https://127.0.0.1:9101", true, "127.0.0.1", 9101, "https://127.0.0.1:9101"},
      {"https://127.0.0.1:9101/", true, "127.0.0.1", 9101, "https://127.0.0.1:9101"},
      {"http://localhost:8080", false, "localhost", 8080, "http://localhost:8080"},
      {"http://localhost", false, "localhost", 80, "http://localhost:80"},
      {"http://localhost:", false, "localhost", 80, "http://localhost:80"},
      {"https://hub.example.org", true, "hub.example.org", 443, "https://hub.example.org:443"},
      {"https://[::1]:9101", true, "::1", 9101, "https://[::1]:9101"},
      {"https://[::1]", true, "::1", 443, "https://[::1]:443"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto origin = ParseHttpOrigin(c.text, client);
    ASSERT_TRUE(origin.has_value()) << origin.error();
    EXPECT_EQ(origin->tls, c.tls);
    EXPECT_EQ(origin->host, c.host);
    EXPECT_EQ(origin->port, c.port);
    EXPECT_EQ(origin->normalized, c.normalized);
  }
}

TEST(HttpOrigin, WhatNamesNoServerIsRefusedWithTheReason) {
  const HttpOriginRules client{.plain_http = true, .port_required = false};
  struct Case {
    std::string_view text;
    std::string_view reason;
  };
  const Case cases[] = {
      {"ftp://127.0.0.1:21", "must be an https://HOST:PORT or http://HOST:PORT URL"},
      {"127.0.0.1:9101", "must be an https://HOST:PORT or http://HOST:PORT URL"},
      {"http://127.0.0.1:9101/v1/provide", "must not have a path, query or fragment (http://HOST:PORT)"},
      {"https://127.0.0.1:9101#top", "must not have a path, query or fragment (https://HOST:PORT)"},
      {"https://user@127.0.0.1:9101", "must not carry a user name (https://HOST:PORT)"},
      {"https://127.0.0.1:0", "has an invalid port '0' (1-65535)"},
      {"https://127.0.0.1:70000", "has an invalid port '70000' (1-65535)"},
      {"https://127.0.0.1:99999999999999999999", "has an invalid port '99999999999999999999' (1-65535)"},
      {"https://127.0.0.1:port", "has an invalid port 'port' (1-65535)"},
      {"https://127.0.0.1:+80", "has an invalid port '+80' (1-65535)"},
      {"https://:9101", "has no host"},
      {"https://under_score:9101",
       "has an invalid host 'under_score' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"http://::1:80", "must write an IPv6 address in brackets (http://[::1]:PORT)"},
      {"https://[::1", "has an IPv6 address without its closing ']'"},
      {"https://[::1]x", "has something after the IPv6 address other than :PORT (https://HOST:PORT)"},
      {"https://[nope]:1", "has an invalid IPv6 address 'nope'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto origin = ParseHttpOrigin(c.text, client);
    ASSERT_FALSE(origin.has_value()) << origin->normalized;
    EXPECT_EQ(origin.error(), c.reason);
  }
  // The network's endpoints: https only, the port written.
  EXPECT_EQ(ParseHttpOrigin("http://127.0.0.1:9101", {}).error(),
            "must use https:// (the hub calls connectors over mutual TLS)");
  EXPECT_EQ(ParseHttpOrigin("https://127.0.0.1", {}).error(), "needs an explicit port (https://HOST:PORT)");
}

}  // namespace
}  // namespace carrefour
