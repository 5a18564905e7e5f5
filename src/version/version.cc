// SPDX-License-Identifier: EUPL-1.2
#include "version/version.h"

#include "version/internal/build_info.h"

namespace carrefour::version {

std::string_view Version() { return internal::kVersion; }
std::string_view Revision() { return internal::kRevision; }

std::string Line() {
  return "carrefour " + std::string(Version()) + " (" + std::string(Revision()) + ")";
}

std::string UserAgent() {
  return "carrefour/" + std::string(Version()) + " (" + std::string(Revision()) + ")";
}

}  // namespace carrefour::version
