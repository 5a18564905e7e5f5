// SPDX-License-Identifier: EUPL-1.2
#include "integration/import.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "directory/integration.h"
#include "core/csv.h"

namespace carrefour::integration {
namespace {

using directory::EntryAction;
using directory::EntryChange;

// The columns, in order; also the header line's words.
constexpr std::string_view kColumns[] = {"institution", "niss", "capacity", "from", "to"};
constexpr size_t kColumnCount = std::size(kColumns);

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// Turns records into batches of changes and stores them. The changes of a
// batch, the line numbers and the rejections waiting to be reported are the
// only state: all bounded by the batch size, whatever the file's length.
class Importer {
 public:
  Importer(const network::Definition& definition, store::DirectoryStore& directory,
           const ImportOptions& options, const csv::Reader& reader)
      : definition_(definition), directory_(directory), options_(options), reader_(reader) {
    batch_.reserve(options.batch_size);
    batch_lines_.reserve(options.batch_size);
  }

  Status AddRecord(uint64_t number, const Status& read, const std::vector<std::string>& fields) {
    if (!seen_first_line_) {
      seen_first_line_ = true;
      if (read.ok() && IsHeader(fields)) return OkStatus();
    }
    ++counts_.lines;
    EntryChange& change = NextChange();
    Status parsed = read.ok() ? Parse(fields, &change) : read;
    if (parsed.ok()) {
      batch_lines_.push_back(number);
    } else {
      batch_.pop_back();
      pending_.push_back(Rejection{number, std::move(parsed)});
    }
    // Flushing on rejections too keeps memory flat on a file of bad lines.
    if (batch_.size() >= options_.batch_size || pending_.size() >= options_.batch_size) {
      return Flush();
    }
    return OkStatus();
  }

  Status Flush() {
    if (!batch_.empty()) {
      Result<std::vector<directory::EntryResult>> results = directory_.ApplyEntryChanges(batch_);
      if (!results) {
        return results.error().WithContext(
            fmt::format("storing lines {}-{} (the lines before were stored)",
                        batch_lines_.front(), batch_lines_.back()));
      }
      for (const directory::EntryResult& result : *results) {
        if (result.status.ok()) {
          ++counts_.accepted;
        } else {
          pending_.push_back(Rejection{batch_lines_[result.index], result.status});
        }
      }
    }
    // Validation rejections came first; store rejections interleave with
    // them by line.
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
    for (const Rejection& rejection : pending_) {
      ++counts_.rejected;
      if (options_.on_rejection) options_.on_rejection(rejection);
    }
    batch_.clear();
    batch_lines_.clear();
    pending_.clear();
    counts_.bytes = reader_.bytes_read();
    if (options_.on_progress) options_.on_progress(counts_);
    return OkStatus();
  }

  const ImportCounts& counts() const { return counts_; }

 private:
  EntryChange& NextChange() {
    batch_.emplace_back();
    return batch_.back();
  }

  static bool IsHeader(const std::vector<std::string>& fields) {
    if (fields.size() != kColumnCount) return false;
    for (size_t i = 0; i < kColumnCount; ++i) {
      if (!EqualsIgnoringCase(fields[i], kColumns[i])) return false;
    }
    return true;
  }

  Status Parse(const std::vector<std::string>& fields, EntryChange* change) {
    const size_t count = fields.size();
    if (count != kColumnCount) {
      return InvalidRequest(fmt::format(
          "expected {} fields (institution,niss,capacity,from,to), found {}", kColumnCount, count));
    }
    const network::Institution* institution = definition_.FindInstitution(fields[0]);
    if (institution == nullptr) {
      return fields[0].empty()
                 ? UnknownInstitution("no institution given")
                 : UnknownInstitution(fmt::format(
                       "institution '{}' is not in the network definition", fields[0]));
    }
    Result<Date> from = Date::Parse(fields[3]);
    if (!from) return from.error().WithContext("from");
    std::optional<Date> to;
    if (!fields[4].empty()) {
      Result<Date> parsed = Date::Parse(fields[4]);
      if (!parsed) return parsed.error().WithContext("to");
      to = *parsed;
    }
    change->action = EntryAction::kAdd;
    change->entry.niss = fields[1];
    change->entry.capacity = fields[2];
    change->entry.period = Period{*from, to};
    // The same rules as an integration sent to the API by that institution:
    // number, capacity, period; it also sets entry.institution.
    return directory::ValidateEntryChange(definition_, *institution, options_.today, change);
  }

  const network::Definition& definition_;
  store::DirectoryStore& directory_;
  const ImportOptions& options_;
  const csv::Reader& reader_;

  bool seen_first_line_ = false;
  std::vector<EntryChange> batch_;
  std::vector<uint64_t> batch_lines_;  // the line of each change of batch_
  std::vector<Rejection> pending_;     // rejections not reported yet
  ImportCounts counts_;
};

}  // namespace

Result<ImportCounts> ImportDirectoryCsv(std::istream& csv, const network::Definition& definition,
                                        store::DirectoryStore& directory,
                                        const ImportOptions& options) {
  if (options.batch_size == 0) return Error(InvalidRequest("the batch size must be at least 1"));
  csv::Reader reader(csv, csv::Dialect{.trim_spaces = true, .multiline_fields = false});
  Importer importer(definition, directory, options, reader);
  while (reader.Next()) {
    if (reader.blank()) continue;
    CARREFOUR_RETURN_IF_ERROR(
        importer.AddRecord(reader.first_line(), reader.status(), reader.fields()));
  }
  if (reader.failed()) {
    return Error(Unavailable(
        fmt::format("reading the file failed after line {}", reader.lines_read())));
  }
  CARREFOUR_RETURN_IF_ERROR(importer.Flush());
  return importer.counts();
}

}  // namespace carrefour::integration
