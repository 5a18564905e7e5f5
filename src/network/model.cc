// SPDX-License-Identifier: EUPL-1.2
#include "network/model.h"

#include <algorithm>
#include <cstdlib>

namespace carrefour::network {
namespace {

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

bool InstitutionType::AllowsCapacity(std::string_view capacity) const {
  return Contains(capacities, capacity);
}

bool DataType::HasField(std::string_view field) const { return Contains(fields, field); }

bool Authorization::Names(const Institution& institution) const {
  return requester.empty() ? requester_type == institution.type : requester == institution.id;
}

bool Quota::Names(const Institution& candidate) const {
  return institution.empty() ? institution_type == candidate.type : institution == candidate.id;
}

const Quota* Definition::QuotaFor(const Institution& institution) const {
  const Quota* by_type = nullptr;
  for (const Quota& quota : lists_.quotas) {
    if (quota.institution == institution.id) return &quota;
    if (quota.institution.empty() && quota.institution_type == institution.type) by_type = &quota;
  }
  return by_type;
}

bool Subscription::Names(const Institution& candidate) const {
  return institution.empty() ? institution_type == candidate.type
                             : institution == candidate.id;
}

bool RequesterGrant::Names(const Institution& institution) const {
  return requester.empty() ? requester_type == institution.type : requester == institution.id;
}

Definition::Definition(std::string source, DefinitionLists lists)
    : source_(std::move(source)), lists_(std::move(lists)) {
  for (size_t i = 0; i < lists_.institution_types.size(); ++i)
    type_index_.emplace(lists_.institution_types[i].id, i);
  for (size_t i = 0; i < lists_.institutions.size(); ++i)
    institution_index_.emplace(lists_.institutions[i].id, i);
  for (size_t i = 0; i < lists_.data_types.size(); ++i)
    data_type_index_.emplace(lists_.data_types[i].id, i);
}

const InstitutionType* Definition::FindInstitutionType(std::string_view id) const {
  auto it = type_index_.find(id);
  return it == type_index_.end() ? nullptr : &lists_.institution_types[it->second];
}

const Institution* Definition::FindInstitution(std::string_view id) const {
  auto it = institution_index_.find(id);
  return it == institution_index_.end() ? nullptr : &lists_.institutions[it->second];
}

const DataType* Definition::FindDataType(std::string_view id) const {
  auto it = data_type_index_.find(id);
  return it == data_type_index_.end() ? nullptr : &lists_.data_types[it->second];
}

const ResearchProject* Definition::FindResearchProject(std::string_view id) const {
  // A handful of projects: a scan is cheaper than keeping an index.
  for (const ResearchProject& project : lists_.research_projects) {
    if (project.id == id) return &project;
  }
  return nullptr;
}

const TransparencyAccess* Definition::TransparencyAccessOf(const Institution& institution,
                                                           Date day) const {
  for (const TransparencyAccess& access : lists_.transparency_access) {
    if (access.Names(institution) && access.validity.Contains(day)) return &access;
  }
  return nullptr;
}

bool IsDirectIdentifierField(std::string_view field) {
  // Names and contact details. National numbers are not in the list: the
  // extract replaces every one of them, wherever it is, by its pseudonym.
  static constexpr std::string_view kFields[] = {
      "last_name", "first_names", "first_name", "name",   "birth_name", "street",
      "house_number", "box",      "email",      "phone",  "mobile",     "iban"};
  return std::find(std::begin(kFields), std::end(kFields), field) != std::end(kFields);
}

const InstitutionType& Definition::TypeOf(const Institution& institution) const {
  const InstitutionType* type = FindInstitutionType(institution.type);
  // The loader refuses an institution whose type does not exist: a broken
  // invariant here is a bug, not bad input.
  if (type == nullptr) std::abort();
  return *type;
}

}  // namespace carrefour::network
