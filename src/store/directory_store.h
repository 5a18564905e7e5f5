// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "directory/entry.h"

namespace carrefour::store {

// The person directory's storage ("who-where-how-when", docs/api.md 4.1): the
// section of a Store that holds directory entries. Both engines implement it
// with the same semantics and the same messages; docs/store.md has the schema.
//
// Thread safety: every method may be called from any number of threads at
// once (the engines keep a connection pool; see docs/store.md).
//
// Errors of a whole call (as opposed to the rejection of one entry):
// kUnavailable when the database cannot be reached or stays busy, kInternal
// for any other database failure, with the engine's message.
class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;

  // Applies `changes` in order and returns one result per change (index =
  // position in `changes`). The changes are expected to be validated and
  // normalized by the directory module already (niss = 11 digits, capacity
  // allowed, entry.institution = the caller); the store enforces only what
  // needs the stored state:
  //   add    - idempotent: the identical entry already present is ok. An
  //            entry with the same identity (niss, institution, capacity,
  //            from) but another `to` is rejected invalid-request ("... already
  //            exists until X; to change its end, close it ...").
  //   close  - sets `to` on the entry with that identity: not-found when the
  //            institution has none, invalid-period when to < from,
  //            invalid-request when `to` is missing.
  //   remove - deletes the entry with that identity: not-found when none.
  // Each entry is either fully applied or rejected (a rejection leaves no
  // trace). The whole batch is one transaction: when it fails, nothing is
  // applied and the error is returned. Durable when it returns. Batches of
  // any size are accepted (the 10 000 limit of the API is the caller's); the
  // bulk import uses batches of about 10 000 adds.
  virtual Result<std::vector<directory::EntryResult>> ApplyEntryChanges(
      std::span<const directory::EntryChange> changes) = 0;

  // The entries of person `niss` at every institution, ordered by
  // (institution, capacity, from). With `overlapping`, only the entries whose
  // period shares at least one day with it ("active on day d" =
  // Period::Day(d)). invalid-niss when `niss` is not 11 digits.
  virtual Result<std::vector<directory::Entry>> EntriesOfPerson(
      std::string_view niss, std::optional<Period> overlapping = {}) = 0;

  // The entries `institution` declared on person `niss`, in the same order.
  virtual Result<std::vector<directory::Entry>> EntriesOf(std::string_view institution,
                                                          std::string_view niss) = 0;

  // Research cohorts (docs/research.md): the distinct persons with an entry
  // of `capacity` at one of `institutions` whose period shares a day with
  // `overlapping`, as 11 digits in ascending order, strictly after `after`
  // ("" = from the first), at most `limit` of them. Keyset pagination: each
  // call is one short read however large the cohort, and a page never holds
  // a snapshot open while the caller works. invalid-niss when `after` is
  // neither empty nor 11 digits.
  virtual Result<std::vector<std::string>> PersonsWithEntries(
      std::span<const std::string> institutions, std::string_view capacity, Period overlapping,
      std::string_view after, size_t limit) = 0;

  // The entries of every person in `persons` (11 digits each), at every
  // institution, ordered by (niss, institution, capacity, from): one read
  // for a whole batch of persons (a research extract routes a thousand at a
  // time). invalid-niss when one is not 11 digits.
  virtual Result<std::vector<directory::Entry>> EntriesOfPersons(
      std::span<const std::string> persons) = 0;

  // --- The change log (docs/store.md, "The directory's change log") ------
  // For the hubs that keep the directory in memory (replica/
  // directory_replica.h): every commit that changes a person's entries,
  // whoever wrote it (any hub, `carrefour directory import`, an identity
  // replacement), appends that person's number at a position. Positions
  // grow in commit order: a reader that saw position p has seen every
  // change committed before p's. 0 is before the first.

  // What changed after a position.
  struct Changes {
    // Numbers (directory::NissNumber) whose entries changed, oldest first;
    // a person may come more than once.
    std::vector<uint64_t> persons;
    // The position to read after next time (`after` when nothing changed).
    uint64_t last = 0;
  };
  // The changes committed after position `after`, at most `limit` of them.
  virtual Result<Changes> ChangesAfter(uint64_t after, size_t limit) = 0;
  // The log's end now: every change committed so far is at or before it,
  // every later one after it.
  virtual Result<uint64_t> LastChange() = 0;
  // Forgets the changes at or before `position` (the last change may be
  // kept: positions never go back, even once the log is pruned to nothing).
  // A reader that fell that far behind reads the whole directory again.
  virtual Status ForgetChangesUpTo(uint64_t position) = 0;
  // The whole directory in pages: every entry of the first `persons`
  // persons whose number is above `after` (0 = from the first), ordered by
  // (niss, institution, capacity, from). An empty page is the end.
  virtual Result<std::vector<directory::Entry>> EntriesAfter(uint64_t after, size_t persons) = 0;

  // How many writes to the directory this process has made through this
  // Store (ApplyEntryChanges calls, mutation groups with an identity
  // replacement), counted once each returned, committed or not. A replica
  // that has not caught up with the log since the last count it saw knows
  // its copy may be behind this process's own writes.
  uint64_t writes() const { return writes_.load(std::memory_order_acquire); }
  void CountWrite() { writes_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  std::atomic<uint64_t> writes_{0};
};

}  // namespace carrefour::store
