// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace carrefour::store {

// One person of the BIS register as stored. Plain columns: the bis module
// (src/bis) gives them their meaning and computes the blocking keys.
struct BisRow {
  std::string niss;  // 11 digits
  std::string last_name;
  std::string first_names;
  std::optional<int> birth_year;  // nullopt: unknown
  int birth_month = 0;            // 0: unknown
  int birth_day = 0;              // 0: unknown
  int sex = 0;                    // 0 unknown, 1 male, 2 female
  std::string nationality;        // "": unknown
  std::string created_by;         // the institution that asked for the number
  int64_t created_us = 0;
  int64_t updated_us = 0;
  bool forced = false;  // created despite possible duplicates ("force": true)
  // Set when an identity replacement (person.niss-replaced, the mutations'
  // niss_replacement table) retired this number.
  std::optional<std::string> replaced_by;

  friend bool operator==(const BisRow&, const BisRow&) = default;
};

// A run of numbers that share their birth-date part and sex (one YYMMDD and
// serial parity): `key` identifies it for good, `capacity` is how many
// numbers it holds. Its numbers are handed out as ordinals 1, 2, ...,
// capacity, each once, ever.
struct SerialBlock {
  int64_t key = 0;
  int capacity = 0;
};

// A person to create: the identity (niss is ignored: it is assigned), its
// blocking keys, and the blocks its number may come from, in order of
// preference (the birth date's own block, then the overflow blocks).
struct NewBisPerson {
  BisRow row;
  std::vector<int64_t> keys;
  std::vector<SerialBlock> blocks;
};

// What UpdateIdentity found and did.
struct BisUpdate {
  BisRow row;            // as stored afterwards
  bool changed = false;  // whether any identity column changed
};

// Sees the stored persons that share a lookup key with the person being
// created; an error (possible-duplicate) stops the creation.
using CheckCandidates = std::function<Status(const std::vector<BisRow>& candidates)>;
// The number of ordinal `ordinal` of block `block` (an index into
// NewBisPerson::blocks).
using ComposeNumber = std::function<Result<std::string>(size_t block, int ordinal)>;

// The BIS register's storage (docs/bis.md): persons, their blocking keys,
// and the serial counters of the number blocks. Both engines implement it
// with the same semantics.
//
// Thread safety: every method may be called from any number of threads, and
// from several processes sharing a PostgreSQL database.
//
// Errors of a whole call: kUnavailable when the database cannot be reached or
// stays busy, kInternal for any other database failure.
class BisStore {
 public:
  virtual ~BisStore() = default;

  // Creates a person, durable when it returns, in one transaction that is
  // serialized with every other creation (also across hub processes, so
  // that two clerks creating the same person at once cannot both miss the
  // other):
  //  1. reads the persons sharing one of `lookup_keys` (at most
  //     kMaxCandidates) and hands them to `check`; its error ends the call
  //     with nothing written;
  //  2. takes the next unused ordinal of the first block of `person.blocks`
  //     that has one left, has `compose` make the number of it, and stores
  //     the person with its keys. A number some person already holds
  //     without its counter knowing (a register imported with its numbers)
  //     is skipped: the next ordinal is taken.
  // Returns the number. unavailable when every block is full; errors of
  // `check` and `compose` as they come. Numbers are never reused: the block
  // counters only grow, in the same transaction as the person (a creation
  // rolled back told nobody its number).
  virtual Result<std::string> Create(const NewBisPerson& person,
                                     std::span<const int64_t> lookup_keys,
                                     const CheckCandidates& check, const ComposeNumber& compose,
                                     int64_t now_us) = 0;

  // The persons indexed under any of `keys`, at most `limit` of them (in no
  // particular order).
  virtual Result<std::vector<BisRow>> FindByKeys(std::span<const int64_t> keys, size_t limit) = 0;

  // The person with this number, if the register has one.
  virtual Result<std::optional<BisRow>> Find(std::string_view niss) = 0;

  // Replaces the identity columns (names, birth date, sex, nationality) of
  // `niss` and its blocking keys with `keys`; updated_us becomes `now_us`
  // when anything changed. nullopt when the register has no such person.
  virtual Result<std::optional<BisUpdate>> UpdateIdentity(std::string_view niss,
                                                       const BisRow& identity,
                                                       std::span<const int64_t> keys,
                                                       int64_t now_us) = 0;

  // How many persons the register holds.
  virtual Result<int64_t> Count() = 0;

  // A search reads at most this many persons: a blocking key shared by
  // more is too common to tell anything (and never the only key of a search).
  static constexpr size_t kMaxCandidates = 2000;
};

}  // namespace carrefour::store
