// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/record.h"
#include "audit/storage.h"
#include "core/date.h"
#include "core/result.h"

namespace carrefour::store {

// One subscriber's copy of a mutation: which fields of the mutation's `data`
// it may receive. The payload is stored once; a feed cuts it per copy.
struct MutationCopy {
  std::string subscriber;  // institution id
  // The names of the fields of `data` it gets; nullopt = all of them.
  std::optional<std::vector<std::string>> fields;
};

// A mutation to accept (docs/api.md section 4.3), validated by the mutations
// module: niss normalized, data cut to what its subscribers may receive.
struct NewMutation {
  std::string source;  // the publishing institution
  std::string id;      // unique per source
  std::string data_type;
  std::string niss;  // 11 digits
  Date effective;
  // JSON object text: only the fields some subscriber may receive (stored
  // once, forgotten when the last copy is acknowledged or expires).
  std::string data;
  std::vector<MutationCopy> copies;  // one per subscriber; may be empty
  // Identity replacement (person.niss-replaced): when set and the mutation is
  // accepted, the person's directory entries move from `niss` to this number
  // in the same transaction, and the replacement is recorded.
  std::optional<std::string> replaced_by;
};

// One delivery as a feed returns it.
struct Delivery {
  int64_t cursor = 0;  // per subscriber, increasing in acceptance order
  std::string id;
  std::string source;
  std::string data_type;
  std::string niss;
  Date effective;
  std::string data;  // JSON object text: only the copy's fields
  int64_t accepted_us = 0;
};

// A recorded identity replacement: `old_niss` became `new_niss`.
struct NissReplacement {
  std::string old_niss;
  std::string new_niss;
  Date effective;
  int64_t replaced_us = 0;
};

// What waits in one subscriber's feed (for /metrics).
struct FeedBacklog {
  std::string subscriber;
  int64_t pending = 0;           // deliveries not yet acknowledged
  int64_t oldest_accepted_us = 0;  // of the oldest of them; 0 when none
};

// A delivery not yet acknowledged by its subscriber, as the console lists
// them for one person: references only, never the copy's data.
struct PendingDelivery {
  std::string subscriber;
  int64_t cursor = 0;
  std::string id;  // the mutation's id at its source
  std::string source;
  std::string data_type;
  Date effective;
  int64_t accepted_us = 0;
};

// What a retention pass removed.
struct PurgeCounts {
  int64_t expired_deliveries = 0;  // unacknowledged, older than the retention
  int64_t forgotten_mutations = 0;  // identity rows past retention, no copy left
};

// The audit trail of a batch, written in the accepting transaction: given
// whether each mutation was accepted (true) or a duplicate, it returns the
// records to write, chained (audit::AuditLog::AppendWith), and the chain's
// checkpoint after them. `read` reads feeds inside that transaction (its
// own deliveries included; as DeliveriesAfter): waiting feed reads are
// answered, and their records written, with the publication that wakes
// them. May be called again if the transaction is retried.
struct ChainedRecords {
  std::vector<audit::Record> records;
  audit::Checkpoint checkpoint;
};
using FeedReader = std::function<Result<std::vector<Delivery>>(std::string_view subscriber,
                                                               int64_t after, size_t limit)>;
using AuditTrail = std::function<Result<ChainedRecords>(const std::vector<bool>& accepted,
                                                        const FeedReader& read)>;

// A subscriber's acknowledgement: its deliveries up to `acknowledged`
// (inclusive) may go. Cumulative: a later one covers an earlier one.
struct FeedAck {
  std::string subscriber;
  int64_t acknowledged = 0;
};

// The mutations' storage (docs/api.md section 4.3): accepted mutations (their
// identity, for duplicate detection), per-subscriber deliveries with their
// cursors, and identity replacements. Both engines implement it with the
// same semantics; docs/mutations.md has the schema and the cursor scheme.
//
// Thread safety: every method may be called from any number of threads, and
// from several processes sharing a PostgreSQL database.
//
// Errors of a whole call: kUnavailable when the database cannot be reached or
// stays busy, kInternal for any other database failure.
class MutationStore {
 public:
  virtual ~MutationStore() = default;

  // Accepts `mutations` in one transaction, durable when it returns. For
  // each, true = accepted, false = duplicate (the source already published
  // that id, within retention, or earlier in this batch). Accepted ones get
  // one delivery per copy; each subscriber's cursors are assigned in the
  // order of `mutations` and are greater than any it was given before, also
  // across processes: a reader of a feed never sees a later cursor commit
  // before an earlier one. With `trail`, its audit records and checkpoint
  // are written in the same transaction (one durable write per batch); an
  // error of `trail` rolls everything back. `acks` (at most one per
  // subscriber) release their deliveries up to their cursor (inclusive; a
  // payload goes with the last copy of it) first, in the same transaction:
  // acknowledging feeds shares the publications' durable write (group
  // commit). With no mutations, it only acknowledges (and writes `trail`).
  virtual Result<std::vector<bool>> AcceptMutations(std::span<const NewMutation> mutations,
                                                    int64_t now_us,
                                                    const AuditTrail& trail = nullptr,
                                                    std::span<const FeedAck> acks = {}) = 0;

  // At most `limit` of `subscriber`'s deliveries after `after`, in cursor
  // order, each cut to its fields; writes nothing. (The mutation service
  // reads first, then writes the acknowledgement with the read's audit
  // record through AcceptMutations: one durable write per feed read.)
  virtual Result<std::vector<Delivery>> DeliveriesAfter(std::string_view subscriber,
                                                        int64_t after, size_t limit) = 0;

  // Whether `subscriber` has a delivery after `cursor` (cheap; for waiters).
  virtual Result<bool> HasDeliveriesAfter(std::string_view subscriber, int64_t cursor) = 0;

  // Removes deliveries accepted before `cutoff_us` (expired) and the
  // identity rows of mutations accepted before it that no delivery needs.
  virtual Result<PurgeCounts> Purge(int64_t cutoff_us) = 0;

  // Every subscriber with pending deliveries.
  virtual Result<std::vector<FeedBacklog>> Backlog() = 0;

  // The deliveries about `niss` that wait in some subscriber's feed, oldest
  // first, at most `limit`.
  virtual Result<std::vector<PendingDelivery>> PendingDeliveriesOf(std::string_view niss,
                                                                   size_t limit) = 0;

  // The replacement of `niss`, if that number was replaced.
  virtual Result<std::optional<NissReplacement>> ReplacementOf(std::string_view niss) = 0;
};

}  // namespace carrefour::store
