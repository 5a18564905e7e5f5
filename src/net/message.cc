// SPDX-License-Identifier: EUPL-1.2
// The Beast-free parts of server.h and client.h: request accessors, response
// factories (the error body is api::ErrorBody), endpoint URLs.

#include <charconv>
#include <string>

#include "api/json.h"
#include "net/client.h"
#include "net/server.h"

namespace carrefour::net {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Response Response::Text(int status, std::string body) {
  Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

Response ErrorResponse(const Status& status) {
  return Response::Json(HttpStatus(status.code()), api::ErrorBody(status));
}

Result<Endpoint> Endpoint::Parse(std::string_view url, std::string expected_cn) {
  Endpoint endpoint;
  endpoint.expected_cn = std::move(expected_cn);
  std::string_view rest;
  if (url.starts_with("https://")) {
    endpoint.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    endpoint.tls = false;
    rest = url.substr(7);
  } else {
    return Error(InvalidRequest("endpoint '" + std::string(url) +
                                "' must start with https:// or http://"));
  }
  // A trailing '/' is harmless; any other path would be silently ignored by
  // callers that append their own target, so it is refused.
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return Error(InvalidRequest("endpoint '" + std::string(url) + "' must not contain a path"));
  }
  std::string_view host;
  std::string_view port_text;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Error(InvalidRequest("endpoint '" + std::string(url) + "': unterminated IPv6 address"));
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Error(InvalidRequest("endpoint '" + std::string(url) + "': junk after the address"));
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (host.empty()) return Error(InvalidRequest("endpoint '" + std::string(url) + "' has no host"));
  endpoint.host = std::string(host);
  if (port_text.empty()) {
    endpoint.port = endpoint.tls ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return Error(InvalidRequest("endpoint '" + std::string(url) + "': bad port '" +
                                  std::string(port_text) + "'"));
    }
    endpoint.port = static_cast<uint16_t>(value);
  }
  return endpoint;
}

std::string Endpoint::ToString() const {
  std::string out = tls ? "https://" : "http://";
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  out += ":" + std::to_string(port);
  return out;
}

}  // namespace carrefour::net
