// SPDX-License-Identifier: EUPL-1.2
#pragma once

// `carrefour connector`: what an institution runs next to its own database
// so that joining the network takes configuration, not code (DESIGN.md,
// element 1; docs/connector.md). Start here. One process does four jobs, each
// optional, each driven by SQL from the configuration (connector/config.h):
//
//   provide       serves the provide protocol (docs/api.md section 5) on mutual
//                 TLS to the hub only, answering each data type from a query;
//   feed          consumes the institution's mutation feed (long poll) and
//                 applies each change with a statement, storing the feed
//                 cursor in the same transaction: a crash never loses or
//                 double-applies a change;
//   outbox        publishes the institution's own changes from an outbox
//                 table, marking rows sent only once the hub accepted them
//                 (a retry re-sends the same ids: the hub says "duplicate");
//   integrations  declares the institution's files (directory entries) from
//                 a table or a CSV file, recording each entry's result.
//
// Plus a plain-HTTP admin listener: /healthz, /readyz, /metrics.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "connector/config.h"
#include "core/result.h"

namespace carrefour::connector {

// Counters since start, for /metrics and tests.
struct ConnectorStats {
  uint64_t provide_requests = 0;
  uint64_t provide_answered = 0;  // 200
  uint64_t provide_no_data = 0;   // 404 no-data
  uint64_t provide_errors = 0;    // refused callers, bad requests, failed queries
  uint64_t feed_applied = 0;      // mutations applied by their statement
  uint64_t feed_unapplied = 0;    // recorded in carrefour_unapplied instead
  uint64_t outbox_accepted = 0;   // accepted or duplicate (already accepted)
  uint64_t outbox_rejected = 0;
  uint64_t integrations_ok = 0;
  uint64_t integrations_rejected = 0;
  uint64_t hub_failures = 0;  // calls to the hub that failed and were retried
};

class Connector {
 public:
  // Opens the database, creates the connector's two bookkeeping tables when
  // missing (carrefour_connector_state, carrefour_unapplied) and checks every
  // configured statement against the database: a missing table or column is
  // reported as "FILE:LINE: ..." before anything runs.
  static Result<std::unique_ptr<Connector>> Create(ConnectorConfig config);
  ~Connector();  // Stop()

  // Starts the listeners and the loops. Errors name what failed.
  Status Start();
  // Stops the loops (a change being applied finishes or rolls back), then
  // the listeners. Idempotent.
  void Stop();
  // Re-reads the TLS files of the configuration (certificate, key, CA,
  // CRL) without stopping anything: new handshakes use them, open
  // connections whose peer is now refused close after their request.
  // On error nothing changes.
  Status ReloadTls();

  uint16_t provide_port() const;  // 0 when not providing
  uint16_t admin_port() const;    // 0 when disabled
  ConnectorStats stats() const;

  class Impl;

 private:
  explicit Connector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The command: loads `config_file`, checks it (and stops there when
// `check_only`), runs until SIGINT/SIGTERM. Prints where it listens on stdout.
// SIGHUP reloads: the TLS files in place when the configuration file is
// unchanged; otherwise the new configuration is checked (database and
// statements included) and, if valid, replaces the running one (its
// listeners restart); a broken one is refused and the old one keeps running.
// Exit codes: 0 clean stop (or a valid check), 1 a configuration or start-up
// error (printed on stderr).
int RunConnector(const std::filesystem::path& config_file, bool check_only);

}  // namespace carrefour::connector
