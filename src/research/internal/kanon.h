// SPDX-License-Identifier: EUPL-1.2
#pragma once

// k-anonymity on the declared quasi-identifiers (docs/research.md).
//
// Every released person shares the combination of their quasi-identifier
// values with at least k - 1 others. To get there, whole quasi-identifiers
// are generalized one ladder step at a time (global recoding, the Datafly
// heuristic: the one with the most distinct values first) until the persons
// still in groups smaller than k are few enough to suppress (at most
// `max_suppressed`); those persons are then left out of the extract.
// Suppressed persons are removed, not blanked: a lone row of "*" would still
// single its person out to whoever knows they are in the cohort.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "research/internal/generalize.h"

namespace carrefour::research::internal {

// A person's level-0 values of one quasi-identifier: usually one, several
// when the data type answers a list (each row's value), none when nothing
// came back.
using QiValues = std::set<std::string>;

struct KAnonymity {
  std::vector<size_t> levels;    // the released level of each quasi-identifier
  std::vector<bool> suppressed;  // per person
  size_t suppressed_count = 0;
  size_t groups = 0;          // released groups
  size_t smallest_group = 0;  // persons in the smallest released group (0: none)
};

// `persons[p][q]`: person p's values of quasi-identifier q (ladders[q]).
// Pure; cost O(persons x quasi-identifiers x steps).
KAnonymity MakeKAnonymous(const std::vector<Ladder>& ladders,
                          const std::vector<std::vector<QiValues>>& persons, size_t k,
                          size_t max_suppressed);

// The group key of one person at `levels`: each quasi-identifier's values at
// its level, distinct and sorted, joined by "|"; the quasi-identifiers
// separated by a byte no value contains.
std::string GroupKey(const std::vector<Ladder>& ladders, const std::vector<QiValues>& person,
                     const std::vector<size_t>& levels);

}  // namespace carrefour::research::internal
