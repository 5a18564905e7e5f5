// SPDX-License-Identifier: EUPL-1.2
#pragma once

// CSV (RFC 4180), the one reader and writer of the project: the directory
// import, the connector's CSV integration mode and research extracts all use
// it, so that a file one of them accepts reads the same in the others.
//
// A record is a line of fields separated by commas, ended by "\n", "\r\n" or
// the end of the text. A field is plain, or in double quotes; a quoted field
// may hold commas, line breaks and "" for a quote. A quote inside a plain
// field and text after a closing quote are errors.
//
//   csv::Reader reader(file, {.trim_spaces = true, .multiline_fields = false});
//   while (reader.Next()) {
//     if (!reader.status().ok()) { report(reader.first_line(), reader.status()); continue; }
//     use(reader.fields());
//   }

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace carrefour::csv {

struct Dialect {
  // Spaces and tabs around plain fields, and around a quoted field, are not
  // part of the field (files typed by people). RFC 4180 keeps them.
  bool trim_spaces = false;
  // A quoted field may hold line breaks (RFC 4180). Off, a record is one line
  // and a quote left open is an error of that line alone, so that one typo
  // in a file typed by people does not swallow the records after it.
  bool multiline_fields = true;
};

// What ParseRecord found at *pos.
enum class Parsed {
  kRecord,      // a record: fields filled, *pos past its terminator
  kEnd,         // *pos is at the end of the text
  kIncomplete,  // a quoted field is still open at the end of the text
};

// Parses the record of `text` that starts at *pos into `fields` (resized to
// the record's field count; their strings are reused). invalid-request
// saying what is wrong for a quote inside a plain field or text after a
// closing quote; kIncomplete (with *pos unchanged) when the text ends inside
// a quoted field — an error for a whole file, "read more" for a stream.
Result<Parsed> ParseRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                           const Dialect& dialect = {});

// The record of a whole text at *pos, as ParseRecord; false at the end of
// the text, and a quoted field left open is an error.
Result<bool> NextRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                        const Dialect& dialect = {});

// Appends `field`, quoted when it holds a comma, a quote or a line break.
void AppendField(std::string& out, std::string_view field);
// Appends the fields separated by commas, then "\n".
void AppendRecord(std::string& out, const std::vector<std::string>& fields);

// Reads records from a stream in bounded memory: a record longer than
// kMaxRecord bytes is reported as an error and skipped, whatever its length.
class Reader {
 public:
  static constexpr size_t kMaxRecord = 8192;

  explicit Reader(std::istream& input, Dialect dialect = {});

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads the next record: false at the end of the input (or when reading
  // fails: see failed()). A malformed or too long record comes back with its
  // error in status() and no fields; reading goes on after it.
  bool Next();

  // The record Next() returned last.
  const Status& status() const { return status_; }
  const std::vector<std::string>& fields() const { return fields_; }
  // Its text holds nothing but spaces (an empty line).
  bool blank() const { return blank_; }
  // It ended with a line break; false for a last record without one (a file
  // still being written may not be complete there).
  bool terminated() const { return terminated_; }
  // 1-based number of its first line.
  size_t first_line() const { return first_line_; }

  // Lines and bytes consumed so far, terminators included.
  size_t lines_read() const { return lines_read_; }
  uint64_t bytes_read() const { return bytes_read_; }
  // The input could not be read (as opposed to having ended).
  bool failed() const { return input_.bad(); }

 private:
  // One physical line into line_ (without its terminator), at most
  // kMaxRecord + 1 bytes kept; false at the end of the input.
  bool ReadLine(bool* too_long, bool* terminated);

  std::istream& input_;
  Dialect dialect_;
  std::string line_;
  std::string record_;  // the record's lines joined with "\n"
  std::vector<std::string> fields_;
  Status status_;
  bool blank_ = false;
  bool terminated_ = false;
  size_t first_line_ = 0;
  size_t lines_read_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace carrefour::csv
