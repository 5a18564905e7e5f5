#include "research/internal/csv.h"

namespace carrefour::research::internal {

void AppendCsvField(std::string& line, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    line += field;
    return;
  }
  line += '"';
  for (char c : field) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

void AppendCsvRecord(std::string& out, const std::vector<std::string>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(out, fields[i]);
  }
  out += '\n';
}

Result<bool> NextCsvRecord(std::string_view text, size_t* pos, std::vector<std::string>* fields) {
  fields->clear();
  size_t i = *pos;
  if (i >= text.size()) return false;
  std::string field;
  while (true) {
    field.clear();
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) return Error(InvalidRequest("unterminated quoted CSV field"));
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return Error(InvalidRequest("text after a closing quote in a CSV field"));
      }
    } else {
      size_t end = text.find_first_of(",\r\n", i);
      if (end == std::string_view::npos) end = text.size();
      field.assign(text.substr(i, end - i));
      i = end;
    }
    fields->push_back(field);
    if (i >= text.size()) break;
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    break;
  }
  *pos = i;
  return true;
}

}  // namespace carrefour::research::internal
