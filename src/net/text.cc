// SPDX-License-Identifier: EUPL-1.2
#include "net/internal/text.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include "net/loopback.h"
#include "net/server.h"

namespace carrefour::net::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status ParseTarget(std::string_view target, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query) {
  // Only origin-form ("/path?query") reaches an API server; absolute-form and
  // "*" are for proxies and OPTIONS, which nothing here serves.
  if (target.empty() || target.front() != '/') {
    return InvalidRequest("request target must start with '/'");
  }
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  std::optional<std::string> decoded_path = PercentDecode(raw_path, /*plus_is_space=*/false);
  if (!decoded_path) return InvalidRequest("malformed percent-escape in the request path");
  *path = std::move(*decoded_path);
  query->clear();
  if (question == std::string_view::npos) return OkStatus();
  std::string_view rest = target.substr(question + 1);
  // A fragment is never sent by a conforming client; drop it if one is.
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::optional<std::string> name = PercentDecode(raw_name, /*plus_is_space=*/true);
    std::optional<std::string> value = PercentDecode(raw_value, /*plus_is_space=*/true);
    if (!name || !value) return InvalidRequest("malformed percent-escape in the query string");
    query->emplace_back(std::move(*name), std::move(*value));
  }
  return OkStatus();
}

}  // namespace carrefour::net::internal

namespace carrefour::net {

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view address,
                                                            std::string_view what) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return tl::unexpected(InvalidRequest(fmt::format("{} '{}' is not HOST:PORT", what, address)));
  }
  std::string host(address.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return tl::unexpected(InvalidRequest(fmt::format("{} '{}' has a bad port", what, address)));
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535 || colon + 1 == address.size()) {
    return tl::unexpected(InvalidRequest(fmt::format("{} '{}' has a bad port", what, address)));
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace carrefour::net
