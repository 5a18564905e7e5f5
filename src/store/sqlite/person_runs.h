// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <span>

#include "audit/record.h"
#include "core/status.h"
#include "store/sqlite/connection.h"

namespace carrefour::store::sqlite {

// The audit log's person index on SQLite, as sorted runs (docs/store.md,
// "The audit log's person index").
//
// A B-tree keyed by person number takes every new record on a random leaf
// page: a commit of 1000 records rewrote about as many pages, and more as
// the log grew. Here a record's entry goes to the one open run, a few dozen
// pages; a run that holds `run_entries` is sealed; `fanout` sealed runs of
// one level are merged, in key order, into one run of the next level, a
// slice at a time inside the writers' own transactions, and the merged runs
// are then deleted, a slice at a time too. Every entry is written once per
// level, on pages filled in order.
//
// Table audit_person holds the entries, keyed (run, niss, time_us, node,
// seq); audit_person_run holds each run's level, size and state. A
// person's look-up (kPersonRecords) reads one key range per live run: about
// fanout × levels of them.
struct PersonRunShape {
  int64_t run_entries = 4096;
  int64_t fanout = 8;  // 2 to kMaxFanout
  // Merge work per write: two entries per new entry and level, and at
  // least this many, so that a trickle of single records moves merges on.
  int64_t min_slice = 256;
  static constexpr int64_t kMaxFanout = 16;
};

// Indexes the `records` that name a person, inside the caller's write
// transaction, and moves the merges forward by a slice proportional to
// their number.
Status IndexPersons(Connection& connection, std::span<const audit::Record> records,
                    const PersonRunShape& shape = {});

// The runs a look-up reads: the open one, the sealed ones, and those being
// merged (their merge's target is not read until it is complete).
#define CARREFOUR_LIVE_PERSON_RUNS "SELECT run FROM audit_person_run WHERE state <= 2"

}  // namespace carrefour::store::sqlite
