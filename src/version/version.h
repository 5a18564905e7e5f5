// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Which carrefour this is: the version of CMake's project() and the git
// revision it was built from (docs/api.md section 2). Both are fixed at build
// time by src/version/generate.cmake.
//
//   carrefour::version::Line()       "carrefour 0.2.0 (3f15b2f1c0de)"
//   carrefour::version::UserAgent()  "carrefour/0.2.0 (3f15b2f1c0de)"

#include <string>
#include <string_view>

namespace carrefour::version {

// "0.2.0": CMake's PROJECT_VERSION.
std::string_view Version();

// The short git revision of the source tree ("3f15b2f1c0de"), or what
// -DCARREFOUR_REVISION=... said when building outside git, or "unknown".
std::string_view Revision();

// What `carrefour --version` prints: "carrefour <version> (<revision>)".
std::string Line();

// The User-Agent of every HTTP request carrefour makes.
std::string UserAgent();

}  // namespace carrefour::version
