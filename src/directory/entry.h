// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "core/status.h"

namespace carrefour::directory {

// One line of the person directory ("who-where-how-when"): `institution`
// holds a file on person `niss` in `capacity` during `period`. References
// only, never substantive data.
//
// An entry is identified by (niss, institution, capacity, period.from).
struct Entry {
  std::string niss;         // 11 digits, normalized (niss::Normalize)
  std::string institution;  // institution id
  std::string capacity;
  Period period;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// What an integration asks of one entry (docs/api.md section 4.1).
// Do not renumber: persistent format (stored in the audit log).
enum class EntryAction : int {
  kAdd = 0,     // declare the entry; idempotent
  kClose = 1,   // set `to` on the existing entry with the same identity
  kRemove = 2,  // delete the existing entry with the same identity
};

struct EntryChange {
  EntryAction action = EntryAction::kAdd;
  Entry entry;  // for kClose, entry.period.to is the new end
};

// The outcome of one change of a batch: ok, or why it was rejected.
struct EntryResult {
  size_t index = 0;
  Status status;
};

// The rules of applying changes that need no SQL, shared by both store
// engines and the in-memory PersonDirectory so that all of them answer with
// the same words (docs/api.md section 4.1).

// The 11 digits of a normalized NISS as an integer (the store's key column,
// PersonDirectory's key); leading zeros come back through NissFromKey.
// invalid-niss when `niss` is not 11 digits.
Result<int64_t> NissKey(std::string_view niss);
// The same without a Status, for a hot path: kNotANiss (which no number
// is) when `niss` is not 11 digits. No allocation.
inline constexpr uint64_t kNotANiss = 100'000'000'000;
uint64_t NissNumber(std::string_view niss);
std::string NissFromKey(int64_t key);

// The checks that need no stored state: close needs a `to`, and no period
// of an add or a close may end before it starts.
Status PrecheckChange(const EntryChange& change);

// add of `wanted` when an entry with its identity already ends at
// `existing_to` (nullopt = open-ended): ok when identical, else the rejection.
Status CompareExisting(const Entry& wanted, std::optional<Date> existing_to);

// close or remove of an entry the institution does not have.
Status EntryNotFound(const Entry& entry);

}  // namespace carrefour::directory
