// SPDX-License-Identifier: EUPL-1.2
// Aggregate: counts and sums by dimensions over a complete extract, with
// small-cell and complementary suppression (research.h; docs/research.md).

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <unordered_map>

#include "core/csv.h"
#include "research/internal/files.h"
#include "research/internal/suppress.h"
#include "research/research.h"

namespace carrefour::research {
namespace json = boost::json;
namespace {

constexpr std::string_view kNoData = "(no data)";

// "person.identity.birth_date" -> the project's data type and the field's
// column in its file (after pseudonym and provider).
struct Column {
  std::string name;  // as given
  const network::ResearchData* data = nullptr;
  size_t column = 0;
};

Result<Column> FindColumn(const network::ResearchProject& project, std::string_view name) {
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string_view data_type = name.substr(0, dot);
    std::string_view field = name.substr(dot + 1);
    for (const network::ResearchData& data : project.data) {
      if (data.data_type != data_type) continue;
      auto it = std::find(data.fields.begin(), data.fields.end(), field);
      if (it == data.fields.end()) break;
      return Column{std::string(name), &data, static_cast<size_t>(it - data.fields.begin()) + 2};
    }
  }
  std::string known;
  for (const network::ResearchData& data : project.data) {
    for (const std::string& field : data.fields) {
      known += fmt::format("{}{}.{}", known.empty() ? "" : ", ", data.data_type, field);
    }
  }
  return Error(
      InvalidRequest(fmt::format("'{}' is not a field of research project '{}' (give "
                                 "data_type.field: {})",
                                 name, project.id, known)));
}

// One data type's file: its rows, grouped by pseudonym.
using Rows = std::unordered_map<std::string, std::vector<std::vector<std::string>>>;

Result<Rows> ReadRows(const std::filesystem::path& file, size_t width) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string text, internal::ReadWholeFile(file));
  Rows rows;
  std::vector<std::string> fields;
  size_t pos = 0;
  bool header = true;
  while (true) {
    Result<bool> more = csv::NextRecord(text, &pos, &fields);
    if (!more) return Error(Internal(fmt::format("{}: {}", file.string(), more.error().message())));
    if (!*more) break;
    if (fields.size() != width) {
      return Error(Internal(fmt::format("{} is damaged (a row of {} fields, {} expected)",
                                        file.string(), fields.size(), width)));
    }
    if (header) {
      header = false;
      continue;
    }
    std::string pseudonym = fields[0];
    rows[pseudonym].push_back(fields);
  }
  return rows;
}

bool KeyLess(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    // Margins after the values they total.
    if (a[i] == AggregateTable::kTotal) return false;
    if (b[i] == AggregateTable::kTotal) return true;
    return a[i] < b[i];
  }
  return false;
}

// The extract must be this project's, and complete.
Status CheckExtract(const network::ResearchProject& project, const std::filesystem::path& extract) {
  Result<std::string> report_text = internal::ReadWholeFile(extract / "report.json");
  if (!report_text) {
    return InvalidRequest(
        fmt::format("{} holds no complete extract (no report.json)", extract.string()));
  }
  boost::system::error_code ec;
  json::value report = json::parse(*report_text, ec);
  const json::value* id =
      !ec && report.is_object() ? report.as_object().if_contains("project") : nullptr;
  if (id == nullptr || !id->is_string() || id->as_string() != project.id) {
    return InvalidRequest(fmt::format("{} is not an extract of research project '{}'",
                                      extract.string(), project.id));
  }
  return OkStatus();
}

// The files of the data types that the dimensions and the sum read, by data
// type, each read once.
using Files = std::map<std::string, Rows>;

Result<Files> ReadFiles(const std::filesystem::path& extract, const std::vector<Column>& dims,
                        const std::optional<Column>& sum) {
  Files files;
  auto load = [&](const network::ResearchData& data) -> Status {
    if (files.count(data.data_type) != 0) return OkStatus();
    CARREFOUR_ASSIGN_OR_RETURN(
        Rows rows,
        ReadRows(extract / fmt::format("{}.csv", data.data_type), data.fields.size() + 2));
    files.emplace(data.data_type, std::move(rows));
    return OkStatus();
  };
  for (const Column& dim : dims) CARREFOUR_RETURN_IF_ERROR(load(*dim.data));
  if (sum) CARREFOUR_RETURN_IF_ERROR(load(*sum->data));
  return files;
}

// One fact about a person: the values of every dimension, and the amount
// it adds to the sum.
struct Fact {
  std::vector<std::set<std::string>> values;
  double amount = 0;
};

// The amount a row of the summed data type holds (0 when empty).
Result<double> AmountOf(const std::vector<std::string>& row, const Column& sum) {
  const std::string& text = row[sum.column];
  if (text.empty()) return 0.0;
  char* end = nullptr;
  const double amount = std::strtod(text.c_str(), &end);
  if (end == nullptr || *end != '\0') {
    return Error(InvalidRequest(fmt::format("'{}' holds '{}', not a number: it cannot be "
                                            "summed",
                                            sum.name, text)));
  }
  return amount;
}

