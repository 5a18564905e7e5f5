// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Bulk integration of the person directory (docs/api.md section 2,
// `carrefour directory import`): institutions declare their files in a CSV
//
//   institution,niss,capacity,from,to
//   mut-100,85.07.30-033.28,insured,2020-01-01,
//
// (a header line is allowed; an empty `to` is open-ended). Start here.

#include <cstdint>
#include <functional>
#include <istream>

#include "core/date.h"
#include "core/result.h"
#include "network/model.h"
#include "store/directory_store.h"

namespace carrefour::integration {

// A line that was not imported, and why.
struct Rejection {
  uint64_t line = 0;  // 1-based, counting every line of the file
  Status status;
};

// Counts so far; `lines` are the entry lines read (not the header or blank
// lines), each either accepted or rejected once stored.
struct ImportCounts {
  uint64_t lines = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  uint64_t bytes = 0;  // of the input consumed, for a progress bar
};

struct ImportOptions {
  // Entries per store transaction: large enough to amortize the commit,
  // small enough to keep memory flat (about 150 bytes per entry).
  size_t batch_size = 10'000;
  // The day that decides whether a birth in the 2000s is possible in a number
  // (niss::Normalize).
  Date today;
  // Each rejected line, in line order.
  std::function<void(const Rejection&)> on_rejection;
  // After each batch is stored.
  std::function<void(const ImportCounts&)> on_progress;
};

// Reads `csv` line by line and adds its entries to `directory` in batches,
// in constant memory whatever the size of the file. Each line is checked on
// its own like an API integration by that institution (docs/api.md 4.1): a line
// with the wrong number of fields or broken quotes, an unknown institution,
// an invalid number, a capacity its type may not declare, a malformed date,
// an end before the start, or an entry that conflicts with a stored one
// (same identity, other end) is rejected with the reason; the others are
// stored (add is idempotent, so running an import twice is harmless).
//
// Errors of the whole import: when the input cannot be read or the store
// fails (kUnavailable/kInternal), with the line range in the message. The
// batches stored before that stay stored.
Result<ImportCounts> ImportDirectoryCsv(std::istream& csv, const network::Definition& definition,
                                        store::DirectoryStore& directory,
                                        const ImportOptions& options);

}  // namespace carrefour::integration
