// SPDX-License-Identifier: EUPL-1.2
#include "core/http_origin.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace carrefour {
namespace {

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIpv4(std::string_view host) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view part = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    // No leading zeros: "010" reads as octal to some resolvers.
    if (!IsDigits(part) || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

bool IsDnsName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

}  // namespace

tl::expected<HttpOrigin, std::string> ParseHttpOrigin(std::string_view text,
                                                      const HttpOriginRules& rules) {
  HttpOrigin origin;
  std::string_view scheme;
  if (text.starts_with("https://")) {
    scheme = "https";
  } else if (rules.plain_http && text.starts_with("http://")) {
    scheme = "http";
    origin.tls = false;
  } else if (!rules.plain_http && StartsWithNoCase(text, "http://")) {
    return tl::unexpected(std::string("must use https:// (the hub calls connectors over mutual TLS)"));
  } else {
    return tl::unexpected(std::string(rules.plain_http ? "must be an https://HOST:PORT or http://HOST:PORT URL"
                                                       : "must be an https://HOST:PORT URL"));
  }
  const std::string form = fmt::format("({}://HOST:PORT)", scheme);

  std::string_view rest = text.substr(scheme.size() + 3);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return tl::unexpected(fmt::format("must not have a path, query or fragment {}", form));
  }
  if (rest.find('@') != std::string_view::npos) {
    return tl::unexpected(fmt::format("must not carry a user name {}", form));
  }

  std::string_view host_part;  // as written, brackets included
  std::string_view port_text;
  bool port_given = false;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return tl::unexpected(std::string("has an IPv6 address without its closing ']'"));
    }
    host_part = rest.substr(0, close + 1);
    origin.host = std::string(rest.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, origin.host.c_str(), &address) != 1) {
      return tl::unexpected(fmt::format("has an invalid IPv6 address '{}'", origin.host));
    }
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) {
      return tl::unexpected(fmt::format("has something after the IPv6 address other than :PORT {}", form));
    }
    port_given = !after.empty();
    if (port_given) port_text = after.substr(1);
  } else {
    size_t colon = rest.rfind(':');
    port_given = colon != std::string_view::npos;
    host_part = rest.substr(0, colon);
    if (port_given) port_text = rest.substr(colon + 1);
    if (host_part.find(':') != std::string_view::npos) {
      return tl::unexpected(fmt::format("must write an IPv6 address in brackets ({}://[::1]:PORT)", scheme));
    }
    if (host_part.empty()) return tl::unexpected(std::string("has no host"));
    bool numeric = std::all_of(host_part.begin(), host_part.end(),
                               [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
    if (numeric ? !IsIpv4(host_part) : !IsDnsName(host_part)) {
      return tl::unexpected(fmt::format("has an invalid host '{}' (a DNS name, an IPv4 address or "
                                        "an [IPv6] address)",
                                        host_part));
    }
    origin.host = std::string(host_part);
  }

  if (port_text.empty()) {
    // "host" and "host:" alike (RFC 3986: an empty port is the default).
    if (rules.port_required) return tl::unexpected(fmt::format("needs an explicit port {}", form));
    origin.port = origin.tls ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (!IsDigits(port_text) || ec != std::errc() || end != port_text.data() + port_text.size() ||
        value < 1 || value > 65535) {
      return tl::unexpected(fmt::format("has an invalid port '{}' (1-65535)", port_text));
    }
    origin.port = static_cast<uint16_t>(value);
  }
  origin.normalized = fmt::format("{}://{}:{}", scheme, host_part, origin.port);
  return origin;
}

}  // namespace carrefour
