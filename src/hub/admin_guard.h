// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the admin listener checks before any admin endpoint runs, and the
// headers every admin answer carries. The listener is plain HTTP on the
// hub's machine, so a web page that the operator opens there can reach it:
//
// - DNS rebinding: a page of evil.example whose name is re-pointed at
//   127.0.0.1 is "same origin" for the browser and may read the answers.
//   Its requests carry "Host: evil.example:PORT": only hosts the hub knows
//   are accepted (localhost, an IP literal, the names given with
//   --admin-host). An IP literal cannot be rebound: a page whose origin is
//   the hub's address was served by the hub.
// - Cross-site requests: any page may POST to 127.0.0.1 (a "simple"
//   request, no preflight): a state-changing request (anything but GET and
//   HEAD) whose Origin is not the Host it was sent to, or whose body is not
//   declared application/json, is refused.
//
// And before it opens: an admin listener on an address other than loopback
// needs a token (or the operator's word that the network around it is
// trusted), and the token is compared in constant time.
//
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/server.h"

namespace carrefour::hub {

// The host names (without port) accepted in Host beside localhost and IP
// literals; compared case-insensitively.
struct AdminHosts {
  std::vector<std::string> names;
};

// OkStatus, or a not-authorized refusal saying what was wrong.
Status CheckAdminRequest(const net::Request& request, const AdminHosts& hosts);

// X-Content-Type-Options: nosniff, and Cache-Control: no-store unless the
// answer chose its own (the console's files, which hold no data, are
// revalidated by ETag): admin answers name people and must not stay in a
// browser's or a proxy's cache, nor be sniffed into another type.
void AddAdminHeaders(net::Response& response);

// Whether the admin listener may open on `listen` ("HOST:PORT", as
// --admin): always on a loopback address (127.0.0.0/8, ::1, localhost),
// elsewhere only with a token or `insecure` (--admin-insecure).
// invalid-request otherwise, saying what to do, or when `listen` is not an
// address.
Status CheckAdminExposure(const std::string& listen, bool has_token, bool insecure);

// Whether an Authorization header value is "Bearer <token>". Both sides
// are hashed first and the digests compared in constant time: neither the
// token's bytes nor its length can be found by timing the answers.
bool AdminTokenMatches(std::string_view header, const std::string& token);

}  // namespace carrefour::hub
