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

bool Subscription::Names(const Institution& candidate) const {
  return institution.empty() ? institution_type == candidate.type
                             : institution == candidate.id;
}

Definition::Definition(std::string source, std::vector<InstitutionType> institution_types,
                       std::vector<Institution> institutions, std::vector<DataType> data_types,
                       std::vector<Availability> availability,
                       std::vector<Authorization> authorizations,
                       std::vector<Subscription> subscriptions)
    : source_(std::move(source)),
      institution_types_(std::move(institution_types)),
      institutions_(std::move(institutions)),
      data_types_(std::move(data_types)),
      availability_(std::move(availability)),
      authorizations_(std::move(authorizations)),
      subscriptions_(std::move(subscriptions)) {
  for (size_t i = 0; i < institution_types_.size(); ++i) type_index_.emplace(institution_types_[i].id, i);
  for (size_t i = 0; i < institutions_.size(); ++i) institution_index_.emplace(institutions_[i].id, i);
  for (size_t i = 0; i < data_types_.size(); ++i) data_type_index_.emplace(data_types_[i].id, i);
}

const InstitutionType* Definition::FindInstitutionType(std::string_view id) const {
  auto it = type_index_.find(id);
  return it == type_index_.end() ? nullptr : &institution_types_[it->second];
}

const Institution* Definition::FindInstitution(std::string_view id) const {
  auto it = institution_index_.find(id);
  return it == institution_index_.end() ? nullptr : &institutions_[it->second];
}

const DataType* Definition::FindDataType(std::string_view id) const {
  auto it = data_type_index_.find(id);
  return it == data_type_index_.end() ? nullptr : &data_types_[it->second];
}

const InstitutionType& Definition::TypeOf(const Institution& institution) const {
  const InstitutionType* type = FindInstitutionType(institution.type);
  // The loader refuses an institution whose type does not exist: a broken
  // invariant here is a bug, not bad input.
  if (type == nullptr) std::abort();
  return *type;
}

}  // namespace carrefour::network
