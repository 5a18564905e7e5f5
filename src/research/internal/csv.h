#pragma once

// CSV as the extract writes and reads it (RFC 4180): a field is quoted when it
// holds a comma, a double quote or a line break, with "" for a quote. Records
// end with "\n".

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace carrefour::research::internal {

// Appends `field` to `line`, quoted if need be (no separator).
void AppendCsvField(std::string& line, std::string_view field);

// Appends a whole record (fields separated by commas, then "\n").
void AppendCsvRecord(std::string& out, const std::vector<std::string>& fields);

// Reads the record that starts at *pos in `text` into `fields` and moves
// *pos past it. false at the end of the text. A quoted field may span lines.
// invalid-request for an unterminated quote or text after a closing quote.
Result<bool> NextCsvRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields);

}  // namespace carrefour::research::internal
