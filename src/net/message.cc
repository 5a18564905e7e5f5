// SPDX-License-Identifier: EUPL-1.2
// The Beast-free parts of server.h and client.h: request accessors, response
// factories (the error body is api::ErrorBody), endpoint URLs.

#include <string>

#include "api/json.h"
#include "core/http_origin.h"
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
  tl::expected<HttpOrigin, std::string> origin =
      ParseHttpOrigin(url, {.plain_http = true, .port_required = false});
  if (!origin) return Error(InvalidRequest("endpoint '" + std::string(url) + "' " + origin.error()));
  Endpoint endpoint;
  endpoint.tls = origin->tls;
  endpoint.host = std::move(origin->host);
  endpoint.port = origin->port;
  endpoint.expected_cn = std::move(expected_cn);
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
