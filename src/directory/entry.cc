// SPDX-License-Identifier: EUPL-1.2
#include "directory/entry.h"

#include <fmt/format.h>

namespace carrefour::directory {
namespace {

std::string EndText(std::optional<Date> to) {
  return to ? "until " + to->ToString() : std::string("with no end");
}

}  // namespace

uint64_t NissNumber(std::string_view niss) {
  if (niss.size() != 11) return kNotANiss;
  uint64_t number = 0;
  for (char c : niss) {
    if (c < '0' || c > '9') return kNotANiss;
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  return number;
}

Result<int64_t> NissKey(std::string_view niss) {
  // The directory module normalizes numbers before they get here; this is
  // the store (or PersonDirectory) protecting its key, not user-facing
  // validation.
  const uint64_t number = NissNumber(niss);
  if (number == kNotANiss) {
    return Error(InvalidNiss(fmt::format("'{}' is not an 11-digit number", niss)));
  }
  return static_cast<int64_t>(number);
}

std::string NissFromKey(int64_t key) { return fmt::format("{:011}", key); }

Status PrecheckChange(const EntryChange& change) {
  const Period& period = change.entry.period;
  if (change.action == EntryAction::kClose && !period.to) {
    return InvalidRequest("close needs the end of the entry ('to')");
  }
  if (change.action != EntryAction::kRemove && period.to && *period.to < period.from) {
    return InvalidPeriod(fmt::format("the entry would end ({}) before it starts ({})",
                                     period.to->ToString(), period.from.ToString()));
  }
  return OkStatus();
}

Status CompareExisting(const Entry& wanted, std::optional<Date> existing_to) {
  if (wanted.period.to == existing_to) return OkStatus();
  return InvalidRequest(fmt::format(
      "an entry for this person in capacity '{}' starting {} already exists {}; to change "
      "its end, close it (or remove it and add it again)",
      wanted.capacity, wanted.period.from.ToString(), EndText(existing_to)));
}

Status EntryNotFound(const Entry& entry) {
  return NotFound(fmt::format("{} has no entry for this person in capacity '{}' starting {}",
                              entry.institution, entry.capacity, entry.period.from.ToString()));
}

}  // namespace carrefour::directory
