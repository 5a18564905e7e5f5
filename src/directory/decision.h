// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The decision engine: preventive control and routing (DESIGN.md element 2,
// docs/api.md sections 4.2 steps 1-2 and 4.3's subscriber rule). Start here.
//
//   DecisionEngine engine(definition);
//   Result<Grant> grant = engine.Decide(request, entries_of_person, today);
//   if (!grant) return grant.error();  // not-integrated, not-authorized, ...
//   // grant->period, grant->authorization->legal_basis, grant->fields,
//   // grant->providers
//
//   // The same over a PersonDirectory (person_directory.h), no strings:
//   Result<Grant> same = engine.DecideCompact(request, directory, today);
//
// Pure: no I/O, no clock (today is an argument), no shared mutable state.
// Once built, an engine may be used from any number of threads at once. The
// rules, with examples, are in docs/decision-engine.md.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "directory/compact_entry.h"
#include "directory/entry.h"
#include "network/model.h"

namespace carrefour::directory {
namespace internal {
struct DecisionIndexes;
}  // namespace internal
class PersonDirectory;

// What an institution asks for (docs/api.md section 4.2), already parsed.
struct ConsultationRequest {
  std::string requester;  // institution id, from the client certificate
  std::string data_type;
  std::string niss;  // normalized: 11 bare digits
  // Defaults to the one day `today`.
  std::optional<Period> period;
  // Restricts the decision to the requester's files of this capacity.
  std::optional<std::string> capacity;
  // Restricts the answer to these fields (a subset of the authorized ones).
  std::optional<std::vector<std::string>> fields;
};

// A consultation the hub may carry out, and where to send it.
//
// The pointers and views refer into the engine's network::Definition: they
// stay valid as long as that definition lives (DecisionEngine::definition()
// hands out a shared_ptr to keep it alive across a reload).
struct Grant {
  const network::Institution* requester = nullptr;
  const network::DataType* data_type = nullptr;
  // The served period: the requested period clipped to the requester's
  // granted files (the latest covered stretch when the files leave gaps).
  Period period;
  // The authorization used: the first in definition order that applies. Its
  // legal_basis goes to the providers and the audit log.
  const network::Authorization* authorization = nullptr;
  // Authorized ∩ requested fields, in the data type's order; never empty.
  std::vector<std::string_view> fields;
  // The authentic sources to ask, in definition order, each once. May be
  // empty: nobody in the network holds the data (no-data-in-network). The
  // requester itself is included when it is one of them.
  std::vector<const network::Institution*> providers;
};

// An institution to notify of a mutation (docs/api.md section 4.3).
struct Subscriber {
  const network::Institution* institution = nullptr;
  // The fields it may receive, in the data type's order: the union over
  // every capacity through which it qualifies.
  std::vector<std::string_view> fields;
  // The authorizations that justify the delivery, in definition order: for
  // each qualifying capacity, the first that applies.
  std::vector<const network::Authorization*> authorizations;
};

class DecisionEngine {
 public:
  // Indexes `definition` (which must be non-null); the engine shares its
  // ownership. Cost proportional to the definition's size.
  explicit DecisionEngine(std::shared_ptr<const network::Definition> definition);
  ~DecisionEngine();
  DecisionEngine(const DecisionEngine&) = delete;
  DecisionEngine& operator=(const DecisionEngine&) = delete;

  const std::shared_ptr<const network::Definition>& definition() const { return definition_; }

  // Decides a consultation (docs/api.md section 4.2 steps 1 and 2).
  // `person_entries`: the person directory's entries on request.niss, of
  // every institution (entries on another number are ignored). Refusals, in
  // the order they are checked:
  //   unknown-institution  the requester is not in the definition
  //   unknown-data-type    the data type is not in the definition
  //   invalid-period       period.from is after period.to
  //   invalid-request      requested fields that the data type does not have
  //                        (named), or an empty list of fields
  //   not-integrated       the requester has no entry on the person (of the
  //                        requested capacity, when one is given)
  //   not-authorized       no authorization valid `today` grants the data type
  //                        to the requester for the capacity of any of them
  //   not-integrated       its granted entries cover no day of the period
  //   not-authorized       none of the requested fields is authorized
  Result<Grant> Decide(const ConsultationRequest& request, std::span<const Entry> person_entries,
                       Date today) const;

  // The same decision over the person's entries in compact form, as a
  // PersonDirectory holds them (person_directory.h): the same grant, or the
  // same refusal with the same message, as the string form above over the
  // same entries. `person` must be request.niss's entries (nothing here
  // can check the number), with ids given for this engine's definition
  // (aborts otherwise: a directory not rebuilt after a reload is a bug).
  // The string form is this one after interning its entries.
  Result<Grant> DecideCompact(const ConsultationRequest& request, const PersonEntries& person,
                              Date today) const;
  // The same, into a caller's Grant whose vectors keep their buffers from
  // one decision to the next: nothing is allocated for a grant once they
  // have grown. On a refusal *grant is unspecified.
  Status DecideCompact(const ConsultationRequest& request, const PersonEntries& person,
                       Date today, Grant* grant) const;
  // The same, the person's entries looked up in `directory` (built on this
  // engine's definition) under request.niss; a number that is not 11 digits
  // has none. Faster than Find then DecideCompact: the person's table slot
  // is fetched while the request is resolved.
  Result<Grant> DecideCompact(const ConsultationRequest& request, const PersonDirectory& directory,
                              Date today) const;
  Status DecideCompact(const ConsultationRequest& request, const PersonDirectory& directory,
                       Date today, Grant* grant) const;

  // Asks the processor for what deciding `request` will read in the
  // engine's tables (its grant rows, its data type's routing), without
  // waiting for any of it. A caller holding several consultations at once
  // (a batch) calls it for the next one before deciding the current one, so
  // that those cache misses overlap with a decision instead of following it.
  // Only a hint: no effect on any result.
  void Prefetch(const ConsultationRequest& request) const;

  // Who must be told of a mutation of `data_type` on the person whose
  // entries are `person_entries`, published by `source` and accepted on
  // `today` (docs/api.md section 4.3): institutions with a subscription for the
  // data type and a capacity c, an entry of capacity c on the person active
  // on `today`, and an authorization for the data type and c valid on
  // `today`. The source is never its own subscriber. Each institution once,
  // in definition order. Empty for an unknown data type.
  std::vector<Subscriber> SubscribersOf(std::string_view source, std::string_view data_type,
                                        std::span<const Entry> person_entries, Date today) const;
  // The same over the person's entries in compact form (a PersonDirectory's
  // Find), with ids given for this engine's definition (aborts otherwise,
  // as DecideCompact): no name is looked up per entry.
  std::vector<Subscriber> SubscribersOfCompact(std::string_view source, std::string_view data_type,
                                               const PersonEntries& person, Date today) const;

  // Whether `institution` is an authentic source of `data_type`: the
  // availability table names its type for that data type (with or without a
  // capacity). False for unknown ids.
  bool IsSource(std::string_view institution, std::string_view data_type) const;

 private:
  // SubscribersOf's common part, over the numbers (institution, capacity)
  // of the entries active on the day (EntryIds::kNotFound: unknown).
  std::vector<Subscriber> SubscribersHolding(std::string_view source, std::string_view data_type,
                                             std::span<const std::pair<uint32_t, uint32_t>> held,
                                             Date today) const;

  std::shared_ptr<const network::Definition> definition_;
  std::unique_ptr<const internal::DecisionIndexes> indexes_;
};

}  // namespace carrefour::directory
