// SPDX-License-Identifier: EUPL-1.2
#include "network/internal/validate.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

namespace carrefour::network::internal {
namespace {

template <typename Info>
std::vector<std::string_view> Keys(const std::unordered_map<std::string, Info>& index) {
  std::vector<std::string_view> keys;
  keys.reserve(index.size());
  for (const auto& [key, info] : index) keys.push_back(key);
  return keys;
}

}  // namespace

// `kind` says what the id names, for messages ("institution type").
bool Validator::CheckId(std::string_view kind, const std::string& id, int line) {
  if (id.empty()) {
    reporter_.Error(line, fmt::format("{} id is empty", kind));
    return false;
  }
  if (!std::all_of(id.begin(), id.end(), IsIdChar)) {
    reporter_.Error(line, fmt::format("{} id '{}' may only use a-z, 0-9, '.', '_' and '-'{}", kind,
                                      id,
                                      kind == "institution"
                                          ? " (it is the CN of the institution's certificate)"
                                          : ""));
    return false;
  }
  return true;
}

// Whether `capacity` is one that institutions of type `type_id` may
// declare; reports it otherwise. `whose` names the type in the message. An
// unknown type, or one whose capacities could not be read, passes: that
// has been reported already.
bool Validator::CheckCapacity(const std::string& capacity, int line, const std::string& type_id,
                              std::string_view whose) {
  auto it = read_.type_info.find(type_id);
  if (it == read_.type_info.end() || !it->second.capacities_known) return true;
  const InstitutionType& type = read_.lists.institution_types[it->second.index];
  if (type.AllowsCapacity(capacity)) return true;
  reporter_.Error(line, type.capacities.empty()
                            ? fmt::format("capacity '{}' is not allowed for {}: it declares no "
                                          "capacities",
                                          capacity, whose)
                            : fmt::format("capacity '{}' is not allowed for {} (its capacities: "
                                          "{}){}",
                                          capacity, whose, Join(type.capacities),
                                          Suggestion(capacity, type.capacities)));
  return false;
}

// `id` names an institution type; reports it otherwise.
bool Validator::CheckTypeReference(const Read<std::string>& id, std::string_view key,
                                   std::string_view where) {
  if (!id) return false;
  if (read_.type_info.count(*id) != 0) return true;
  reporter_.Error(id.line, fmt::format("'{}' in {}: unknown institution type '{}'{}", key, where,
                                       *id, Suggestion(*id, Keys(read_.type_info))));
  return false;
}

bool Validator::CheckDataTypeReference(const Read<std::string>& id, std::string_view where) {
  if (!id) return false;
  if (read_.data_type_info.count(*id) != 0) return true;
  reporter_.Error(id.line, fmt::format("'data_type' in {}: unknown data type '{}'{}", where, *id,
                                       Suggestion(*id, Keys(read_.data_type_info))));
  return false;
}

bool Validator::CheckInstitutionReference(const Read<std::string>& id, std::string_view key,
                                          std::string_view where) {
  if (!id) return false;
  if (read_.institution_info.count(*id) != 0) return true;
  reporter_.Error(id.line, fmt::format("'{}' in {}: unknown institution '{}'{}", key, where, *id,
                                       Suggestion(*id, Keys(read_.institution_info))));
  return false;
}

// Every field the project asks that its data type classifies as a
// quasi-identifier has a declared coarsening (possibly "keep"): none
// leaves the hub raw by omission, and all count in the k-anonymity.
bool Validator::CheckQuasiIdentifiersDeclared(const std::string& project_where,
                                              const ResearchProject& project) {
  bool ok = true;
  for (const ResearchData& data : project.data) {
    const DataType& type = read_.lists.data_types[read_.data_type_info.at(data.data_type).index];
    for (const std::string& field : data.fields) {
      if (!Contains(type.quasi_identifiers, field)) continue;
      bool declared = std::any_of(
          project.quasi_identifiers.begin(), project.quasi_identifiers.end(),
          [&](const QuasiIdentifier& qi) { return qi.data_type == data.data_type && qi.field == field; });
      if (declared) continue;
      reporter_.Error(data.line,
                      fmt::format("'{}' of '{}' is a quasi-identifier (its [[data_type]] says so): "
                                  "{} must declare how it is coarsened with a "
                                  "[[research_project.quasi_identifier]] (coarsen = \"keep\" "
                                  "releases it as it is)",
                                  field, data.data_type, project_where));
      ok = false;
    }
  }
  return ok;
}

// The hub routes consultations to every institution of a provider type
// (docs/api.md section 4.2, step 2); one without an endpoint could never answer.
void Validator::CheckProvidersHaveEndpoints() {
  std::unordered_map<std::string_view, const Availability*> provided_by;
  for (const Availability& availability : read_.lists.availability) {
    provided_by.emplace(availability.provider_type, &availability);
  }
  for (const Institution& institution : read_.lists.institutions) {
    if (read_.institution_info.at(institution.id).endpoint_given) continue;
    if (institution.id == read_.lists.bis_register.institution) continue;  // the hub answers for it
    auto it = provided_by.find(institution.type);
    if (it == provided_by.end()) continue;
    reporter_.Error(institution.line,
                    fmt::format("institution '{}' has no endpoint, but its type '{}' provides "
                                "'{}' (availability at line {}): the hub could not call it",
                                institution.id, institution.type, it->second->data_type,
                                it->second->line));
  }
}

// A subscription delivers only what an authorization grants (docs/api.md
// section 4.3); one that no authorization covers, in any period, can never
// deliver anything and is almost certainly a mistake.
void Validator::CheckSubscriptionsCanDeliver() {
  // Indexed by (data type, capacity): thousands of authorizations times
  // hundreds of subscriptions would otherwise dominate the load.
  std::unordered_map<std::string, std::vector<const Authorization*>> grants;
  for (const Authorization& authorization : read_.lists.authorizations) {
    grants[authorization.data_type + '\n' + authorization.capacity].push_back(&authorization);
  }
  for (const Subscription& subscription : read_.lists.subscriptions) {
    bool covered = false;
    static const std::vector<const Authorization*> kNone;
    auto it = grants.find(subscription.data_type + '\n' + subscription.capacity);
    for (const Authorization* authorization : it == grants.end() ? kNone : it->second) {
      if (!subscription.institution.empty()) {
        const Institution& institution =
            read_.lists.institutions[read_.institution_info.at(subscription.institution).index];
        covered = authorization->Names(institution);
      } else if (!authorization->requester_type.empty()) {
        covered = authorization->requester_type == subscription.institution_type;
      } else if (auto requester = read_.institution_info.find(authorization->requester);
                 requester != read_.institution_info.end()) {
        covered =
            read_.lists.institutions[requester->second.index].type == subscription.institution_type;
      }
      if (covered) break;
    }
    if (covered) continue;
    reporter_.Error(subscription.line,
                    fmt::format("subscription of {} '{}' to '{}' for capacity '{}' can never "
                                "deliver: no authorization grants '{}' for capacity '{}' to {}",
                                subscription.institution.empty() ? "institution type"
                                                                 : "institution",
                                subscription.institution.empty() ? subscription.institution_type
                                                                 : subscription.institution,
                                subscription.data_type, subscription.capacity,
                                subscription.data_type, subscription.capacity,
                                subscription.institution.empty() ? "that type or its institutions"
                                                                 : "it or its type"));
  }
}

}  // namespace carrefour::network::internal
