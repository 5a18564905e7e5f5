// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The BIS register's API (docs/api.md section 4.4, docs/bis.md), without HTTP:
// the hub hands in the caller's identity (its certificate's CN), the method,
// path and body, and gets back a status and a JSON body.
//
//   POST /v1/bis                      create a BIS number (201, or 409 possible-duplicate)
//   PUT  /v1/bis/{niss}               replace a BIS person's identity (published as person.identity)
//   POST /v1/bis/{niss}/replacement   the person received another number (person.niss-replaced)
//   GET  /v1/admin/bis?niss=N | ?q=NAME[&birth_date=D][&limit=L]   (admin listener only)
//
// Writes are allowed only to institutions with a [[bis_authorization]] valid
// today; every call is audited (kind bis; a creation forced despite
// possible duplicates says so in the record). The register also answers
// consultations of person.identity for its numbers, through Gateway(): the
// consultation pipeline decides, audits and filters as for any provider.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "bis/register.h"
#include "core/clock.h"
#include "directory/decision.h"
#include "directory/engine_source.h"
#include "exchange/consultation.h"
#include "mutations/mutations.h"
#include "network/model.h"

namespace carrefour::store {
class Store;
}

namespace carrefour::bis {

// An answer for the caller.
using Reply = api::Reply;

using directory::EngineSource;
// Publishes a batch of mutations as `source` (MutationService::Publish): the
// register's changes reach subscribers the way any source's do.
using Publisher = std::function<void(std::string_view source, std::string_view body,
                                     std::function<void(mutations::Reply)> done)>;

// Thread-safe; every dependency must outlive it.
class Service {
 public:
  // `network` is the gateway to the other providers (mutual TLS).
  Service(EngineSource engine, store::Store& store, audit::AuditLog& audit, Publisher publish,
          exchange::ProviderGateway& network, const Clock& clock);

  // Whether `path` is one of the register's API paths.
  static bool IsApiPath(std::string_view path);

  // One API call from `caller`. `done` is called exactly once, after the
  // audit record is durable, possibly from another thread.
  void HandleApi(std::string_view caller, std::string_view method, std::string_view path,
                 std::string_view body, std::function<void(Reply)> done);

  // GET /v1/admin/bis: one person by number, or a search by name
  // ("LAST" or "LAST, FIRST NAMES") and optional birth date. Audited.
  Reply HandleAdmin(std::optional<std::string_view> niss, std::optional<std::string_view> q,
                    std::optional<std::string_view> birth_date,
                    std::optional<std::string_view> limit);

  // The provide protocol (docs/api.md section 5) for the register's own
  // institution: person.identity of a BIS number, or no-data.
  exchange::ProviderReply Provide(std::string_view body);

  // The gateway the consultation pipeline uses: provide calls to the
  // register's institution are answered by Provide(), the others go to
  // `network`.
  exchange::ProviderGateway& gateway() { return *gateway_; }

  Register& bis_register() { return register_; }

 private:
  class LocalGateway;
  struct Call;

  // Whether the caller has a [[bis_authorization]] valid today (for a
  // `replacement`, one naming the institution itself, not its type); sets
  // the record's legal basis from it. not-authorized otherwise.
  Status Authorize(Call& call, bool replacement = false) const;
  // Whether the caller may touch `person`: it asked for the number, or holds
  // a file on it in the person directory. not-authorized otherwise.
  Status CheckConcerned(const Call& call, const Person& person) const;
  // Audits the call, then answers it (503 if the record cannot be written).
  void Answer(Call call, Reply reply);
  void Refuse(Call call, const Status& status);
  void Create(Call call);
  void Update(Call call, const std::string& niss);
  void Replace(Call call, const std::string& niss);

  EngineSource engine_;
  store::Store& store_;
  audit::AuditLog& audit_;
  Publisher publish_;
  const Clock& clock_;
  Register register_;
  std::unique_ptr<exchange::ProviderGateway> gateway_;
};

}  // namespace carrefour::bis