// The person's facts: one per row of the summed data type (or one in all),
// each with the values of every dimension. A dimension of the summed data
// type takes the row's own value; any other takes each of the person's
// values.
Result<std::vector<Fact>> FactsOf(const std::string& person, const Files& files,
                                  const std::vector<Column>& dims,
                                  const std::optional<Column>& sum) {
  static const std::vector<std::vector<std::string>> kNone;
  auto rows_of =
      [&](const network::ResearchData& data) -> const std::vector<std::vector<std::string>>& {
    const Rows& rows = files.at(data.data_type);
    auto it = rows.find(person);
    return it == rows.end() ? kNone : it->second;
  };
  const size_t d = dims.size();
  std::vector<Fact> facts;
  const std::vector<std::vector<std::string>>* base = sum ? &rows_of(*sum->data) : nullptr;
  size_t count = base != nullptr && !base->empty() ? base->size() : 1;
  for (size_t r = 0; r < count; ++r) {
    const std::vector<std::string>* row = base != nullptr && !base->empty() ? &(*base)[r] : nullptr;
    Fact fact;
    fact.values.resize(d);
    for (size_t i = 0; i < d; ++i) {
      if (sum && dims[i].data == sum->data) {
        fact.values[i].insert(row ? (*row)[dims[i].column] : std::string(kNoData));
        continue;
      }
      for (const std::vector<std::string>& other : rows_of(*dims[i].data)) {
        fact.values[i].insert(other[dims[i].column]);
      }
      if (fact.values[i].empty()) fact.values[i].insert(std::string(kNoData));
    }
    if (row != nullptr) {
      CARREFOUR_ASSIGN_OR_RETURN(fact.amount, AmountOf(*row, *sum));
    }
    facts.push_back(std::move(fact));
  }
  return facts;
}

using Key = std::vector<std::string>;

// Every cell a fact falls in, margins included: for each set of dimensions
// at their margin, the cartesian product of the fact's other values.
std::set<Key, decltype(&KeyLess)> KeysOf(const Fact& fact) {
  const size_t d = fact.values.size();
  std::set<Key, decltype(&KeyLess)> keys(&KeyLess);
  for (uint32_t mask = 0; mask < (1u << d); ++mask) {
    std::vector<Key> partial = {{}};
    for (size_t i = 0; i < d; ++i) {
      std::vector<Key> next;
      if (mask & (1u << i)) {
        for (auto& key : partial) {
          key.push_back(std::string(AggregateTable::kTotal));
          next.push_back(std::move(key));
        }
      } else {
        for (const auto& key : partial) {
          for (const std::string& value : fact.values[i]) {
            Key extended = key;
            extended.push_back(value);
            next.push_back(std::move(extended));
          }
        }
      }
      partial = std::move(next);
    }
    for (auto& key : partial) keys.insert(std::move(key));
  }
  return keys;
}

}  // namespace

std::string AggregateTable::ToCsv() const {
  std::string out;
  std::vector<std::string> header = by;
  header.push_back("persons");
  if (!sum.empty()) header.push_back("sum_" + sum.substr(sum.rfind('.') + 1));
  header.push_back("status");
  csv::AppendRecord(out, header);
  for (const AggregateCell& cell : cells) {
    std::vector<std::string> row = cell.key;
    row.push_back(cell.suppressed ? "" : fmt::format("{}", cell.persons));
    if (!sum.empty()) row.push_back(cell.suppressed ? "" : fmt::format("{}", cell.sum));
    row.push_back(cell.suppressed ? "suppressed" : "");
    csv::AppendRecord(out, row);
  }
  return out;
}

Result<AggregateTable> Aggregate(const network::ResearchProject& project,
                                 const AggregateOptions& options) {
  if (options.by.empty()) return Error(InvalidRequest("give at least one dimension (--by)"));
  if (options.by.size() > 6) return Error(InvalidRequest("at most 6 dimensions"));
  CARREFOUR_RETURN_IF_ERROR(CheckExtract(project, options.extract));

  AggregateTable table;
  table.by = options.by;
  table.sum = options.sum;
  // The project's k is a floor set with its legal basis: an option may only
  // raise it, never publish smaller cells.
  table.k = std::max(options.k, project.k);
  std::vector<Column> dims;
  for (const std::string& name : options.by) {
    CARREFOUR_ASSIGN_OR_RETURN(Column column, FindColumn(project, name));
    dims.push_back(std::move(column));
  }
  std::optional<Column> sum;
  if (!options.sum.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(Column column, FindColumn(project, options.sum));
    sum = std::move(column);
  }
  CARREFOUR_ASSIGN_OR_RETURN(const Files files, ReadFiles(options.extract, dims, sum));

  // The population: whoever has a row in one of the files used.
  std::set<std::string> persons;
  for (const auto& [type, rows] : files) {
    for (const auto& [pseudonym, list] : rows) persons.insert(pseudonym);
  }

  const size_t d = dims.size();
  std::map<Key, std::pair<size_t, double>, decltype(&KeyLess)> cells(&KeyLess);
  for (const std::string& person : persons) {
    CARREFOUR_ASSIGN_OR_RETURN(const std::vector<Fact> facts, FactsOf(person, files, dims, sum));
    // Every cell this person falls in: each fact counts once per cell, the
    // person once per cell.
    std::map<Key, double, decltype(&KeyLess)> mine(&KeyLess);
    for (const Fact& fact : facts) {
      for (const Key& key : KeysOf(fact)) mine[key] += fact.amount;
    }
    for (const auto& [key, amount] : mine) {
      auto& cell = cells[key];
      ++cell.first;
      cell.second += amount;
    }
  }
  if (cells.empty()) {
    // An empty extract still has its grand total (of nobody).
    cells[Key(d, std::string(AggregateTable::kTotal))] = {0, 0};
  }

  for (const auto& [key, value] : cells) {
    AggregateCell cell;
    cell.key = key;
    cell.persons = value.first;
    cell.sum = value.second;
    table.cells.push_back(std::move(cell));
  }
  internal::SuppressCells(table.cells, d, table.k, &table.primary_suppressions,
                          &table.complementary_suppressions);
  return table;
}

}  // namespace carrefour::research
