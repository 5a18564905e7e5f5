// SPDX-License-Identifier: EUPL-1.2
#include "connector/database.h"

#include <cctype>

#include <fmt/format.h>

namespace carrefour::connector {

Result<std::unique_ptr<Database>> OpenSqliteDatabase(std::string_view path);
Result<std::unique_ptr<Database>> OpenPostgresDatabase(std::string_view url);

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Walks `sql`, calling on_text(piece) for SQL text and on_name(name) for each
// `:name` parameter, so that both ParameterNames and ToPositional agree on
// what is a parameter.
template <typename OnText, typename OnName>
void Scan(std::string_view sql, OnText on_text, OnName on_name) {
  size_t i = 0;
  size_t text_start = 0;
  auto skip_to = [&](std::string_view end, size_t from) {
    size_t found = sql.find(end, from);
    return found == std::string_view::npos ? sql.size() : found + end.size();
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // Quoted string or identifier; a doubled quote is an escaped quote.
      size_t j = i + 1;
      for (;;) {
        j = skip_to(std::string_view(&c, 1), j);
        if (j < sql.size() && sql[j] == c) {
          ++j;
          continue;
        }
        break;
      }
      i = j;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      i = skip_to("\n", i);
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      i = skip_to("*/", i + 2);
    } else if (c == '$') {
      // PostgreSQL dollar quoting: $tag$ ... $tag$ (a $1 is left alone).
      size_t j = i + 1;
      bool positional = j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]));
      while (j < sql.size() && IsNameChar(sql[j])) ++j;
      if (!positional && j < sql.size() && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        i = skip_to(tag, j + 1);
      } else {
        i = j;
      }
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      i += 2;  // a PostgreSQL cast, not a parameter
    } else if (c == ':' && i + 1 < sql.size() && IsNameStart(sql[i + 1])) {
      size_t j = i + 1;
      while (j < sql.size() && IsNameChar(sql[j])) ++j;
      on_text(sql.substr(text_start, i - text_start));
      on_name(sql.substr(i + 1, j - i - 1));
      i = j;
      text_start = j;
    } else {
      ++i;
    }
  }
  on_text(sql.substr(text_start));
}

}  // namespace

std::vector<std::string> ParameterNames(std::string_view sql) {
  std::vector<std::string> names;
  Scan(
      sql, [](std::string_view) {},
      [&](std::string_view name) {
        for (const std::string& seen : names) {
          if (seen == name) return;
        }
        names.emplace_back(name);
      });
  return names;
}

std::pair<std::string, std::vector<std::string>> ToPositional(std::string_view sql) {
  std::string out;
  std::vector<std::string> names;
  Scan(
      sql, [&](std::string_view text) { out.append(text); },
      [&](std::string_view name) {
        size_t number = 0;
        for (; number < names.size(); ++number) {
          if (names[number] == name) break;
        }
        if (number == names.size()) names.emplace_back(name);
        out += fmt::format("${}", number + 1);
      });
  return {std::move(out), std::move(names)};
}

std::string DescribeValue(const SqlValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return fmt::format("'{}'", s); }
  };
  return std::visit(Visitor{}, value);
}

Result<std::unique_ptr<Database>> Database::Open(std::string_view url) {
  if (url.starts_with("sqlite:")) {
    std::string_view path = url.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    return OpenSqliteDatabase(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenPostgresDatabase(url);
  }
  return tl::unexpected(Status(StatusCode::kInvalidRequest,
                               fmt::format("database \"{}\": expected sqlite:PATH or "
                                           "postgresql://...",
                                           url)));
}

}  // namespace carrefour::connector
