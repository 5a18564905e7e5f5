// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The admin listener's own JSON views (docs/api.md section 6) — those that
// read more than one module, or this node's audit log itself:
//
//   GET /v1/admin/network                 the definition in force
//   GET /v1/admin/audit?niss=&requester=&kind=&limit=   audit records
//   GET /v1/admin/audit/verify            the chains and trees checked
//   GET /v1/admin/audit/checkpoint|key|proof|consistency[?node=]  (6.1)
//
// and the rule that an administrator's read naming a person is audited
// (AuditPersonRead), which the hub also applies to the directory, person
// and transparency reads that other modules answer. The hub checks the
// token and the Host first (admin_guard.h). Thread-safe.

#include <filesystem>
#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "directory/engine_source.h"
#include "net/server.h"

namespace carrefour::store {
class Store;
}

namespace carrefour::hub {

class AdminApi {
 public:
  // Every reference must outlive the AdminApi. `node_id` is this process's
  // audit chain; `data_dir` holds its kept checkpoints.
  AdminApi(directory::EngineSource engine, store::Store& store, audit::AuditLog& audit,
           audit::AuditTrees& trees, std::string node_id, std::filesystem::path data_dir,
           const Clock& clock)
      : engine_(std::move(engine)), store_(store), audit_(audit), trees_(trees),
        node_id_(std::move(node_id)), data_dir_(std::move(data_dir)), clock_(clock) {}

  // The answer when `request.path` is one of the endpoints above; nullopt
  // otherwise. Errors use docs/api.md's shape: invalid-request (a bad
  // parameter), invalid-niss, not-found (no such node's checkpoint or key),
  // unavailable (the store, the audit log).
  std::optional<net::Response> Handle(const net::Request& request);

  // `response` to a read of `request` that names a person (?niss=): a 200
  // is answered only once an admin audit record of the read is durable (503
  // unavailable otherwise); a refusal, which showed nothing, is not traced.
  net::Response AuditPersonRead(const net::Request& request, net::Response response);

 private:
  net::Response Network() const;
  net::Response Audit(const net::Request& request) const;
  net::Response AuditTree(const net::Request& request) const;
  net::Response Verify() const;

  directory::EngineSource engine_;
  store::Store& store_;
  audit::AuditLog& audit_;
  audit::AuditTrees& trees_;
  const std::string node_id_;
  const std::filesystem::path data_dir_;
  const Clock& clock_;
};

}  // namespace carrefour::hub
