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

// The NISS key and the rules of applying a change live in directory/entry.h
// (the in-memory PersonDirectory applies the same ones).
using directory::NissFromKey;
using directory::NissKey;

// Dates are stored as days since 1970-01-01 (Date's own representation).
inline int32_t DayKey(Date date) { return date.days_since_epoch(); }
inline Date DateFromKey(int64_t days) { return Date::FromDays(static_cast<int32_t>(days)); }

// The rules of add, close and remove that need no SQL.
using directory::CompareExisting;
using directory::EntryNotFound;
using directory::PrecheckChange;

}  // namespace carrefour::store::internal
