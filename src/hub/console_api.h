// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the admin listener serves for the web console (docs/console.md): its
// static files (console/console.h) and the JSON endpoints its pages read
// beyond docs/api.md section 6 —
//
//   GET /v1/admin/stats?seconds=N     per-second counts and latency (LiveStats)
//   GET /v1/admin/flows               who exchanged how much with whom
//   GET /v1/admin/authorizations      the authorization matrix, resolved
//   GET /v1/admin/queues              mutation feeds: backlog, oldest, last read
//   GET /v1/admin/person?niss=n       references, mutations, pending deliveries
//
// The hub asks Static() before its token check (the files hold no data) and
// Handle() after it. Both only read; thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "audit/record.h"
#include "core/clock.h"
#include "directory/decision.h"
#include "directory/engine_source.h"
#include "hub/live_stats.h"
#include "net/server.h"

namespace carrefour::store {
class Store;
}

namespace carrefour::hub {

class ConsoleApi {
 public:
  using EngineSource = directory::EngineSource;

  // Every reference must outlive the ConsoleApi.
  ConsoleApi(EngineSource engine, store::Store& store, const LiveStats& stats, const Clock& clock)
      : engine_(std::move(engine)), store_(store), stats_(stats), clock_(clock) {}

  // A GET of "/", "/console/" or "/console/<file>": the console's file with
  // its content type, ETag and Cache-Control (304 when If-None-Match
  // matches). nullopt for any other request.
  std::optional<net::Response> Static(const net::Request& request) const;

  // The answer when `request.path` is one of the endpoints above; nullopt
  // otherwise. Errors use docs/api.md's shape: invalid-request (a method other
  // than GET, a bad parameter), invalid-niss, unavailable (the store).
  std::optional<net::Response> Handle(const net::Request& request) const;

 private:
  net::Response Stats(const net::Request& request) const;
  net::Response Flows() const;
  net::Response Authorizations() const;
  net::Response Queues() const;
  net::Response Person(const net::Request& request) const;

  EngineSource engine_;
  store::Store& store_;
  const LiveStats& stats_;
  const Clock& clock_;
};

// "consultation", "feed-read"... (audit::KindName) back to the kind.
std::optional<audit::Kind> KindFromName(std::string_view name);

}  // namespace carrefour::hub
