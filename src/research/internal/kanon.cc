// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/kanon.h"

#include <unordered_map>
#include <unordered_set>

namespace carrefour::research::internal {

std::string GroupKey(const std::vector<Ladder>& ladders, const std::vector<QiValues>& person,
                     const std::vector<size_t>& levels) {
  std::string key;
  std::set<std::string> values;
  for (size_t q = 0; q < ladders.size(); ++q) {
    if (q > 0) key += '\x1f';
    values.clear();
    for (const std::string& value : person[q]) values.insert(ladders[q].At(value, levels[q]));
    bool first = true;
    for (const std::string& value : values) {
      if (!first) key += '|';
      key += value;
      first = false;
    }
  }
  return key;
}

KAnonymity MakeKAnonymous(const std::vector<Ladder>& ladders,
                          const std::vector<std::vector<QiValues>>& persons, size_t k,
                          size_t max_suppressed) {
  KAnonymity out;
  out.levels.assign(ladders.size(), 0);
  out.suppressed.assign(persons.size(), false);
  std::vector<std::string> keys(persons.size());
  std::unordered_map<std::string, size_t> sizes;

  while (true) {
    sizes.clear();
    for (size_t p = 0; p < persons.size(); ++p) {
      keys[p] = GroupKey(ladders, persons[p], out.levels);
      ++sizes[keys[p]];
    }
    size_t small = 0;
    for (const auto& [key, size] : sizes) {
      if (size < k) small += size;
    }
    if (small <= max_suppressed) break;

    // Datafly: generalize the quasi-identifier with the most distinct values
    // at its current level, among those that can still climb.
    size_t best = ladders.size();
    size_t best_distinct = 0;
    for (size_t q = 0; q < ladders.size(); ++q) {
      if (out.levels[q] >= ladders[q].top()) continue;
      std::unordered_set<std::string> distinct;
      for (const std::vector<QiValues>& person : persons) {
        for (const std::string& value : person[q])
          distinct.insert(ladders[q].At(value, out.levels[q]));
      }
      if (best == ladders.size() || distinct.size() > best_distinct) {
        best = q;
        best_distinct = distinct.size();
      }
    }
    // Every quasi-identifier is withheld already: one group holds everybody
    // (or, with no quasi-identifier at all, there is nothing to generalize);
    // what is still under k is suppressed below, whatever the budget.
    if (best == ladders.size()) break;
    ++out.levels[best];
  }

  std::unordered_map<std::string, size_t> released;
  for (size_t p = 0; p < persons.size(); ++p) {
    if (sizes[keys[p]] < k) {
      out.suppressed[p] = true;
      ++out.suppressed_count;
    } else {
      ++released[keys[p]];
    }
  }
  out.groups = released.size();
  for (const auto& [key, size] : released) {
    if (out.smallest_group == 0 || size < out.smallest_group) out.smallest_group = size;
  }
  return out;
}

}  // namespace carrefour::research::internal
