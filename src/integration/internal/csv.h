#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace carrefour::integration::internal {

// Splits one CSV line (RFC 4180 fields: plain, or in double quotes with ""
// for a quote; no line breaks inside a field) into `fields`, whose strings
// are reused from call to call. invalid-request saying what is wrong: an
// unterminated quoted field, a quote inside a plain field, or text after a
// closing quote. Surrounding spaces of plain fields are trimmed.
Status SplitCsvLine(std::string_view line, std::vector<std::string>* fields, size_t* count);

// Reads lines of at most kMaxLine bytes from a stream, in constant memory.
// A longer line is returned cut short, with `too_long` set, and the rest of it
// is skipped. The terminator (\n or \r\n) is not part of the line.
class LineReader {
 public:
  static constexpr size_t kMaxLine = 8192;

  explicit LineReader(std::istream& input) : input_(input) {}

  // false at the end of the input (or when reading fails: see failed()).
  bool Next(std::string_view* line, bool* too_long);
  // The input could not be read (as opposed to having ended).
  bool failed() const { return input_.bad(); }
  // 1-based number of the line Next() returned last.
  size_t line_number() const { return line_number_; }
  // Bytes consumed so far, terminators included.
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::istream& input_;
  char buffer_[kMaxLine + 1];
  size_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace carrefour::integration::internal
