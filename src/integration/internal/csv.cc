#include "integration/internal/csv.h"

#include <limits>

namespace carrefour::integration::internal {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Status SplitCsvLine(std::string_view line, std::vector<std::string>* fields, size_t* count) {
  *count = 0;
  size_t i = 0;
  while (true) {
    if (fields->size() <= *count) fields->emplace_back();
    std::string& field = (*fields)[(*count)++];
    field.clear();
    // Spaces before an opening quote are tolerated, like around plain fields.
    size_t start = i;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    if (start < line.size() && line[start] == '"') {
      i = start + 1;
      while (true) {
        if (i >= line.size()) {
          return InvalidRequest("a quoted field is not closed (field " +
                                std::to_string(*count) + ")");
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        return InvalidRequest("text after the closing quote of field " + std::to_string(*count));
      }
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      std::string_view plain = line.substr(i, end - i);
      if (plain.find('"') != std::string_view::npos) {
        return InvalidRequest("a quote inside unquoted field " + std::to_string(*count) +
                              " (quote the whole field and double the quote)");
      }
      field = Trim(plain);
      i = end;
    }
    if (i >= line.size()) return OkStatus();
    ++i;  // the comma; a field follows, possibly empty
  }
}

bool LineReader::Next(std::string_view* line, bool* too_long) {
  *too_long = false;
  input_.getline(buffer_, sizeof buffer_);
  std::streamsize size = input_.gcount();
  bytes_read_ += static_cast<uint64_t>(size);
  if (input_.eof() && size == 0) return false;
  if (input_.bad()) return false;
  bool terminated = !input_.eof() && !input_.fail();
  if (input_.fail() && !input_.eof()) {
    // The buffer filled up before the end of the line: skip the rest of it.
    *too_long = true;
    input_.clear();
    input_.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    bytes_read_ += static_cast<uint64_t>(input_.gcount());
  } else if (input_.eof()) {
    input_.clear(std::ios::eofbit);  // the last line had no terminator
  }
  // gcount() counts the extracted '\n' of a complete line.
  size_t length = static_cast<size_t>(size) - (terminated ? 1 : 0);
  if (*too_long) length = kMaxLine;
  if (length > 0 && buffer_[length - 1] == '\r') --length;
  *line = std::string_view(buffer_, length);
  ++line_number_;
  return true;
}

}  // namespace carrefour::integration::internal
