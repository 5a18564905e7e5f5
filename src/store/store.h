// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The hub's persistent state behind one interface, with two engines:
//   sqlite:PATH            the default, one file (plus its -wal) on this machine
//   postgresql://...       one database shared by several hub processes
// Same schema, same semantics, same tests (docs/store.md).
//
// Start here: OpenStore() gives a Store; its sections (directory(), audit(),
// mutations(), bis()) are the interfaces the other modules use.
// No SQL dialect and no database library leaks through these headers.

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "audit/storage.h"
#include "store/bis_store.h"
#include "store/directory_store.h"
#include "store/mutation_store.h"

namespace carrefour::store {

// An open database. Owns its connections; the sections it returns live as long
// as it does. Thread-safe: share one Store between all the threads of a hub.
class Store {
 public:
  virtual ~Store() = default;

  // "sqlite" or "postgresql".
  virtual std::string_view engine() const = 0;

  // The person directory.
  virtual DirectoryStore& directory() = 0;

  // The audit log's chains and checkpoints (audit/storage.h).
  virtual audit::AuditStorage& audit() = 0;

  // Mutations, their per-subscriber deliveries and identity replacements
  // (store/mutation_store.h).
  virtual MutationStore& mutations() = 0;

  // The BIS register: persons, blocking keys, number blocks
  // (store/bis_store.h).
  virtual BisStore& bis() = 0;

  // Whether the database can be used now: one round trip for PostgreSQL
  // (kUnavailable with the cause when not). The hub's /readyz asks it.
  virtual Status Ping() { return OkStatus(); }

  // Operations run again inside the store after a lost connection or a
  // serialization failure (PostgreSQL), for /metrics.
  virtual uint64_t retries() const { return 0; }

  // Further sections are added the same way: one small interface per
  // concern in its own header (store/audit_store.h ...), one accessor here,
  // one implementation per engine beside the directory's.
};

// Opens (creating if need be) the database named by `url` and brings its
// schema up to date:
//   "sqlite:PATH" or "sqlite://PATH"   a file; its parent folder is created
//   "postgresql://..." / "postgres://..." a libpq connection URL
// Migrations run at open, each in its own transaction; a database whose schema
// is newer than this binary knows is refused (kInternal, saying so).
// Errors: invalid-request for a URL of no known engine, kUnavailable when the
// database cannot be reached, kInternal for SQL errors (engine's message).
// `clock` stamps the records that carry a time (it must outlive the Store).
Result<std::unique_ptr<Store>> OpenStore(std::string_view url,
                                         const Clock& clock = SystemClock());

}  // namespace carrefour::store
