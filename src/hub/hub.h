#pragma once

// `carrefour hub` (SPEC.md sections 2, 4, 5, 6): the mutual-TLS API that
// institutions call, the admin listener, and the wiring of the modules
// below (directory, store, audit, exchange). Start here.
//
//   auto hub = hub::Hub::Start(options);   // listening once this returns
//   (*hub)->Reload();                      // re-read the network definition
//   (*hub)->Stop();                        // drain and stop
//
// RunHub() is what the command line calls: it starts a Hub and serves until
// SIGTERM or SIGINT (SIGHUP reloads the definition).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace carrefour::hub {

struct HubOptions {
  std::filesystem::path network_file;
  std::filesystem::path data_dir;
  // Mutual-TLS API for institutions, and the plain-HTTP admin listener
  // ("" disables it). "HOST:PORT"; port 0 picks a free one.
  std::string listen = "127.0.0.1:8443";
  std::string admin = "127.0.0.1:8080";
  // Defaults: DATA/pki/hub.crt, DATA/pki/hub.key, DATA/pki/ca.crt.
  std::filesystem::path cert, key, ca;
  // Default "sqlite:DATA/hub.db".
  std::string store_url;
  // This process's audit chain; unique per hub process sharing a store.
  std::string node_id = "hub-1";
  // When set, the admin endpoints (all but /healthz and /readyz) require
  // "Authorization: Bearer <token>".
  std::string admin_token;
  // Host names (beside localhost and IP addresses) under which the admin
  // listener answers: requests naming another host are refused, as a DNS
  // rebinding page's would be (hub/admin_guard.h).
  std::vector<std::string> admin_hosts;
  int threads = 4;
  size_t max_body_bytes = 8 << 20;
  std::chrono::milliseconds provider_timeout{2000};
  size_t max_connections = 4096;
  // Mutations (SPEC.md section 4.3): deliveries and the identities of
  // mutations are kept this long at most (acknowledged ones go sooner); a
  // retention pass runs every purge_interval. Both at least one second.
  std::chrono::seconds retention = std::chrono::days(30);
  std::chrono::seconds purge_interval{60};
  // With PostgreSQL, how often waiting feed reads look for deliveries that
  // another hub process accepted (docs/mutations.md).
  std::chrono::milliseconds feed_poll_interval{250};
};

class Hub {
 public:
  // Loads the definition, opens the store, opens the audit chain and starts
  // both listeners. Errors name what failed (a file, an address, the store).
  static Result<std::unique_ptr<Hub>> Start(HubOptions options, const Clock& clock = SystemClock());
  ~Hub();  // Stop()

  // Re-reads the network definition; a broken one is refused (its
  // file:line errors returned) and the old one stays in force.
  Status Reload();
  // Stops accepting, lets requests in flight finish, flushes the audit log.
  void Stop();

  uint16_t api_port() const;
  uint16_t admin_port() const;

  class Impl;

 private:
  explicit Hub(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Starts a hub and serves until SIGTERM/SIGINT; SIGHUP reloads. Returns the
// process exit code (0 after a clean stop, 1 when it could not start).
int RunHub(HubOptions options);

}  // namespace carrefour::hub
