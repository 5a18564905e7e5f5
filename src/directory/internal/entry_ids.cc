// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/entry_ids.h"

#include <unordered_set>

namespace carrefour::directory::internal {

EntryIds::EntryIds(const network::Definition& definition) {
  std::vector<std::string_view> ids;
  for (const network::Institution& institution : definition.institutions()) {
    ids.push_back(institution.id);
  }
  institution_count_ = static_cast<uint32_t>(ids.size());
  institutions_ = IdIndex(std::move(ids));

  std::unordered_set<std::string_view> seen;
  auto add = [&](std::string_view name) {
    if (seen.insert(name).second) capacity_names_.push_back(name);
  };
  for (const network::InstitutionType& type : definition.institution_types()) {
    for (const std::string& capacity : type.capacities) add(capacity);
  }
  for (const network::Availability& availability : definition.availability()) {
    if (availability.capacity) add(*availability.capacity);
  }
  for (const network::Authorization& authorization : definition.authorizations()) {
    add(authorization.capacity);
  }
  for (const network::Subscription& subscription : definition.subscriptions()) {
    add(subscription.capacity);
  }
  capacities_ = IdIndex(capacity_names_);
}

}  // namespace carrefour::directory::internal
