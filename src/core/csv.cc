// SPDX-License-Identifier: EUPL-1.2
#include "core/csv.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace carrefour::csv {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

Status TooLong() {
  return InvalidRequest(fmt::format("the record is longer than {} bytes", Reader::kMaxRecord));
}

bool EndsRecord(std::string_view text, size_t i) {
  return i >= text.size() || text[i] == '\n' ||
         (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] == '\n'));
}

}  // namespace

Result<Parsed> ParseRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                           const Dialect& dialect) {
  size_t i = *pos;
  if (i >= text.size()) return Parsed::kEnd;
  size_t count = 0;
  while (true) {
    if (fields->size() <= count) fields->emplace_back();
    std::string& field = (*fields)[count++];
    field.clear();
    size_t start = i;
    if (dialect.trim_spaces) {
      while (start < text.size() && IsSpace(text[start])) ++start;
    }
    if (start < text.size() && text[start] == '"') {
      i = start + 1;
      while (true) {
        size_t quote = text.find('"', i);
        if (quote == std::string_view::npos) return Parsed::kIncomplete;
        field.append(text.substr(i, quote - i));
        if (quote + 1 < text.size() && text[quote + 1] == '"') {
          field += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      if (dialect.trim_spaces) {
        while (i < text.size() && IsSpace(text[i])) ++i;
      }
      if (i < text.size() && text[i] != ',' && !EndsRecord(text, i)) {
        return Error(InvalidRequest(fmt::format("text after the closing quote of field {}", count)));
      }
    } else {
      size_t end = text.find_first_of(",\n\"", i);
      if (end != std::string_view::npos && text[end] == '"') {
        return Error(InvalidRequest(fmt::format(
            "a quote inside unquoted field {} (quote the whole field and double the quote)",
            count)));
      }
      if (end == std::string_view::npos) end = text.size();
      std::string_view plain = text.substr(i, end - i);
      if ((end == text.size() || text[end] == '\n') && !plain.empty() && plain.back() == '\r') {
        plain.remove_suffix(1);
      }
      field.assign(dialect.trim_spaces ? Trim(plain) : plain);
      i = end;
    }
    if (i < text.size() && text[i] == ',') {
      ++i;  // a field follows, possibly empty
      continue;
    }
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    fields->resize(count);
    *pos = i;
    return Parsed::kRecord;
  }
}

Result<bool> NextRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields,
                        const Dialect& dialect) {
  CARREFOUR_ASSIGN_OR_RETURN(Parsed parsed, ParseRecord(text, pos, fields, dialect));
  if (parsed == Parsed::kIncomplete) return Error(InvalidRequest("a quoted field is not closed"));
  return parsed == Parsed::kRecord;
}

void AppendField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void AppendRecord(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    AppendField(out, fields[i]);
  }
  out += '\n';
}

Reader::Reader(std::istream& input, Dialect dialect) : input_(input), dialect_(dialect) {
  line_.resize(kMaxRecord + 1);
}

bool Reader::ReadLine(bool* too_long, bool* terminated) {
  *too_long = false;
  line_.resize(kMaxRecord + 1);
  input_.getline(line_.data(), static_cast<std::streamsize>(line_.size()));
  std::streamsize size = input_.gcount();
  bytes_read_ += static_cast<uint64_t>(size);
  if ((input_.eof() && size == 0) || input_.bad()) {
    line_.clear();
    return false;
  }
  *terminated = !input_.eof() && !input_.fail();
  if (input_.fail() && !input_.eof()) {
    // The buffer filled up before the end of the line: skip the rest of it.
    *too_long = true;
    input_.clear();
    input_.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    bytes_read_ += static_cast<uint64_t>(input_.gcount());
    *terminated = !input_.eof();
    if (input_.eof()) input_.clear(std::ios::eofbit);
  } else if (input_.eof()) {
    input_.clear(std::ios::eofbit);  // the last line had no terminator
  }
  // gcount() counts the extracted '\n' of a complete line.
  size_t length = *too_long ? kMaxRecord : static_cast<size_t>(size) - (*terminated ? 1 : 0);
  if (length > 0 && line_[length - 1] == '\r') --length;
  line_.resize(length);
  ++lines_read_;
  return true;
}

bool Reader::Next() {
  status_ = OkStatus();
  blank_ = false;
  first_line_ = lines_read_ + 1;
  bool too_long = false;
  if (!ReadLine(&too_long, &terminated_)) return false;
  record_.assign(line_);
  auto fail = [&](Status status) {
    status_ = std::move(status);
    fields_.clear();
    return true;
  };
  if (too_long) return fail(TooLong());
  size_t pos = 0;
  Result<Parsed> parsed = ParseRecord(record_, &pos, &fields_, dialect_);
  if (parsed && *parsed == Parsed::kIncomplete && !dialect_.multiline_fields) {
    return fail(InvalidRequest("a quoted field is not closed on its line"));
  }
  if (parsed && *parsed == Parsed::kIncomplete) {
    // A quoted field holds line breaks: read lines until its quotes balance
    // (each line scanned once), then parse the whole record.
    bool in_quotes = true;
    while (in_quotes && terminated_ && ReadLine(&too_long, &terminated_)) {
      record_ += '\n';
      record_ += line_;
      if (too_long || record_.size() > kMaxRecord) return fail(TooLong());
      in_quotes = (std::count(line_.begin(), line_.end(), '"') % 2 == 1) != in_quotes;
    }
    if (in_quotes) {
      terminated_ = false;  // a file being written may not be complete there
      return fail(InvalidRequest("a quoted field is not closed"));
    }
    parsed = ParseRecord(record_, &pos, &fields_, dialect_);
  }
  if (!parsed) return fail(parsed.error());
  if (*parsed == Parsed::kEnd) fields_.assign(1, std::string());  // an empty line
  blank_ = std::all_of(record_.begin(), record_.end(), IsSpace);
  return true;
}

}  // namespace carrefour::csv
