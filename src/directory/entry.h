// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <string>
#include <vector>

#include "core/date.h"
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

}  // namespace carrefour::directory
