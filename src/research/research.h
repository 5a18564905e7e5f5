// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Research extracts and safe aggregates: the hub's third mission (DESIGN.md),
// integrated cross-sector information for policy makers and researchers,
// never identifying anybody. Start here; docs/research.md has the why.
//
// A research project is declared in the network definition
// ([[research_project]], network::ResearchProject): who asked, on which legal
// basis, the cohort, the data types and fields, the quasi-identifiers and how
// to coarsen them, and the minimum group size k. Then:
//
//   RunExtract(context, options)
//     cohort (person directory, or a supplied list) -> batches -> provide
//     calls to the authentic sources (docs/api.md section 5), concurrent ->
//     every national number replaced by the project's pseudonym, direct
//     identifiers dropped, quasi-identifiers coarsened -> batch files and a
//     journal in the output folder (an interrupted run resumes there) ->
//     k-anonymity on the quasi-identifiers -> one CSV per data type, a data
//     dictionary and a report
//   Aggregate(project, options)
//     counts and sums by dimensions over a finished extract, with small-cell
//     and complementary suppression
//
// The hub is the trusted third party: it sees the national numbers, the
// extract never does. Pseudonyms are HMAC-SHA-256 under a key only the hub
// holds (DATA/research.key), derived per project: stable within a project,
// unlinkable across projects.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/reply.h"
#include "core/clock.h"
#include "core/result.h"
#include "network/model.h"

namespace carrefour::audit {
class AuditLog;
}
namespace carrefour::exchange {
class ProviderGateway;
}
namespace carrefour::store {
class Store;
}

namespace carrefour::research {

// --- who may run a project ---------------------------------------------------

// Whether `institution` may run `project` on `today`: only the project's
// requester holds its legal basis, and only while that legal basis is valid.
// unknown-institution when `institution` is not in `definition`;
// not-authorized (saying which rule) otherwise.
Status CheckMayRun(const network::Definition& definition, const network::ResearchProject& project,
                   std::string_view institution, Date today);

// --- pseudonyms --------------------------------------------------------------

// The hub's research key (64 hex digits on one line) in `file`, created with
// mode 0600 from the system's CSPRNG when absent. kInternal when it cannot be
// read or created, or is not a key.
Result<std::string> LoadOrCreateKey(const std::filesystem::path& file);

// Project-specific pseudonyms. Cheap to copy; thread-safe (const).
class Pseudonymizer {
 public:
  // `master_key`: the hub's research key. The project key is
  // HMAC-SHA-256(master key, project id): one key per project, so the same
  // person gets unrelated pseudonyms in two projects.
  Pseudonymizer(std::string_view master_key, std::string_view project);

  // The pseudonym of `niss` (11 digits): the first 128 bits of
  // HMAC-SHA-256(project key, niss) written as 32 letters a-p, so that no
  // pseudonym can ever be mistaken for (or scanned as) a national number.
  std::string Pseudonym(std::string_view niss) const;

  // 16 hex digits that identify the project key without revealing it or
  // any pseudonym: a resumed extract refuses a folder made with another key.
  std::string KeyFingerprint() const;

