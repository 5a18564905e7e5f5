// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/extract_files.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <system_error>

#include "api/json.h"
#include "core/csv.h"

namespace carrefour::research::internal {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

constexpr std::string_view kJournalMagic = "carrefour research journal v1";

std::string JournalHeader(std::string_view project, std::string_view key_fingerprint) {
  return fmt::format("{} project={} key={}", kJournalMagic, project, key_fingerprint);
}

// "batch 12 persons=1000 rows=3021"
bool ParseBatchLine(std::string_view line, size_t* batch, size_t* rows) {
  size_t persons = 0;
  int fields = std::sscanf(std::string(line).c_str(), "batch %zu persons=%zu rows=%zu", batch,
                           &persons, rows);
  return fields == 3 && *batch > 0;
}

}  // namespace

std::string ProjectDetail(std::string_view project) {
  return fmt::format("project={}", project);
}

}  // namespace carrefour::research::internal

namespace carrefour::research {

// The inverse of internal::ProjectDetail (research.h).
std::optional<std::string> ResearchProjectOf(std::string_view detail) {
  constexpr std::string_view kPrefix = "project=";
  if (!detail.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = detail.substr(kPrefix.size());
  return std::string(rest.substr(0, rest.find(' ')));
}

}  // namespace carrefour::research

namespace carrefour::research::internal {

Result<ExtractFolder> ExtractFolder::Open(const fs::path& out, std::string_view project,
                                          std::string_view key_fingerprint) {
  ExtractFolder folder;
  folder.out_ = out;
  folder.work_ = out / "work";
  std::error_code ec;
  fs::create_directories(folder.work_, ec);
  if (ec) {
    return Error(
        Internal(fmt::format("cannot create {}: {}", folder.work_.string(), ec.message())));
  }
  CARREFOUR_ASSIGN_OR_RETURN(
      FileLock lock,
      FileLock::Acquire(folder.work_ / "lock", "the extract folder " + out.string()));
  folder.lock_.emplace(std::move(lock));
  if (fs::exists(out / "report.json", ec)) {
    return Error(
        InvalidRequest(fmt::format("{} holds a complete extract already (report.json); "
                                   "give another output folder",
                                   out.string())));
  }

  const fs::path journal = folder.work_ / "journal";
  const std::string header = JournalHeader(project, key_fingerprint);
  Result<std::string> text = ReadWholeFile(journal);
  if (!text && text.error().code() != StatusCode::kNotFound) return Error(text.error());
  if (!text || text->empty()) {
    CARREFOUR_RETURN_IF_ERROR(WriteFileDurably(journal, header + "\n"));
    return folder;
  }
  // A crash while appending leaves a torn last line: it never counted (its
  // batch is redone), and it goes so that the next line starts clean.
  size_t complete = text->rfind('\n');
  if (complete == std::string::npos) {
    return Error(
        InvalidRequest(fmt::format("{} is damaged (no complete line); remove the folder to "
                                   "start over",
                                   journal.string())));
  }
  if (complete + 1 != text->size()) {
    text->resize(complete + 1);
    CARREFOUR_RETURN_IF_ERROR(WriteFileDurably(journal, *text));
  }
  size_t start = 0;
  size_t line_number = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    std::string_view line(text->data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (line_number == 1) {
      if (line != header) {
        return Error(InvalidRequest(fmt::format(
            "{} was started for another research project or with another key ({}); give another "
            "output folder",
            out.string(), line.substr(0, std::min<size_t>(line.size(), 120)))));
      }
      continue;
    }
    size_t batch = 0, rows = 0;
    if (!ParseBatchLine(line, &batch, &rows) ||
        (!folder.batches_.empty() && batch <= folder.batches_.back())) {
      return Error(
          InvalidRequest(fmt::format("{} is damaged at line {}", journal.string(), line_number)));
    }
    folder.batches_.push_back(batch);
    folder.rows_ += rows;
  }
  return folder;
}

Result<std::unordered_set<std::string>> ExtractFolder::DonePseudonyms() const {
  std::unordered_set<std::string> done;
  for (size_t batch : batches_) {
    CARREFOUR_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(Members(batch)));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) done.emplace(text.substr(start, end - start));
      start = end + 1;
    }
  }
  return done;
}

fs::path ExtractFolder::Part(size_t batch, std::string_view data_type) const {
  return work_ / fmt::format("batch-{:06}.{}.csv", batch, data_type);
}

fs::path ExtractFolder::Members(size_t batch) const {
  return work_ / fmt::format("batch-{:06}.members", batch);
}

fs::path ExtractFolder::Final(std::string_view data_type) const {
  return out_ / fmt::format("{}.csv", data_type);
}

