// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A citizen's transparency view (docs/api.md 4.6, docs/transparency.md). Start
// here.
//
//   portal's GET /v1/transparency?niss=n
//     -> a [[transparency_access]] valid today names the caller? (else 403)
//     -> the person's consultation and research records, from every node's
//        audit log in the store, each with its node, index, leaf hash and an
//        inclusion proof against its node's latest signed checkpoint
//     -> who would receive a change of each data type about the person
//        today (directory::DecisionEngine::SubscribersOf, as mutations do)
//     -> audited (kind "transparency"), durably, then answered
//
// No HTTP here: the hub hands in the caller and the query parameter and gets
// a status and a JSON body. VerifyView() checks a saved answer offline
// (`carrefour transparency verify`): every checkpoint's signature, every
// listed record's inclusion proof.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "directory/decision.h"
#include "directory/engine_source.h"

namespace carrefour::store {
class Store;
}

namespace carrefour::transparency {

// An answer for the caller.
using Reply = api::Reply;

using directory::EngineSource;

// Thread-safe; every dependency must outlive it.
class Service {
 public:
  Service(EngineSource engine, store::Store& store, audit::AuditLog& audit,
          audit::AuditTrees& trees, const Clock& clock)
      : engine_(std::move(engine)), store_(store), audit_(audit), trees_(trees), clock_(clock) {}

  // GET /v1/transparency?niss= from institution `caller` (the query
  // parameter as given; absent = nullopt). Refusals: not-authorized (no
  // [[transparency_access]] valid today names the caller), invalid-request
  // (no niss), invalid-niss, unavailable (the store, the audit log). Every
  // call, refused or not, is audited before `done` is called, exactly once,
  // possibly from another thread.
  void Handle(std::string_view caller, std::optional<std::string_view> niss,
              std::function<void(Reply)> done);

  // GET /v1/admin/transparency?niss= (the console's person page): the view
  // of the person as Handle answers it, plus under "research" the research
  // projects whose extracts included the person (the project, never the
  // pseudonym). Refusals: invalid-request (no niss), invalid-niss,
  // unavailable (the store). Not audited here: the admin listener audits
  // its reads of a person.
  Reply AdminView(std::optional<std::string_view> niss);

 private:
  // The view of the person `niss` (11 digits), as Handle answers it.
  Result<boost::json::object> View(const std::string& niss);
  // View() once; nullopt when the person index moved past the checkpoints
  // read meanwhile.
  Result<std::optional<boost::json::object>> TryView(const std::string& niss);

  EngineSource engine_;
  store::Store& store_;
  audit::AuditLog& audit_;
  audit::AuditTrees& trees_;
  const Clock& clock_;
};

// What VerifyView found.
struct Verification {
  bool ok = false;
  size_t consultations = 0;  // listed records checked
  size_t checkpoints = 0;    // signed checkpoints checked
  size_t complete = 0;       // nodes whose person index shows the list whole
  std::vector<std::string> failures;  // each names what fails; empty when ok
};

// Checks a saved answer of GET /v1/transparency offline, with the verifier
// keys of the nodes whose checkpoints it holds ("<name>+<hex id>+<base64>"):
// each checkpoint signed by its node's key, each listed record's leaf hash
// included (its proof) in its node's checkpoint, and, for every node, the
// listed records exactly those its signed person index holds about the
// person (none left out); a node whose key is given must have its
// checkpoint in the answer. An error only when `answer`
// is not a transparency answer at all (not JSON, no consultations).
Result<Verification> VerifyView(std::string_view answer, const std::vector<std::string>& keys);

}  // namespace carrefour::transparency
