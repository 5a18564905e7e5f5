// SPDX-License-Identifier: EUPL-1.2
// How the network loader reports: problems collected per source with their
// lines (Reporter), what reading one key gave (Read, Item), and the helpers
// its messages use (Join, Suggestion). Internal to the network module.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "network/loader.h"

namespace carrefour::network::internal {

inline bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

inline bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

template <typename Range>
std::string Join(const Range& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) out += ", ";
    out += value;
  }
  return out;
}

inline size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Singular and plural ("capacity" for "capacities") are further apart than
// typos are, yet the commonest slip in a key or an id: they share all but
// the last letter of the shorter.
inline bool SameStem(std::string_view a, std::string_view b) {
  std::string_view shorter = a.size() <= b.size() ? a : b;
  std::string_view longer = a.size() <= b.size() ? b : a;
  return shorter.size() >= 5 && longer.starts_with(shorter.substr(0, shorter.size() - 1));
}

// The candidate closest to `wrong` when it is close enough to be a typo
// ("mutualty" for "mutuality"); empty otherwise. Ties go to the smallest
// candidate so that messages do not depend on hash order.
template <typename Range>
std::string ClosestMatch(std::string_view wrong, const Range& candidates) {
  const size_t limit = std::min<size_t>(2, wrong.size() / 3 + 1);
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    std::string_view name(candidate);
    size_t distance = SameStem(wrong, name) ? 1 : EditDistance(wrong, name);
    if (distance < best_distance || (distance == best_distance && name < best)) {
      best = std::string(name);
      best_distance = distance;
    }
  }
  return best_distance <= limit ? best : std::string();
}

template <typename Range>
std::string Suggestion(std::string_view wrong, const Range& candidates) {
  std::string match = ClosestMatch(wrong, candidates);
  return match.empty() ? std::string() : fmt::format("; did you mean '{}'?", match);
}

// Collects the problems of one source. Order of discovery does not matter:
// Take() sorts them into file order.
class Reporter {
 public:
  explicit Reporter(std::string source) : source_(std::move(source)) {}

  void Error(int line, std::string message) {
    diagnostics_.push_back(Diagnostic{source_, line, std::move(message)});
  }
  bool empty() const { return diagnostics_.empty(); }
  const std::string& source() const { return source_; }

  Diagnostics Take() && {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return std::move(diagnostics_);
  }

 private:
  std::string source_;
  Diagnostics diagnostics_;
};

// What reading one key of a table gave: `value` is set when the key is
// present and well-formed (anything else has been reported already).
template <typename T>
struct Read {
  std::optional<T> value;
  bool present = false;
  int line = 0;  // the value's line, or the table's when the key is absent

  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

// An element of a list, with its own line for messages about it.
struct Item {
  std::string value;
  int line = 0;
};

}  // namespace carrefour::network::internal