 private:
  unsigned char key_[32];
};

// --- the extract -------------------------------------------------------------

// Where a running extract is. Given to ExtractOptions::progress after the
// cohort is selected and after every batch.
struct Progress {
  size_t cohort_size = 0;
  size_t persons_done = 0;   // resumed ones included
  size_t batches_done = 0;   // in this run
  size_t batches_total = 0;  // in this run
  size_t rows = 0;           // in this run
  double seconds = 0;        // since the run started
};

struct ExtractOptions {
  std::string project;
  std::string as;  // the institution running it: must be the requester
  // The output folder: the extract (one CSV per data type, dictionary.csv,
  // report.json) once complete; the resume state (work/) until then.
  std::filesystem::path out;
  // A list cohort (cohort.supplied_by): the numbers as handed in, with
  // separators or not, one per element. Ignored for directory cohorts.
  std::vector<std::string> supplied_cohort;
  size_t batch_size = 1000;  // persons per batch (and per journal entry)
  size_t concurrency = 64;   // provide calls in flight at most
  int retries = 2;           // further attempts of a failed provide call
  // Stop (resumably) after this many batches; 0 = run to the end. For runs
  // in slices, and for tests of resumption.
  size_t max_batches = 0;
  // Checked between batches: set it to stop (resumably) as soon as the
  // batch in progress is written.
  const std::atomic<bool>* cancel = nullptr;
  // Called once the cohort is selected and once each batch is durable, one
  // call at a time but not always from the caller's thread (a batch is
  // committed while the next one's calls run).
  std::function<void(const Progress&)> progress;
};

// Seconds spent in each stage (wall time).
struct ExtractTimings {
  double select = 0;    // the cohort: person directory or supplied list
  double route = 0;     // the cohort's entries, to route capacity-bound data
  double provide = 0;   // provide calls, their answers pseudonymized
  double write = 0;     // batch files and journal, fsync included
  double audit = 0;     // per-person audit records, until durable
  double finalize = 0;  // k-anonymity and the final files
  double total = 0;
};

// How one quasi-identifier was released.
struct ReleasedQuasiIdentifier {
  std::string data_type;
  std::string field;
  std::string declared;  // the project's coarsening ("year")
  std::string released;  // after k-anonymity ("decade", or "suppressed")
};

struct ExtractReport {
  std::string project;
  bool complete = false;  // false: stopped early, resumable
  size_t cohort_size = 0;
  size_t persons_done = 0;
  size_t batches_run = 0;              // in this run
  size_t batches_resumed = 0;          // found complete in the journal
  size_t provider_calls = 0;           // in this run
  size_t no_data = 0;                  // answers "no-data" in this run
  std::map<std::string, size_t> rows;  // per data type, in the final files
  // k-anonymity (when complete):
  std::vector<ReleasedQuasiIdentifier> quasi_identifiers;
  size_t persons_suppressed = 0;
  size_t persons_released = 0;
  size_t smallest_group = 0;  // persons in the smallest released group
  ExtractTimings timings;
};

// What an extract runs on; every reference must outlive the call.
struct ExtractContext {
  const network::Definition& definition;
  store::Store& store;
  audit::AuditLog& audit;
  exchange::ProviderGateway& gateway;  // provide calls, as the hub (CN=hub)
  std::string master_key;              // LoadOrCreateKey(DATA/research.key)
  const Clock& clock;
};

// Runs (or resumes) the extract of options.project into options.out.
// Blocking; provide calls go out concurrently. Errors, with nothing of the
// run's current batch kept:
//   not-found            no such project
//   unknown-institution, not-authorized   CheckMayRun (the refusal is audited)
//   invalid-request      a bad option, a supplied list with no valid number,
//                        an output folder made by another project or key, or
//                        an extract already complete there
//   unavailable          the directory could not be read, or provide calls
//                        still failed after their retries (the message names
//                        the provider; the completed batches stay: run again
//                        to resume)
//   internal             the output folder or the audit log cannot be written
// Every person of every completed batch has an audit record ("used in
// research project P"), durable before the batch counts as done.
Result<ExtractReport> RunExtract(const ExtractContext& context, const ExtractOptions& options);

// --- aggregates ----------------------------------------------------------------

struct AggregateOptions {
  std::filesystem::path extract;  // a complete extract's folder
  // Dimensions, each "data_type.field" of the project (e.g.
  // "person.identity.birth_date"); at least one.
  std::vector<std::string> by;
  // Optional "data_type.field" whose values are summed (a number).
  std::string sum;
  // Minimum persons per published cell: at least the project's k (a
  // smaller value is raised to it); 0 = the project's k.
  int64_t k = 0;
};

// One cell of the table. A dimension at kTotal is the margin over it.
struct AggregateCell {
  std::vector<std::string> key;  // one value per dimension, or kTotal
  size_t persons = 0;
  double sum = 0;
  bool suppressed = false;
  bool primary = false;  // suppressed because persons < k (else: complementary)
};

struct AggregateTable {
  std::vector<std::string> by;
  std::string sum;
  int64_t k = 0;
  std::vector<AggregateCell> cells;  // sorted by key, margins after values
  size_t primary_suppressions = 0;
  size_t complementary_suppressions = 0;

  static constexpr std::string_view kTotal = "(all)";

  // CSV: the dimensions, "persons", "sum_<field>" when summing, "status"
  // ("" or "suppressed"); suppressed cells show neither count nor sum.
  std::string ToCsv() const;
};

// Counts (persons) and sums by `options.by` over the extract of `project`,
// with every margin. Cells of fewer than k persons are suppressed, and then
// further cells, until no line of the table (a row, a column, at any level
// of margins) has exactly one suppressed cell: no suppressed value can be
// computed back from the totals by subtraction.
// Errors: invalid-request (a dimension or sum not in the project, an extract
// that is not complete or not this project's, a sum over non-numbers),
// internal (the extract cannot be read).
Result<AggregateTable> Aggregate(const network::ResearchProject& project,
                                 const AggregateOptions& options);

// --- transparency --------------------------------------------------------------

// The project that a research audit record is about, from its detail
// ("project=P ..."); nullopt for any other detail. The per-person records of
// an extract (kind research, the person's number, reason "used in research
// project P") are what the transparency view lists; they never hold the
// pseudonym.
std::optional<std::string> ResearchProjectOf(std::string_view audit_detail);

// --- the hub's admin endpoint ----------------------------------------------------

// Runs extracts in the background for the hub's admin listener:
//   POST /v1/admin/research/extracts {"project", "as", "cohort"?: [numbers]}
//        -> 202 {"project", "status": "running", "out"}
//   GET  /v1/admin/research/extracts?project=P
//        -> 200 {"project", "status": "idle"|"running"|"complete"|"stopped"|
//                "failed", "cohort_size", "persons_done", ..., "error"?}
// Output under DATA/research/<project>/. One run per project at a time
// (409 already-exists otherwise). Thread-safe.
class ExtractJobs {
 public:
  using DefinitionSource = std::function<std::shared_ptr<const network::Definition>()>;

  ExtractJobs(DefinitionSource definition, store::Store& store, audit::AuditLog& audit,
              exchange::ProviderGateway& gateway, std::filesystem::path data_dir,
              const Clock& clock);
  // Asks running extracts to stop after their current batch and waits.
  ~ExtractJobs();
  ExtractJobs(const ExtractJobs&) = delete;
  ExtractJobs& operator=(const ExtractJobs&) = delete;

  using Reply = api::Reply;
  // The endpoint: `method` GET or POST, `project` the query parameter.
  Reply Handle(std::string_view method, std::optional<std::string_view> project,
               std::string_view body);

 private:
  struct Job;
  Reply Start(std::string_view body);
  Reply Get(std::string_view project);

  DefinitionSource definition_;
  store::Store& store_;
  audit::AuditLog& audit_;
  exchange::ProviderGateway& gateway_;
  std::filesystem::path data_dir_;
  const Clock& clock_;
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;  // by project; guarded by mu_
};

}  // namespace carrefour::research
