// SPDX-License-Identifier: EUPL-1.2
#include "hub/admin_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/bounded_text.h"
#include "core/crypto.h"
#include "net/loopback.h"
#include "net/server.h"

namespace carrefour::hub {
namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The host part of a Host header value ("name:8080", "[::1]:8080", "name"),
// or nullopt when it is malformed.
std::optional<std::string_view> HostPart(std::string_view host) {
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    return host.substr(0, close + 1);
  }
  size_t colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool IsIpLiteral(std::string_view host) {
  std::string text(host);
  unsigned char address[16];
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    return inet_pton(AF_INET6, text.substr(1, text.size() - 2).c_str(), address) == 1;
  }
  return inet_pton(AF_INET, text.c_str(), address) == 1;
}

bool KnownHost(std::string_view host, const AdminHosts& hosts) {
  std::optional<std::string_view> name = HostPart(host);
  if (!name || name->empty()) return false;
  if (EqualsIgnoringCase(*name, "localhost") || IsIpLiteral(*name)) return true;
  return std::any_of(hosts.names.begin(), hosts.names.end(),
                     [&](const std::string& known) { return EqualsIgnoringCase(*name, known); });
}

// "application/json", with or without parameters ("; charset=utf-8").
bool IsJson(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return EqualsIgnoringCase(type, "application/json");
}

}  // namespace

Status CheckAdminRequest(const net::Request& request, const AdminHosts& hosts) {
  std::optional<std::string_view> host = request.Header("host");
  // Browsers always send Host; a client that sends none is not a web page.
  if (host && !KnownHost(*host, hosts)) {
    return NotAuthorized(fmt::format(
        "the admin listener does not answer to host '{}' (localhost, IP addresses and the "
        "names given with --admin-host)",
        BoundedText(*host, 256)));
  }
  if (request.method == "GET" || request.method == "HEAD") return OkStatus();
  if (std::optional<std::string_view> origin = request.Header("origin")) {
    // Same origin: "http://" followed by exactly the Host the request was sent to.
    const bool same = host && origin->starts_with("http://") &&
                      EqualsIgnoringCase(origin->substr(7), *host);
    if (!same) {
      return NotAuthorized(fmt::format(
          "a {} to the admin listener from origin '{}' is refused: only its own pages may "
          "change anything",
          request.method, BoundedText(*origin, 256)));
    }
  }
  std::optional<std::string_view> content_type = request.Header("content-type");
  if ((content_type || !request.body.empty()) && !(content_type && IsJson(*content_type))) {
    return NotAuthorized(fmt::format(
        "a {} to the admin listener must declare its body as application/json, not '{}'",
        request.method, BoundedText(content_type.value_or(""), 256)));
  }
  return OkStatus();
}

void AddAdminHeaders(net::Response& response) {
  bool has_cache_control = false;
  std::erase_if(response.headers, [&](const auto& header) {
    has_cache_control = has_cache_control || EqualsIgnoringCase(header.first, "cache-control");
    return EqualsIgnoringCase(header.first, "x-content-type-options");
  });
  if (!has_cache_control) response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

Status CheckAdminExposure(const std::string& listen, bool has_token, bool insecure) {
  CARREFOUR_ASSIGN_OR_RETURN(auto admin, net::ParseListenAddress(listen, "--admin"));
  if (net::IsLoopbackHost(admin.first) || has_token || insecure) return OkStatus();
  return InvalidRequest(fmt::format(
      "refusing to open the admin listener on {} without a token: it serves the audit "
      "trail and the directory. Set --admin-token (or CARREFOUR_ADMIN_TOKEN), listen on a "
      "loopback address, or pass --admin-insecure if the network around it is trusted",
      listen));
}

bool AdminTokenMatches(std::string_view header, const std::string& token) {
  const std::string expected = "Bearer " + token;
  // Digests of equal size: the comparison's time says nothing of the token's length.
  return crypto::ConstantTimeEquals(crypto::Sha256Of(header), crypto::Sha256Of(expected));
}

}  // namespace carrefour::hub
