// SPDX-License-Identifier: EUPL-1.2
// CSV input (core/csv.h), read the way `carrefour directory import` and the
// connector's CSV mode read it (csv::Reader, bounded records), and the way a
// whole text is read (csv::NextRecord), then each row's number and dates
// checked as the import does. The first byte picks the dialect. Never a
// crash; a refused record says why; a record read whole is written back
// (csv::AppendRecord) and reads again as the same fields.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/csv.h"
#include "core/date.h"
#include "niss/niss.h"

namespace {

using namespace carrefour;

// AppendRecord's text read back with the RFC 4180 dialect gives the fields.
void RoundTrip(const std::vector<std::string>& fields) {
  std::string text;
  csv::AppendRecord(text, fields);
  size_t pos = 0;
  std::vector<std::string> again;
  Result<bool> read = csv::NextRecord(text, &pos, &again);
  if (!read || !*read || again != fields || pos != text.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const csv::Dialect dialect{.trim_spaces = (data[0] & 1) != 0,
                             .multiline_fields = (data[0] & 2) != 0};
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  static const Date kToday = *Date::Parse("2026-06-15");

  std::istringstream input{std::string(text)};
  csv::Reader reader(input, dialect);
  size_t records = 0;
  while (reader.Next()) {
    if (++records > text.size() + 1) std::abort();  // every record consumes input
    if (!reader.status().ok()) {
      if (reader.status().message().empty() || !reader.fields().empty()) std::abort();
      continue;
    }
    const std::vector<std::string>& fields = reader.fields();
    // institution,niss,capacity,from,to
    if (fields.size() >= 2) (void)niss::Normalize(fields[1], kToday);
    if (fields.size() >= 4) (void)Date::Parse(fields[3]);
    if (fields.size() >= 5 && !fields[4].empty()) (void)Date::Parse(fields[4]);
  }
  if (reader.bytes_read() != text.size()) std::abort();

  size_t pos = 0;
  std::vector<std::string> fields;
  for (;;) {
    const size_t before = pos;
    Result<bool> next = csv::NextRecord(text, &pos, &fields, dialect);
    if (!next) {
      if (next.error().message().empty()) std::abort();
      break;
    }
    if (!*next) break;
    if (pos <= before || pos > text.size()) std::abort();
    if (!dialect.trim_spaces) RoundTrip(fields);
  }
  return 0;
}
