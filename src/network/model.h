// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/date.h"

namespace carrefour::network {

// The network definition (docs/api.md section 3): who is in the network, what
// data exists, where it lives, who may obtain it and who wants to hear of its
// changes. Plain values in definition order; `line` is where each element
// starts in its file, for messages. Produced only by the loader (loader.h),
// which validates everything, so the invariants documented here hold.

struct InstitutionType {
  std::string id;
  std::vector<std::string> capacities;  // capacities its institutions may declare
  int line = 0;

  bool AllowsCapacity(std::string_view capacity) const;
};

struct Institution {
  std::string id;    // = the CN of its certificate
  std::string type;  // an InstitutionType id
  std::string name;
  std::string endpoint;       // "https://host:port" of its connector; may be empty
  std::string endpoint_host;  // parsed from `endpoint`
  uint16_t endpoint_port = 0;
  int line = 0;
};

struct DataType {
  std::string id;
  std::vector<std::string> fields;
  // Research classification, decided once by whoever defines the data type
  // (docs/research.md): the fields that a research extract may carry at all
  // (an allowlist: none when empty), and among them those that could single
  // a person out in combination (every project releasing one must say how it
  // is coarsened).
  std::vector<std::string> research_fields;
  std::vector<std::string> quasi_identifiers;
  int line = 0;

  bool HasField(std::string_view field) const;
};

// What-where: `data_type` is available at institutions of `provider_type`;
// with a capacity, only where the provider holds a file of that capacity on
// the person.
struct Availability {
  std::string data_type;
  std::string provider_type;
  std::optional<std::string> capacity;
  int line = 0;
};

// Who-gets-what. Exactly one of `requester` (an institution id) and
// `requester_type` is non-empty.
struct Authorization {
  std::string data_type;
  std::string requester;
  std::string requester_type;
  std::string capacity;             // the requester's file must have this capacity
  std::vector<std::string> fields;  // a subset of the data type's fields
  std::string legal_basis;
  Period validity;                  // [from, to], to optional

  int line = 0;

  // Whether this authorization names `institution` or its type.
  bool Names(const Institution& institution) const;
};

// Asked to be notified of changes. Exactly one of `institution` and
// `institution_type` is non-empty.
struct Subscription {
  std::string institution;
  std::string institution_type;
  std::string data_type;
  std::string capacity;
  int line = 0;

  bool Names(const Institution& candidate) const;
};

// A request allowance (docs/api.md section 3, [[quota]]): a token bucket per
// institution, refilled at `requests_per_second` up to `burst`. Exactly one
// of `institution` and `institution_type` is non-empty; for a type, each
// of its institutions has an allowance of its own.
struct Quota {
  std::string institution;
  std::string institution_type;
  int64_t requests_per_second = 0;
  int64_t burst = 0;  // the loader sets it to requests_per_second when absent
  int line = 0;

  bool Names(const Institution& candidate) const;
};

// How a research extract coarsens a quasi-identifier (docs/research.md). The
// extract may generalize further, along the same ladder, to reach
// k-anonymity.
enum class Coarsening {
  kKeep,      // the value as the source gives it
  kMonth,     // a date "YYYY-MM-DD" -> "YYYY-MM"
  kYear,      // a date -> "YYYY"
  kDecade,    // a date (or a year) -> "1980-1989"
  kProvince,  // a Belgian postal code -> its province
  kRegion,    // a Belgian postal code -> Brussels, Flanders or Wallonia
  kBand,      // a number -> "[3000, 3500)" for `width` 500
  kMap,       // through the project's own table (municipality -> region...)
};

// One data type a research project asks for, and which of its fields.
struct ResearchData {
  std::string data_type;
  std::vector<std::string> fields;  // never a direct identifier
  int line = 0;
};

// A field that, combined with others, could single a person out (birth
// date, postal code...), and how the extract coarsens it.
struct QuasiIdentifier {
  std::string data_type;
  std::string field;  // one of the project's fields of that data type
  Coarsening coarsen = Coarsening::kKeep;
  int64_t width = 0;  // kBand: the band's width (> 0)
  // kMap: value -> coarser value; a value not in the table becomes
  // `map_default` ("other" unless given).
  std::vector<std::pair<std::string, std::string>> map;
  std::string map_default;
  int line = 0;
};

// Who is in a research project's cohort: persons with a file of `capacity`
// at `institution` (or any institution of `institution_type`) during
// `period`; or, when `supplied_by` is set, the list of numbers that
// institution hands in at run time.
struct ResearchCohort {
  std::string institution;
  std::string institution_type;
  std::string capacity;
  Period period;
  std::string supplied_by;
  int line = 0;

