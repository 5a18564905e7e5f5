// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <string_view>

namespace carrefour::store::internal {

// One step of an engine's schema history. Versions start at 1 and follow each
// other without gaps; version N means the same logical change in both engines.
// Do not renumber, reorder or edit a released migration: persistent format
// (databases record the versions they have applied). Add a new one instead.
struct Migration {
  int version;
  std::string_view description;
  const char* sql;  // one or more statements, no parameters
};

}  // namespace carrefour::store::internal
