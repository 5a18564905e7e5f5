// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The person directory's endpoints (docs/api.md sections 4.1 and 6): an
// institution declares and reads its own entries; the admin listener reads
// every institution's entries about a person. Start here for the directory
// API; entries.h is the batch body itself.
//
//   POST /v1/directory/entries         -> Post(caller, body, done)  (audited)
//   GET  /v1/directory/entries?niss=n  -> OwnEntries(caller, niss)
//   GET  /v1/admin/directory?niss=n    -> PersonEntries(niss)
//
// No HTTP here: the hub hands in the caller, the body or the query
// parameter, and sends the Reply.

#include <functional>
#include <optional>
#include <string_view>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "directory/engine_source.h"
#include "network/model.h"
#include "store/directory_store.h"

namespace carrefour::integration {

// Thread-safe; every dependency must outlive it.
class EntriesService {
 public:
  EntriesService(directory::EngineSource engine, store::DirectoryStore& directory,
                 audit::AuditLog& audit, const Clock& clock)
      : engine_(std::move(engine)), directory_(directory), audit_(audit), clock_(clock) {}

  // A batch of entry changes from `caller` (entries.h): read, checked,
  // applied in one transaction, answered {"results": [...]}. Refusals of the
  // whole batch: invalid-json, invalid-request, unavailable (the store).
  // Every batch, refused or not, is audited (kind "integration") before
  // `done` is called, exactly once, possibly on the audit writer's thread;
  // 503 unavailable when the record cannot be written.
  void Post(const network::Institution& caller, std::string_view body,
            std::function<void(api::Reply)> done);

  // `caller`'s own entries about the person `niss` (the query parameter as
  // given; absent = nullopt): {"niss", "entries": [{niss, capacity, from,
  // to}]}. invalid-request (no niss), invalid-niss, unavailable (the store).
  api::Reply OwnEntries(const network::Institution& caller, std::optional<std::string_view> niss);

  // Every institution's entries about the person, each naming its
  // institution; the same errors. Not audited here: the admin listener
  // audits its reads of a person.
  api::Reply PersonEntries(std::optional<std::string_view> niss);

 private:
  directory::EngineSource engine_;
  store::DirectoryStore& directory_;
  audit::AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace carrefour::integration
