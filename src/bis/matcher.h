// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Duplicate detection (docs/bis.md, "Matching"): how much two identities
// look like one person, and the blocking keys that find the few persons of
// a large register worth comparing. Pure: no I/O, safe from any thread.
//
//   Matcher matcher(query);                       // once per search
//   for (const Identity& stored : candidates)     // from the keys' blocks
//     if (Match m = matcher.Against(stored); m.score >= kDuplicateScore) ...

#include <cstdint>
#include <string>
#include <vector>

#include "bis/identity.h"
#include "bis/names.h"

namespace carrefour::bis {

// How alike two identities are. `score` is the evidence that they are one
// person, as a share of the evidence of an exact match (1.0; 0.0 and below
// is clamped); `reasons` name what agreed and what did not, strongest
// first ("last-name-equal", "birth-date-day-month-swapped"...; the list is
// in docs/bis.md).
struct Match {
  double score = 0.0;
  std::vector<std::string> reasons;
};

// From this score up, two identities are a possible duplicate: a creation is
// refused (409) unless forced. Chosen on the generated look-alike set
// (bis_matcher_test, docs/bis.md): precision and recall both above 95 %.
inline constexpr double kDuplicateScore = 0.55;

// A query identity with its name forms computed once.
class Matcher {
 public:
  explicit Matcher(Identity query);

  // Compares the query with a stored identity. The comparison is symmetric
  // in spirit (either side may have the unknown parts).
  Match Against(const Identity& stored) const;

  const Identity& query() const { return query_; }

 private:
  Identity query_;
  NameForms last_;
  NameForms first_;
};

// Blocking keys: 63-bit hashes of short texts such as "L|PTRS|1985" (same
// last-name sound, same birth year). A stored person is indexed under
// StoredKeys; a search looks up QueryKeys, which reach every stored person
// that could score as a duplicate: same full birth date (or day and month
// swapped), same last-name sound and birth year (or an unknown year), same
// first-name sound and year, same last- and first-name sounds (any date,
// either order). SearchKeys adds the last-name sound alone, for the
// administrator's name search.
std::vector<int64_t> StoredKeys(const Identity& identity);
std::vector<int64_t> QueryKeys(const Identity& identity);
std::vector<int64_t> NameSearchKeys(const Identity& identity);

}  // namespace carrefour::bis
