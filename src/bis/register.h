// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The BIS register itself (DESIGN.md element 5, docs/bis.md): assigns BIS
// numbers after looking for duplicates, keeps the identities, searches them.
// No HTTP, no JSON here (bis/service.h speaks the API).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bis/identity.h"
#include "bis/matcher.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/bis_store.h"

namespace carrefour::bis {

// A person of the register.
struct Person {
  std::string niss;
  Identity identity;
  std::string created_by;  // the institution that asked for the number
  int64_t created_us = 0;
  int64_t updated_us = 0;
  bool forced = false;  // created despite possible duplicates
  // The number that replaced this one (person.niss-replaced), if any.
  std::optional<std::string> replaced_by;
};

// A stored person that looks like the one searched for.
struct Candidate {
  Person person;
  Match match;
};

// What Assign did. `niss` is empty when nothing was created because of
// `candidates` (possible duplicates, best first); with force, the number is
// assigned and `candidates` says what was overridden.
struct Assignment {
  std::string niss;
  std::vector<Candidate> candidates;
};

// The number blocks a person's number may come from, in order (docs/bis.md,
// "Numbers"): the birth date's own YYMMDD (with the BIS month), then, when
// its serials have run out and the year is known, the blocks of month 00
// with DD 01-99 of that year, which docs/api.md section 1 reserves for that.
// A wholly unknown birth date has one block only. Exposed for tests.
struct NumberBlock {
  store::SerialBlock serial;
  std::optional<int> year;
  int month = 0;
  int day = 0;  // DD as written: a day, 0, or the overflow's 1-99
};
std::vector<NumberBlock> BlocksFor(const BirthDate& date, niss::Sex sex);
// The serial of the `ordinal`-th number of a block (1-based): odd for men,
// even for women, any for an unknown sex.
int SerialFor(niss::Sex sex, int ordinal);

// Thread-safe (the store is); the store and the clock must outlive it.
class Register {
 public:
  // At most this many candidates are reported.
  static constexpr size_t kMaxCandidates = 10;

  Register(store::BisStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Looks for possible duplicates of `identity` (score >= kDuplicateScore)
  // and, when there are none or `force` is set, assigns the next number of
  // its birth date and sex and stores the person, all in one serialized
  // transaction (store/bis_store.h). `identity` must be valid
  // (IdentityFromJson). Errors: unavailable when no number is left for that
  // birth date (or the store fails).
  Result<Assignment> Assign(const Identity& identity, bool force, std::string_view created_by);

  // The possible duplicates of `identity` in the register, best first.
  Result<std::vector<Candidate>> FindDuplicates(const Identity& identity) const;

  // A search by name (and birth date, when known) for people, not for a
  // creation: also reads everyone with a last name that sounds the same,
  // and keeps the `limit` best with a score of at least `min_score`.
  Result<std::vector<Candidate>> Search(const Identity& query, size_t limit,
                                        double min_score) const;

  Result<std::optional<Person>> Find(std::string_view niss) const;

  // Replaces the identity of `niss` (valid, as for Assign). nullopt when
  // the register has no such person; `changed` tells whether anything did.
  struct Updated {
    Person person;
    bool changed = false;
  };
  Result<std::optional<Updated>> Update(std::string_view niss, const Identity& identity);

  Result<int64_t> Count() const { return store_.Count(); }

 private:
  std::vector<Candidate> Rank(const Matcher& matcher, const std::vector<store::BisRow>& rows,
                              double min_score, size_t limit) const;

  store::BisStore& store_;
  const Clock& clock_;
};

}  // namespace carrefour::bis
