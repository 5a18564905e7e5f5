// SPDX-License-Identifier: EUPL-1.2
#pragma once

// `carrefour hub` (docs/api.md sections 2, 4, 5, 6): the mutual-TLS API that
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
  // Optional CRL (docs/api.md section 2, `--crl`): client and provider
  // certificates listed there are refused. Re-read by Reload().
  std::filesystem::path crl;
  // A CRL past its next-update is reported (log, metric); with this set,
  // handshakes are refused until a fresh one is reloaded.
  bool refuse_stale_crl = false;
  // Benchmarks only (bench/hub_load --unverifiable-audit): the audit log
  // without its Merkle tree, person index and signed checkpoints
  // (audit::AuditLog::Options::verifiable), to measure what they cost. Not
  // in --help; logged as an error at start.
  bool bench_unverifiable_audit = false;
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
  // The admin listener holds the whole audit trail: on an address other than
  // loopback it needs admin_token, unless this says the network around it
  // is trusted (`--admin-insecure`).
  bool admin_insecure = false;
  // Threads of the API's event loop, which the provider calls share
  // (net/event_loop.h); 0: one per core. More threads than cores only add
  // context switches (docs/benchmarks.md, "Hub throughput").
  int threads = 0;
  // Decide consultations on a copy of the person directory in memory, kept
  // exact by the store's change log (replica/directory_replica.h); off:
  // every decision reads the store.
  bool directory_in_memory = true;
  size_t max_body_bytes = 8 << 20;
  std::chrono::milliseconds provider_timeout{2000};
  // Concurrent API connections; 0: sized from the open-file limit (most of
  // it, minus a reserve for the store, the provider pools, the admin
  // listener and files). RunHub raises the soft limit to the hard one first.
  size_t max_connections = 0;
  // Connections in their TLS handshake at once (0: a quarter of
  // max_connections); the oldest is closed beyond it (net::ServerOptions).
  size_t max_handshaking = 0;
  // How long a kept-alive API connection may stay silent between requests.
  std::chrono::milliseconds idle_timeout{60000};
  // Mutations (docs/api.md section 4.3): deliveries and the identities of
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

  // Re-reads the network definition and the TLS files (certificate, key,
  // CA, CRL: docs/api.md section 6). Anything broken is refused (its errors
  // returned) and everything old stays in force. New handshakes then use
  // the new files; requests in flight finish, except on a connection whose
  // client certificate is now revoked: it is closed at once.
  Status Reload();
  // Logs a warning for a certificate (the hub's, the CA's) that expires
  // within 30 days and for a CRL past its next-update. Start() and Reload()
  // call it; RunHub also calls it every hour.
  void WarnAboutTls();
  // Stops accepting, lets requests in flight finish, flushes the audit log.
  void Stop();

  uint16_t api_port() const;
  uint16_t admin_port() const;

  class Impl;

 private:
  explicit Hub(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Raises this process's open-file soft limit to its hard limit (a service
// manager typically starts processes at 1024) and returns the new soft
// limit; logs what it did.
uint64_t RaiseOpenFileLimit();

// Starts a hub and serves until SIGTERM/SIGINT; SIGHUP reloads. Returns the
// process exit code (0 after a clean stop, 1 when it could not start).
int RunHub(HubOptions options);

}  // namespace carrefour::hub
