// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The one reader of the URLs that name a server: scheme://HOST[:PORT], with
// nothing else (no user name, path, query or fragment; a trailing '/' is
// harmless). The network definition's endpoints (https, port required) and
// the clients' targets (http or https, default port) both go through it, so
// a host or port that one accepts the other accepts too.
//
//   auto origin = ParseHttpOrigin("https://127.0.0.1:9101", {});
//   origin->host == "127.0.0.1", origin->port == 9101
//
// HOST is a DNS name, a dotted IPv4 address without leading zeros, or an
// IPv6 address in brackets. Errors are the reason in words, to follow the
// caller's "endpoint 'X' ".

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace carrefour {

struct HttpOrigin {
  bool tls = true;
  std::string host;        // IPv6 without its brackets, as resolvers want it
  uint16_t port = 0;
  std::string normalized;  // "https://host:port" (IPv6 in brackets), no trailing slash
};

struct HttpOriginRules {
  // http:// too (else: "must use https://", the hub calls connectors over
  // mutual TLS).
  bool plain_http = false;
  // Else an absent port is the scheme's (443, 80).
  bool port_required = true;
};

tl::expected<HttpOrigin, std::string> ParseHttpOrigin(std::string_view text,
                                                      const HttpOriginRules& rules);

}  // namespace carrefour
