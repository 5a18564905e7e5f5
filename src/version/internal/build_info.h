// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Defined in the build folder's build_info.cc, written by generate.cmake.

#include <string_view>

namespace carrefour::version::internal {

extern const std::string_view kVersion;
extern const std::string_view kRevision;

}  // namespace carrefour::version::internal
