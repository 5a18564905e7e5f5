// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What both engines share about directory entries: how a NISS and a date are
// encoded in the schema, and the rules and messages that do not depend on the
// SQL dialect (so that both engines answer with the same words).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/date.h"
#include "core/result.h"
#include "directory/entry.h"

namespace carrefour::store::internal {

// The 11 digits of a normalized NISS as the integer stored in the `niss`
// column (leading zeros are restored by NissFromKey). invalid-niss otherwise.
Result<int64_t> NissKey(std::string_view niss);
std::string NissFromKey(int64_t key);

// Dates are stored as days since 1970-01-01 (Date's own representation).
inline int32_t DayKey(Date date) { return date.days_since_epoch(); }
inline Date DateFromKey(int64_t days) { return Date::FromDays(static_cast<int32_t>(days)); }

// The checks of ApplyEntryChanges that need no stored state: close needs a
// `to`, and no period may end before it starts.
Status PrecheckChange(const directory::EntryChange& change);

// add of `wanted` when an entry with its identity already ends at
// `existing_to` (nullopt = open-ended): ok when identical, else the rejection.
Status CompareExisting(const directory::Entry& wanted, std::optional<Date> existing_to);

// close or remove of an entry the institution does not have.
Status EntryNotFound(const directory::Entry& entry);

}  // namespace carrefour::store::internal
