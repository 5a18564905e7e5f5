// SPDX-License-Identifier: EUPL-1.2
#include "directory/integration.h"

#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "niss/niss.h"

namespace carrefour::directory {

Status ValidateEntryChange(const network::Definition& definition,
                           const network::Institution& caller, Date today, EntryChange* change) {
  Entry& entry = change->entry;
  Result<std::string> niss = niss::Normalize(entry.niss, today);
  if (!niss) return niss.error().WithContext(fmt::format("niss '{}'", entry.niss));
  entry.niss = *std::move(niss);

  if (change->action == EntryAction::kAdd) {
    const network::InstitutionType& type = definition.TypeOf(caller);
    if (!type.AllowsCapacity(entry.capacity)) {
      return CapacityNotAllowed(fmt::format(
          "institutions of type '{}' may not declare files of capacity '{}' (allowed: {})", type.id,
          entry.capacity, fmt::join(type.capacities, ", ")));
    }
  }
  if (change->action == EntryAction::kClose && !entry.period.to) {
    return InvalidRequest(
        fmt::format("closing the file of capacity '{}' from {} needs the day it ends ('to')",
                    entry.capacity, entry.period.from.ToString()));
  }
  if (Result<Period> period = Period::Make(entry.period.from, entry.period.to); !period) {
    return period.error();
  }

  entry.institution = caller.id;
  return OkStatus();
}

}  // namespace carrefour::directory