Status ExtractFolder::CommitBatch(size_t batch, size_t persons, size_t rows) {
  CARREFOUR_RETURN_IF_ERROR(AppendLineDurably(
      work_ / "journal", fmt::format("batch {} persons={} rows={}\n", batch, persons, rows)));
  batches_.push_back(batch);
  rows_ += rows;
  return OkStatus();
}

Status ExtractFolder::WriteDictionary(const network::ResearchProject& project,
                                      const ExtractReport& report) const {
  std::string out;
  csv::AppendRecord(out, {"file", "column", "data_type", "field", "meaning"});
  for (const network::ResearchData& data : project.data) {
    std::string file = fmt::format("{}.csv", data.data_type);
    csv::AppendRecord(out, {file, "pseudonym", "", "",
                          fmt::format("the person's pseudonym in research project {}: the same in "
                                      "every file of this project, unrelated to the person's "
                                      "pseudonym in any other project",
                                      project.id)});
    csv::AppendRecord(out, {file, "provider", "", "",
                          "the institution that provided the row (the authentic source)"});
    for (const std::string& field : data.fields) {
      std::string meaning = fmt::format(
          "field '{}' of data type '{}'; any national number in it "
          "is replaced by its pseudonym",
          field, data.data_type);
      for (const ReleasedQuasiIdentifier& qi : report.quasi_identifiers) {
        if (qi.data_type != data.data_type || qi.field != field) continue;
        meaning += fmt::format(
            "; quasi-identifier, coarsened to {} as the project declares, "
            "released at {} so that every released person shares these "
            "values with at least {} others",
            qi.declared, qi.released, project.k - 1);
      }
      csv::AppendRecord(out, {file, field, data.data_type, field, meaning});
    }
  }
  return WriteFileDurably(out_ / "dictionary.csv", out);
}

Status ExtractFolder::WriteReport(const network::ResearchProject& project, std::string_view run_by,
                                  const ExtractReport& report) const {
  json::object out;
  out["project"] = project.id;
  out["title"] = project.title;
  out["requester"] = project.requester;
  out["run_by"] = run_by;
  out["legal_basis"] = project.legal_basis;
  out["period"] = api::PeriodJson(project.period);
  json::object cohort;
  if (project.cohort.IsList()) {
    cohort["supplied_by"] = project.cohort.supplied_by;
  } else {
    if (!project.cohort.institution.empty()) cohort["institution"] = project.cohort.institution;
    if (!project.cohort.institution_type.empty()) {
      cohort["institution_type"] = project.cohort.institution_type;
    }
    cohort["capacity"] = project.cohort.capacity;
    cohort["period"] = api::PeriodJson(project.cohort.period);
  }
  cohort["size"] = report.cohort_size;
  cohort["processed"] = report.persons_done;
  out["cohort"] = std::move(cohort);
  json::array data_types;
  for (const network::ResearchData& data : project.data) {
    json::array fields;
    for (const std::string& field : data.fields) fields.emplace_back(field);
    data_types.push_back(json::object{
        {"data_type", data.data_type},
        {"file", fmt::format("{}.csv", data.data_type)},
        {"fields", std::move(fields)},
        {"rows", report.rows.count(data.data_type) ? report.rows.at(data.data_type) : 0}});
  }
  out["data_types"] = std::move(data_types);
  json::object k_anonymity;
  k_anonymity["k"] = project.k;
  k_anonymity["max_suppression_percent"] = project.max_suppression;
  json::array qis;
  for (const ReleasedQuasiIdentifier& qi : report.quasi_identifiers) {
    qis.push_back(json::object{{"data_type", qi.data_type},
                               {"field", qi.field},
                               {"declared", qi.declared},
                               {"released", qi.released}});
  }
  k_anonymity["quasi_identifiers"] = std::move(qis);
  k_anonymity["persons_released"] = report.persons_released;
  k_anonymity["persons_suppressed"] = report.persons_suppressed;
  k_anonymity["smallest_group"] = report.smallest_group;
  out["k_anonymity"] = std::move(k_anonymity);
  json::object run;
  run["batches_run"] = report.batches_run;
  run["batches_resumed"] = report.batches_resumed;
  run["provider_calls"] = report.provider_calls;
  run["no_data"] = report.no_data;
  out["last_run"] = std::move(run);
  const ExtractTimings& t = report.timings;
  out["timings_seconds"] = json::object{
      {"select", t.select}, {"route", t.route},       {"provide", t.provide}, {"write", t.write},
      {"audit", t.audit},   {"finalize", t.finalize}, {"total", t.total}};
  out["complete"] = true;
  return WriteFileDurably(out_ / "report.json", json::serialize(out) + "\n");
}

void ExtractFolder::RemoveWork() {
  lock_.reset();
  std::error_code ec;
  fs::remove_all(work_, ec);
}

}  // namespace carrefour::research::internal
