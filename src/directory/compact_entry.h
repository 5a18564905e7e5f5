// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A directory entry in 16 bytes, for decisions over a large in-memory
// directory (PersonDirectory, DecisionEngine::Decide's compact overload).
// Ids are numbers instead of strings so that a decision compares integers
// and a person's entries share one or two cache lines.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/date.h"

namespace carrefour::network {
class Definition;
}  // namespace carrefour::network

namespace carrefour::directory {

struct CompactEntry {
  // Ends of a period as days since 1970-01-01; kOpenEnd for no end. Not
  // Date::Max(): an entry that really ends on 9999-12-31 must still be told
  // from an open one (refusal messages print the period).
  static constexpr int32_t kOpenEnd = INT32_MAX;

  // Index in Definition::institutions() when below their count; an
  // institution the definition does not know (an entry made before a
  // definition change) has a number from that count on, which never
  // matches a requester, a provider or a subscriber.
  uint32_t institution = 0;
  // The definition's capacities first (internal/entry_ids.h numbers them),
  // then the ones it does not know, named by PersonEntries.
  uint32_t capacity = 0;
  int32_t from = 0;
  int32_t to = kOpenEnd;

  Period period() const {
    Period period{Date::FromDays(from), std::nullopt};
    if (to != kOpenEnd) period.to = Date::FromDays(to);
    return period;
  }
  friend bool operator==(const CompactEntry&, const CompactEntry&) = default;
};
static_assert(sizeof(CompactEntry) == 16);

// One person's entries as the decision engine reads them: the entries, and
// the names of the capacities the definition does not know (the capacity
// numbered known_count + i is unknown_capacities[i]), which a refusal may
// have to quote and a request may name.
//
// `definition` is the network::Definition the ids were given for: the
// engine checks it is its own (ids of another definition mean nothing).
struct PersonEntries {
  std::span<const CompactEntry> entries;
  std::span<const std::string_view> unknown_capacities;
  const network::Definition* definition = nullptr;
};

}  // namespace carrefour::directory
