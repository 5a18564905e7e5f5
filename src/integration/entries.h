// SPDX-License-Identifier: EUPL-1.2
#pragma once
// POST /v1/directory/entries (docs/api.md section 4.1): an institution's
// batch of entry changes read from its JSON body, each checked as the
// caller's (directory::ValidateEntryChange), the valid ones applied in one
// store transaction, and the answer written. EntriesService
// (entries_service.h) wraps these in the batch's audit record; the fuzz
// target api_bodies_fuzz calls them as the service does.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "directory/entry.h"
#include "network/model.h"
#include "store/directory_store.h"

namespace carrefour::integration {

// docs/api.md section 4.1: a bigger batch is refused whole.
inline constexpr size_t kMaxEntriesPerBatch = 10000;

// A batch as read and checked: one outcome per entry of the body, in order,
// and the changes still to apply (their index in `results` beside them).
struct EntriesBatch {
  std::vector<Status> results;
  std::vector<directory::EntryChange> valid;
  std::vector<size_t> valid_index;
};

// Reads {"entries": [{"action", "niss", "capacity", "from", "to"}, ...]} for
// `caller`. The whole batch is refused with invalid-json or invalid-request
// (not an object, an unknown key, no list, more than kMaxEntriesPerBatch);
// an entry that cannot be read or is not allowed is rejected on its own.
Result<EntriesBatch> ReadEntries(std::string_view body, const network::Definition& definition,
                                 const network::Institution& caller, Date today);

// Applies batch->valid in one transaction and records each outcome in
// batch->results. The store's error is returned as it came (nothing applied).
Status ApplyEntries(EntriesBatch* batch, store::DirectoryStore& directory);

// The 200 answer: {"results": [{"index": i, "status": "ok"} or
// {"index": i, "status": "rejected", "error": {"code", "message"}}]}.
std::string WriteEntriesAnswer(const EntriesBatch& batch);

// How many of batch.results are rejections.
size_t RejectedCount(const EntriesBatch& batch);

}  // namespace carrefour::integration
