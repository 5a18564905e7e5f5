// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "directory/internal/id_index.h"
#include "network/model.h"

namespace carrefour::directory::internal {

// The numbers a CompactEntry gives to the institutions and capacities a
// definition knows. The same definition always gets the same numbers, so the
// decision engine and a PersonDirectory built on it agree without sharing
// anything:
//   institutions: their index in Definition::institutions();
//   capacities:   every distinct capacity the definition names, in this
//                 order: the institution types' (in their order), then the
//                 availability rows', authorizations' and subscriptions'
//                 (the loader guarantees these are declared by a type; a
//                 definition built by hand may name others, and string
//                 equality with an entry's capacity must still hold).
//
// The views point into the definition, which must outlive this object.
// Immutable once built; safe to share between threads.
class EntryIds {
 public:
  static constexpr uint32_t kNotFound = IdIndex::kNotFound;

  explicit EntryIds(const network::Definition& definition);

  uint32_t Institution(std::string_view id) const { return institutions_.Find(id); }
  uint32_t Capacity(std::string_view name) const { return capacities_.Find(name); }
  std::string_view CapacityName(uint32_t capacity) const { return capacity_names_[capacity]; }
  uint32_t institution_count() const { return institution_count_; }
  uint32_t capacity_count() const { return static_cast<uint32_t>(capacity_names_.size()); }

 private:
  IdIndex institutions_;
  IdIndex capacities_;
  std::vector<std::string_view> capacity_names_;
  uint32_t institution_count_ = 0;
};

}  // namespace carrefour::directory::internal
