// SPDX-License-Identifier: EUPL-1.2
// National numbers (docs/api.md section 1): any input is either a valid number
// whose normal form is 11 digits and parses again to the same number, or an
// invalid-niss Status with a reason. Never a crash.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/date.h"
#include "niss/niss.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carrefour;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // A fixed "today": the century rule depends on it, and a fuzz run must be
  // reproducible.
  static const Date kToday = *Date::Parse("2026-06-15");
  Result<std::string> normal = niss::Normalize(input, kToday);
  if (!normal) {
    if (normal.error().code() != StatusCode::kInvalidNiss || normal.error().message().empty()) {
      std::abort();
    }
    return 0;
  }
  if (normal->size() != 11) std::abort();
  for (char c : *normal) {
    if (c < '0' || c > '9') std::abort();
  }
  Result<std::string> again = niss::Normalize(*normal, kToday);
  if (!again || *again != *normal) std::abort();
  Result<niss::Number> parsed = niss::Parse(input, kToday);
  if (!parsed) std::abort();
  return 0;
}