  bool IsList() const { return !supplied_by.empty(); }
};

// A research project (DESIGN.md, the hub's third mission; docs/research.md):
// pseudonymized, cross-sector data for `requester`, on `legal_basis`, which
// alone may run its extract while the legal basis is valid.
struct ResearchProject {
  std::string id;
  std::string title;
  std::string requester;  // an institution id
  std::string legal_basis;
  Period validity;  // of the legal basis: when the extract may run
  Period period;    // the period the data is asked for
  ResearchCohort cohort;
  std::vector<ResearchData> data;
  std::vector<QuasiIdentifier> quasi_identifiers;
  int64_t k = 5;                // minimum number of persons per released group
  int64_t max_suppression = 5;  // % of the cohort k-anonymity may drop
  int line = 0;
};

// Fields that name or locate a person directly: never extracted for
// research, whatever a project asks (the loader refuses them).
bool IsDirectIdentifierField(std::string_view field);

// A right granted to one institution or to every institution of a type, on
// a legal basis, for a period: what [[bis_authorization]] and
// [[transparency_access]] both say. Exactly one of `requester` (an
// institution id) and `requester_type` is non-empty.
struct RequesterGrant {
  std::string requester;
  std::string requester_type;
  std::string legal_basis;
  Period validity;  // [from, to], to optional
  int line = 0;

  // Whether this grant names `institution` or its type.
  bool Names(const Institution& institution) const;
};

// Who may create BIS numbers and change the identity of BIS persons
// (POST /v1/bis, docs/bis.md).
struct BisAuthorization : RequesterGrant {};

// The hub's own BIS register ([bis_register] and [[bis_authorization]],
// docs/bis.md): the institution that stands for it in routing and as the
// source of its mutations (it has no endpoint: the hub answers for it), and
// who may write to it.
struct BisRegister {
  std::string institution;  // empty: the network has no BIS register
  std::vector<BisAuthorization> authorizations;
};

// Who may read a citizen's transparency view (GET /v1/transparency, docs/api.md
// 4.6; docs/transparency.md): a citizen portal that has authenticated the
// citizen.
struct TransparencyAccess : RequesterGrant {};

// What a definition lists, each in definition order: the loader fills one
// while it reads, a Definition indexes it. A new kind of element is one
// more member here.
struct DefinitionLists {
  std::vector<InstitutionType> institution_types;
  std::vector<Institution> institutions;
  std::vector<DataType> data_types;
  std::vector<Availability> availability;
  std::vector<Authorization> authorizations;
  std::vector<Subscription> subscriptions;
  std::vector<ResearchProject> research_projects;
  BisRegister bis_register;
  std::vector<TransparencyAccess> transparency_access;
  std::vector<Quota> quotas;
};

// A validated definition with id indexes. Immutable once built; safe to share
// between threads (hold it by shared_ptr to swap it on reload).
class Definition {
 public:
  Definition() = default;
  // `source` names where it came from (a file path), for messages.
  Definition(std::string source, DefinitionLists lists);

  const std::string& source() const { return source_; }
  const std::vector<InstitutionType>& institution_types() const { return lists_.institution_types; }
  const std::vector<Institution>& institutions() const { return lists_.institutions; }
  const std::vector<DataType>& data_types() const { return lists_.data_types; }
  const std::vector<Availability>& availability() const { return lists_.availability; }
  const std::vector<Authorization>& authorizations() const { return lists_.authorizations; }
  const std::vector<Subscription>& subscriptions() const { return lists_.subscriptions; }
  const std::vector<ResearchProject>& research_projects() const { return lists_.research_projects; }
  const BisRegister& bis_register() const { return lists_.bis_register; }
  const std::vector<TransparencyAccess>& transparency_access() const {
    return lists_.transparency_access;
  }
  // The first [[transparency_access]] (definition order) that names
  // `institution` and is valid on `day`; nullptr when none does.
  const TransparencyAccess* TransparencyAccessOf(const Institution& institution, Date day) const;
  const std::vector<Quota>& quotas() const { return lists_.quotas; }
  // The quota that applies to `institution`: its own if it has one, else
  // its type's; nullptr when it is unlimited.
  const Quota* QuotaFor(const Institution& institution) const;

  // nullptr when there is no such id.
  const InstitutionType* FindInstitutionType(std::string_view id) const;
  const Institution* FindInstitution(std::string_view id) const;
  const DataType* FindDataType(std::string_view id) const;
  const ResearchProject* FindResearchProject(std::string_view id) const;

  // The type of an institution that exists (the loader guarantees it has one).
  const InstitutionType& TypeOf(const Institution& institution) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;

  std::string source_;
  DefinitionLists lists_;
  Index type_index_;
  Index institution_index_;
  Index data_type_index_;
};

}  // namespace carrefour::network
