// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace carrefour::directory::internal {

// Names a definition does not know (institutions and capacities of entries
// made before it changed), numbered from `first` (the count of those it
// knows) on, in the order they came. Rare, hence plain standard containers.
class ExtraNames {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;

  explicit ExtraNames(uint32_t first) : first_(first) {}
  ExtraNames(const ExtraNames&) = delete;
  ExtraNames& operator=(const ExtraNames&) = delete;

  uint32_t Find(std::string_view name) const {
    auto found = numbers_.find(name);
    return found == numbers_.end() ? kNotFound : found->second;
  }
  uint32_t Intern(std::string_view name) {
    if (uint32_t found = Find(name); found != kNotFound) return found;
    // A deque never moves its strings, so the views stay valid.
    const std::string& kept = names_.emplace_back(name);
    const uint32_t number = first_ + static_cast<uint32_t>(views_.size());
    views_.push_back(kept);
    numbers_.emplace(kept, number);
    return number;
  }
  // `number` must be one Intern gave.
  std::string_view Name(uint32_t number) const { return views_[number - first_]; }
  // Name(first + i) is views()[i].
  std::span<const std::string_view> views() const { return views_; }

 private:
  uint32_t first_;
  std::deque<std::string> names_;
  std::vector<std::string_view> views_;
  std::unordered_map<std::string_view, uint32_t> numbers_;
};

}  // namespace carrefour::directory::internal
