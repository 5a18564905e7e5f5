// SPDX-License-Identifier: EUPL-1.2
// RunExtract: cohort -> batches -> provide calls -> pseudonymized batch files
// and journal -> k-anonymity -> the extract (research.h; docs/research.md).

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "api/json.h"
#include "audit/audit_log.h"
#include "exchange/consultation.h"
#include "niss/niss.h"
#include "core/csv.h"
#include "research/internal/extract_files.h"
#include "research/internal/files.h"
#include "research/internal/generalize.h"
#include "research/internal/kanon.h"
#include "research/internal/scrub.h"
#include "research/research.h"
#include "store/store.h"

namespace carrefour::research {
namespace json = boost::json;
namespace fs = std::filesystem;
using internal::Ladder;

namespace {

using SteadyClock = std::chrono::steady_clock;

double Since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Persons per directory read while selecting a cohort.
constexpr size_t kCohortPage = 10000;

// One data type of the project, ready to route calls and to turn answers
// into rows.
struct Plan {
  const network::ResearchData* data = nullptr;
  // Availability without a capacity: asked about every person.
  std::vector<const network::Institution*> everywhere;
  // Availability with a capacity: asked only where the provider holds a file
  // of that capacity on the person during the project's period.
  struct Bound {
    std::string provider_type;
    std::string capacity;
  };
  std::vector<Bound> bound;
  std::vector<int> qi;  // per field: index into project.quasi_identifiers, or -1
};

std::vector<Plan> MakePlans(const network::Definition& definition,
                            const network::ResearchProject& project) {
  std::vector<Plan> plans;
  for (const network::ResearchData& data : project.data) {
    Plan plan;
    plan.data = &data;
    for (const network::Availability& availability : definition.availability()) {
      if (availability.data_type != data.data_type) continue;
      if (availability.capacity) {
        plan.bound.push_back({availability.provider_type, *availability.capacity});
        continue;
      }
      for (const network::Institution& institution : definition.institutions()) {
        if (institution.type != availability.provider_type) continue;
        if (std::find(plan.everywhere.begin(), plan.everywhere.end(), &institution) ==
            plan.everywhere.end()) {
          plan.everywhere.push_back(&institution);
        }
      }
    }
    for (const std::string& field : data.fields) {
      int index = -1;
      for (size_t q = 0; q < project.quasi_identifiers.size(); ++q) {
        const network::QuasiIdentifier& qi = project.quasi_identifiers[q];
        if (qi.data_type == data.data_type && qi.field == field) index = static_cast<int>(q);
      }
      plan.qi.push_back(index);
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

// The providers to ask about one person for one plan, in definition order,
// each once (docs/api.md section 4.2 step 2, without a requester's file: the
// project's legal basis stands in for it).
std::vector<const network::Institution*> Route(const network::Definition& definition,
                                               const Plan& plan, const Period& period,
                                               const std::vector<directory::Entry>& entries) {
  std::vector<const network::Institution*> providers = plan.everywhere;
  if (plan.bound.empty()) return providers;
  for (const network::Institution& institution : definition.institutions()) {
    if (std::find(providers.begin(), providers.end(), &institution) != providers.end()) continue;
    bool holds = false;
    for (const Plan::Bound& bound : plan.bound) {
      if (institution.type != bound.provider_type) continue;
      for (const directory::Entry& entry : entries) {
        if (entry.institution == institution.id && entry.capacity == bound.capacity &&
            entry.period.Overlaps(period)) {
          holds = true;
          break;
        }
      }
      if (holds) break;
    }
    if (holds) providers.push_back(&institution);
  }
  return providers;
}

// --- the cohort --------------------------------------------------------------

Result<std::vector<std::string>> SelectCohort(const network::Definition& definition,
                                              const network::ResearchProject& project,
                                              const ExtractOptions& options, store::Store& store,
                                              Date today) {
  std::vector<std::string> cohort;
  const network::ResearchCohort& wanted = project.cohort;
  if (wanted.IsList()) {
    std::vector<std::string> problems;
    size_t invalid = 0;
    for (size_t i = 0; i < options.supplied_cohort.size(); ++i) {
      Result<std::string> number = niss::Normalize(options.supplied_cohort[i], today);
      if (number) {
        cohort.push_back(std::move(*number));
        continue;
      }
      // The position only: the message must not repeat a national number.
      if (++invalid <= 5) {
        problems.push_back(fmt::format("number {}: {}", i + 1, number.error().message()));
      }
    }
    if (invalid > 0) {
      std::string list;
      for (const std::string& problem : problems) list += (list.empty() ? "" : "; ") + problem;
      return Error(InvalidRequest(fmt::format(
          "the cohort supplied by {} has {} invalid number{} "
          "({}{}); nothing was extracted",
          wanted.supplied_by, invalid, invalid == 1 ? "" : "s", list, invalid > 5 ? "; ..." : "")));
    }
    if (cohort.empty()) {
      return Error(
          InvalidRequest(fmt::format("research project '{}' takes its cohort from a list "
                                     "supplied by {}, and none was given",
                                     project.id, wanted.supplied_by)));
    }
    std::sort(cohort.begin(), cohort.end());
    cohort.erase(std::unique(cohort.begin(), cohort.end()), cohort.end());
    return cohort;
  }

  std::vector<std::string> institutions;
  for (const network::Institution& institution : definition.institutions()) {
    if (institution.id == wanted.institution || institution.type == wanted.institution_type) {
      institutions.push_back(institution.id);
    }
  }
  std::string after;
  while (true) {
    Result<std::vector<std::string>> page = store.directory().PersonsWithEntries(
        institutions, wanted.capacity, wanted.period, after, kCohortPage);
    if (!page) {
      return Error(Unavailable(
          fmt::format("the person directory could not be read: {}", page.error().message())));
    }
    if (page->empty()) break;
    after = page->back();
    size_t size = page->size();
    cohort.insert(cohort.end(), std::make_move_iterator(page->begin()),
                  std::make_move_iterator(page->end()));
    if (size < kCohortPage) break;
  }
  return cohort;
}

// --- provide calls ------------------------------------------------------------

// Bounds the provide calls in flight.
class Window {
 public:
  explicit Window(size_t limit) : limit_(std::max<size_t>(limit, 1)) {}

  void Acquire() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return in_flight_ < limit_; });
    ++in_flight_;
  }
  void Release() {
    std::lock_guard lock(mu_);
    --in_flight_;
    changed_.notify_all();
  }
  void WaitIdle() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return in_flight_ == 0; });
  }

 private:
  const size_t limit_;
  std::mutex mu_;
  std::condition_variable changed_;
  size_t in_flight_ = 0;
};

// What the answers of one batch are turned into, read-only while calls run.
struct Transform {
  const std::vector<Ladder>* ladders;
  const Pseudonymizer* pseudonyms;
  Date today;
};

// One provide call of a batch and what became of it.
struct Call {
  size_t person = 0;  // in the batch
  size_t plan = 0;
  const network::Institution* provider = nullptr;
  std::string body;
  int attempts = 0;
  enum class Outcome { kPending, kRows, kNoData, kError } outcome = Outcome::kPending;
  std::vector<std::vector<std::string>> rows;
  Status error;
};

// docs/api.md section 5: 200 {"data": {...} | [{...}, ...]}, or 404 no-data;
// anything else is an error of that provider.
void Interpret(Call& call, Result<exchange::ProviderReply> reply, const Plan& plan,
               const Transform& transform, const std::string& pseudonym) {
  call.rows.clear();
  if (!reply) {
    call.outcome = Call::Outcome::kError;
    call.error = reply.error();
    return;
  }
  auto malformed = [&](std::string_view why) {
    call.outcome = Call::Outcome::kError;
    call.error = Unavailable(fmt::format("the answer of {} {}", call.provider->id, why));
  };
  boost::system::error_code ec;
  json::value body = json::parse(reply->body, ec);
  if (reply->status == 404) {
    const json::object* object = ec ? nullptr : body.if_object();
    const json::value* error = object ? object->if_contains("error") : nullptr;
    const json::value* code =
        error && error->is_object() ? error->as_object().if_contains("code") : nullptr;
    if (code && code->is_string() && code->as_string() == "no-data") {
      call.outcome = Call::Outcome::kNoData;
      return;
    }
    return malformed("was HTTP 404 without the no-data code");
  }
  if (reply->status != 200) return malformed(fmt::format("was HTTP {}", reply->status));
  if (ec) return malformed("is not JSON");
  const json::value* data = body.is_object() ? body.as_object().if_contains("data") : nullptr;
  if (data == nullptr) return malformed("has no 'data'");
  std::vector<const json::object*> records;
  if (data->is_object()) {
    records.push_back(&data->as_object());
  } else if (data->is_array()) {
    for (const json::value& item : data->as_array()) {
      if (!item.is_object()) return malformed("holds a list with something else than objects");
      records.push_back(&item.as_object());
    }
  } else {
    return malformed("has a 'data' that is neither an object nor a list of objects");
  }
  const std::vector<std::string>& fields = plan.data->fields;
  for (const json::object* record : records) {
    std::vector<std::string> row;
    row.reserve(fields.size() + 2);
    row.push_back(pseudonym);
    row.push_back(call.provider->id);
    for (size_t f = 0; f < fields.size(); ++f) {
      // Only the fields the project asked for, whatever else came back.
      const json::value* value = record->if_contains(fields[f]);
      std::string cell;
      if (value != nullptr) {
        cell = internal::CellText(internal::Scrub(*value, *transform.pseudonyms, transform.today));
      }
      if (plan.qi[f] >= 0)
        cell = (*transform.ladders)[static_cast<size_t>(plan.qi[f])].Coarsen(cell);
      row.push_back(std::move(cell));
    }
    call.rows.push_back(std::move(row));
  }
  call.outcome = Call::Outcome::kRows;
}

// --- one batch ------------------------------------------------------------------

// Everything one run shares between its batches.
struct Run {
  Run(const ExtractContext& context_in, const ExtractOptions& options_in,
      const network::ResearchProject& project_in, std::string run_id_in, std::string data_types_in,
      Date today_in)
      : context(&context_in),
        options(&options_in),
        project(&project_in),
        plans(MakePlans(context_in.definition, project_in)),
        pseudonyms(context_in.master_key, project_in.id),
        run_id(std::move(run_id_in)),
        data_types(std::move(data_types_in)),
        today(today_in) {
    report.project = project_in.id;
    for (const network::QuasiIdentifier& qi : project_in.quasi_identifiers)
      ladders.emplace_back(qi);
    for (const Plan& plan : plans) needs_entries = needs_entries || !plan.bound.empty();
  }

  const ExtractContext* context;
  const ExtractOptions* options;
  const network::ResearchProject* project;
  std::vector<Plan> plans;
  std::vector<Ladder> ladders;
  Pseudonymizer pseudonyms;
  internal::ExtractFolder folder;
  std::string run_id;
  std::string data_types;  // "a,b,c" for audit records
  bool needs_entries = false;
  Date today;
  ExtractReport report;
  uint64_t call_counter = 0;
};

struct Person {
  std::string niss;
  std::string pseudonym;
};

// A batch whose answers are in, ready to be made durable.
struct Gathered {
  size_t number = 0;
  std::vector<Person> persons;
  std::vector<std::string> parts;  // CSV rows, one text per plan
  size_t rows = 0;
};

using EntriesByPerson = std::unordered_map<std::string_view, std::vector<directory::Entry>>;

// Routing: the batch's directory entries in one read, when some data type
// is held only where a file of some capacity is.
Result<EntriesByPerson> BatchEntries(const Run& run, const std::vector<Person>& persons) {
  EntriesByPerson entries;
  if (!run.needs_entries) return entries;
  std::vector<std::string> numbers;
  numbers.reserve(persons.size());
  for (const Person& person : persons) numbers.push_back(person.niss);
  Result<std::vector<directory::Entry>> all = run.context->store.directory().EntriesOfPersons(numbers);
  if (!all) {
    return Error(Unavailable(
        fmt::format("the person directory could not be read: {}", all.error().message())));
  }
  // Indexed by number: the batch is in pseudonym order, the entries in
  // number order.
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < persons.size(); ++i) index.emplace(persons[i].niss, i);
  for (directory::Entry& entry : *all) {
    auto it = index.find(entry.niss);
    if (it == index.end()) continue;
    entries[persons[it->second].niss].push_back(std::move(entry));
  }
  return entries;
}

// One call per person, data type and provider the routing names, with its
// provide request body.
std::vector<Call> PlanCalls(Run& run, const std::vector<Person>& persons, const EntriesByPerson& entries) {
  static const std::vector<directory::Entry> kNoEntries;
  const network::ResearchProject& project = *run.project;
  std::vector<Call> calls;
  for (size_t p = 0; p < persons.size(); ++p) {
    auto found = entries.find(persons[p].niss);
    const std::vector<directory::Entry>& person_entries =
        found == entries.end() ? kNoEntries : found->second;
    for (size_t d = 0; d < run.plans.size(); ++d) {
      for (const network::Institution* provider :
           Route(run.context->definition, run.plans[d], project.period, person_entries)) {
        Call& call = calls.emplace_back();
        call.person = p;
        call.plan = d;
        call.provider = provider;
      }
    }
  }
  return calls;
}

void WriteProvideBodies(Run& run, const std::vector<Person>& persons, std::vector<Call>& calls) {
  const network::ResearchProject& project = *run.project;
  for (Call& call : calls) {
    const network::ResearchData& data = *run.plans[call.plan].data;
    json::object provide;
    provide["request_id"] = fmt::format("{}-{}", run.run_id, run.call_counter++);
    provide["data_type"] = data.data_type;
    provide["niss"] = persons[call.person].niss;
    provide["period"] = api::PeriodJson(project.period);
    json::array fields;
    for (const std::string& field : data.fields) fields.emplace_back(field);
    provide["fields"] = std::move(fields);
    provide["requester"] = run.options->as;
    provide["legal_basis"] = project.legal_basis;
    call.body = json::serialize(provide);
  }
}

// Provide calls, at most options.concurrency in flight. The answers are
// pseudonymized and coarsened on the client's threads as they arrive.
void SendCalls(const Run& run, const std::vector<Person>& persons, std::vector<Call>& calls) {
  const ExtractOptions& options = *run.options;
  Transform transform{&run.ladders, &run.pseudonyms, run.today};
  Window window(options.concurrency);
  // A call's completion may re-send it (a retry) from the client's thread;
  // the window slot is held until its last attempt ends.
  std::function<void(Call&)> send = [&](Call& call) {
    ++call.attempts;
    run.context->gateway.Provide(*call.provider, call.body, [&](Result<exchange::ProviderReply> reply) {
      Interpret(call, std::move(reply), run.plans[call.plan], transform,
                persons[call.person].pseudonym);
      if (call.outcome == Call::Outcome::kError && call.attempts <= options.retries) {
        send(call);
        return;
      }
      window.Release();
    });
  };
  for (Call& call : calls) {
    window.Acquire();
    send(call);
  }
  window.WaitIdle();
}

// Counts the no-data answers; an error naming the first failed call when
// any failed (the batch is then not kept).
Status CountOutcomes(Run& run, const std::vector<Call>& calls, size_t batch_number) {
  const ExtractOptions& options = *run.options;
  size_t errors = 0;
  const Call* first_error = nullptr;
  for (const Call& call : calls) {
    if (call.outcome == Call::Outcome::kNoData) ++run.report.no_data;
    if (call.outcome != Call::Outcome::kError) continue;
    if (++errors == 1) first_error = &call;
  }
  if (errors == 0) return OkStatus();
  return Unavailable(fmt::format(
      "{} provide call{} of batch {} failed after {} attempt{} (first: {} for {}: {}); the "
      "batch was not kept",
      errors, errors == 1 ? "" : "s", batch_number, options.retries + 1,
      options.retries == 0 ? "" : "s", first_error->provider->id,
      run.plans[first_error->plan].data->data_type, first_error->error.ToString()));
}

// Routes and calls the providers for one batch, and turns the answers into
// its rows. Nothing is written here. Runs on the caller's thread while the
// previous batch is being committed (Commit) on another.
Result<Gathered> Gather(Run& run, size_t batch_number, std::vector<Person> persons_in) {
  Gathered gathered;
  gathered.number = batch_number;
  gathered.persons = std::move(persons_in);
  const std::vector<Person>& persons = gathered.persons;

  SteadyClock::time_point stage = SteadyClock::now();
  CARREFOUR_ASSIGN_OR_RETURN(EntriesByPerson entries, BatchEntries(run, persons));
  std::vector<Call> calls = PlanCalls(run, persons, entries);
  run.report.timings.route += Since(stage);

  stage = SteadyClock::now();
  WriteProvideBodies(run, persons, calls);
  SendCalls(run, persons, calls);
  run.report.provider_calls += calls.size();
  CARREFOUR_RETURN_IF_ERROR(CountOutcomes(run, calls, batch_number));
  gathered.parts.resize(run.plans.size());
  for (const Call& call : calls) {
    for (const std::vector<std::string>& row : call.rows) {
      csv::AppendRecord(gathered.parts[call.plan], row);
      ++gathered.rows;
    }
  }
  run.report.timings.provide += Since(stage);
  return gathered;
}

// Makes a gathered batch durable: its files, then its audit records, then
// its journal line; a batch counts as done only once all three are. One
// Commit at a time, in batch order (the journal's order).
Status Commit(Run& run, const Gathered& batch) {
  const ExtractContext& context = *run.context;
  const ExtractOptions& options = *run.options;
  const network::ResearchProject& project = *run.project;
  const std::vector<Person>& persons = batch.persons;
  const size_t batch_number = batch.number;

  SteadyClock::time_point stage = SteadyClock::now();
  // Each file synced, then the folder once for all their renames.
  for (size_t d = 0; d < run.plans.size(); ++d) {
    CARREFOUR_RETURN_IF_ERROR(internal::WriteFileDurably(
        run.folder.Part(batch_number, run.plans[d].data->data_type), batch.parts[d], false));
  }
  std::string members;
  for (const Person& person : persons) {
    members += person.pseudonym;
    members += '\n';
  }
  CARREFOUR_RETURN_IF_ERROR(
      internal::WriteFileDurably(run.folder.Members(batch_number), members, false));
  CARREFOUR_RETURN_IF_ERROR(internal::SyncFolder(run.folder.Members(batch_number).parent_path()));
  run.report.timings.write += Since(stage);

  // "used in research project P" in each person's transparency view. The
  // records name the person (the audit log is the hub's), never the
  // pseudonym.
  stage = SteadyClock::now();
  {
    std::mutex mu;
    std::condition_variable done;
    size_t remaining = persons.size();
    Status failure;
    for (const Person& person : persons) {
      audit::Record record;
      record.kind = audit::Kind::kResearch;
      record.request_id = run.run_id;
      record.requester = options.as;
      record.niss = person.niss;
      record.data_type = run.data_types;
      record.legal_basis = project.legal_basis;
      record.reason = fmt::format("used in research project {}", project.id);
      record.detail = internal::ProjectDetail(project.id);
      context.audit.Append(std::move(record), [&](const Status& written) {
        std::lock_guard lock(mu);
        if (!written.ok() && failure.ok()) failure = written;
        if (--remaining == 0) done.notify_all();
      });
    }
    std::unique_lock lock(mu);
    done.wait(lock, [&] { return remaining == 0; });
    if (!failure.ok()) {
      return Internal(
          fmt::format("the audit log could not be written, so batch {} was not kept: {}",
                      batch_number, failure.message()));
    }
  }
  run.report.timings.audit += Since(stage);

  stage = SteadyClock::now();
  CARREFOUR_RETURN_IF_ERROR(run.folder.CommitBatch(batch_number, persons.size(), batch.rows));
  run.report.timings.write += Since(stage);
  return OkStatus();
}

// --- the end: k-anonymity and the final files -------------------------------------

// Everybody processed, in batch order, and where each stands in that list.
struct Members {
  std::vector<std::string> pseudonyms;
  std::unordered_map<std::string, size_t> index;
};

Result<Members> ReadMembers(const Run& run) {
  Members members;
  for (size_t batch : run.folder.batches()) {
    CARREFOUR_ASSIGN_OR_RETURN(std::string text,
                               internal::ReadWholeFile(run.folder.Members(batch)));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string pseudonym = text.substr(start, end - start);
      start = end + 1;
      if (pseudonym.empty() || members.index.count(pseudonym) != 0) continue;
      members.index.emplace(pseudonym, members.pseudonyms.size());
      members.pseudonyms.push_back(std::move(pseudonym));
    }
  }
  return members;
}

// Each person's quasi-identifier values (level 0), from the batch files.
Result<std::vector<std::vector<internal::QiValues>>> ReadQiValues(const Run& run, const Members& members) {
  const size_t qis = run.project->quasi_identifiers.size();
  std::vector<std::vector<internal::QiValues>> values(members.pseudonyms.size(),
                                                      std::vector<internal::QiValues>(qis));
  std::vector<std::string> fields;
  for (const Plan& plan : run.plans) {
    if (std::all_of(plan.qi.begin(), plan.qi.end(), [](int q) { return q < 0; })) continue;
    for (size_t batch : run.folder.batches()) {
      CARREFOUR_ASSIGN_OR_RETURN(
          std::string text, internal::ReadWholeFile(run.folder.Part(batch, plan.data->data_type)));
      size_t pos = 0;
      while (true) {
        CARREFOUR_ASSIGN_OR_RETURN(bool more, csv::NextRecord(text, &pos, &fields));
        if (!more) break;
        if (fields.size() != plan.data->fields.size() + 2) {
          return Error(Internal(fmt::format("{} is damaged (a row of {} fields)",
                                            run.folder.Part(batch, plan.data->data_type).string(),
                                            fields.size())));
        }
        auto person = members.index.find(fields[0]);
        if (person == members.index.end()) continue;
        for (size_t f = 0; f < plan.qi.size(); ++f) {
          if (plan.qi[f] >= 0)
            values[person->second][static_cast<size_t>(plan.qi[f])].insert(fields[f + 2]);
        }
      }
    }
  }
  return values;
}

// One plan's final CSV: the released persons' rows, quasi-identifiers at
// their released level. Returns how many rows it holds.
Result<size_t> WriteFinalFile(const Run& run, const Plan& plan, const Members& members,
                              const internal::KAnonymity& kanon) {
  const std::string& data_type = plan.data->data_type;
  CARREFOUR_ASSIGN_OR_RETURN(internal::DurableWriter out,
                             internal::DurableWriter::Open(run.folder.Final(data_type)));
  std::vector<std::string> header = {"pseudonym", "provider"};
  header.insert(header.end(), plan.data->fields.begin(), plan.data->fields.end());
  std::string chunk;
  csv::AppendRecord(chunk, header);
  std::vector<std::string> fields;
  size_t rows = 0;
  for (size_t batch : run.folder.batches()) {
    CARREFOUR_ASSIGN_OR_RETURN(std::string text,
                               internal::ReadWholeFile(run.folder.Part(batch, data_type)));
    size_t pos = 0;
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool more, csv::NextRecord(text, &pos, &fields));
      if (!more) break;
      auto person = members.index.find(fields[0]);
      if (person == members.index.end() || kanon.suppressed[person->second]) continue;
      for (size_t f = 0; f < plan.qi.size(); ++f) {
        if (plan.qi[f] < 0) continue;
        size_t q = static_cast<size_t>(plan.qi[f]);
        fields[f + 2] = run.ladders[q].At(fields[f + 2], kanon.levels[q]);
      }
      csv::AppendRecord(chunk, fields);
      ++rows;
    }
    CARREFOUR_RETURN_IF_ERROR(out.Append(chunk));
    chunk.clear();
  }
  CARREFOUR_RETURN_IF_ERROR(out.Append(chunk));
  CARREFOUR_RETURN_IF_ERROR(out.Commit());
  return rows;
}

Status Finalize(Run& run) {
  const network::ResearchProject& project = *run.project;
  SteadyClock::time_point stage = SteadyClock::now();
  CARREFOUR_ASSIGN_OR_RETURN(Members members, ReadMembers(run));
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<std::vector<internal::QiValues>> values, ReadQiValues(run, members));
  const size_t budget = members.pseudonyms.size() * static_cast<size_t>(project.max_suppression) / 100;
  internal::KAnonymity kanon =
      internal::MakeKAnonymous(run.ladders, values, static_cast<size_t>(project.k), budget);

  for (const Plan& plan : run.plans) {
    CARREFOUR_ASSIGN_OR_RETURN(run.report.rows[plan.data->data_type], WriteFinalFile(run, plan, members, kanon));
  }

  run.report.persons_suppressed = kanon.suppressed_count;
  run.report.persons_released = members.pseudonyms.size() - kanon.suppressed_count;
  run.report.smallest_group = kanon.smallest_group;
  for (size_t q = 0; q < project.quasi_identifiers.size(); ++q) {
    const network::QuasiIdentifier& qi = project.quasi_identifiers[q];
    run.report.quasi_identifiers.push_back(
        {qi.data_type, qi.field, std::string(run.ladders[q].LevelName(0)),
         std::string(run.ladders[q].LevelName(kanon.levels[q]))});
  }
  CARREFOUR_RETURN_IF_ERROR(run.folder.WriteDictionary(project, run.report));
  run.report.complete = true;
  run.report.timings.finalize = Since(stage);
  return OkStatus();
}

Status AuditSummary(const ExtractContext& context, const ExtractOptions& options,
                    const network::ResearchProject& project, const std::string& run_id,
                    const std::string& data_types, StatusCode outcome, std::string reason,
                    std::string detail) {
  audit::Record record;
  record.kind = audit::Kind::kResearch;
  record.request_id = run_id;
  record.requester = options.as;
  record.data_type = data_types;
  record.legal_basis = project.legal_basis;
  record.outcome = outcome;
  record.reason = std::move(reason);
  record.detail = std::move(detail);
  Status written = context.audit.AppendAndWait(std::move(record));
  if (!written.ok())
    return Internal(fmt::format("the audit log could not be written: {}", written.message()));
  return OkStatus();
}

// The project `options.project` names, or NotFound naming the known ones.
Result<const network::ResearchProject*> FindProject(const ExtractContext& context, const ExtractOptions& options) {
  const network::ResearchProject* project = context.definition.FindResearchProject(options.project);
  if (project != nullptr) return project;
  std::string known;
  for (const network::ResearchProject& p : context.definition.research_projects()) {
    known += (known.empty() ? "" : ", ") + p.id;
  }
  return Error(NotFound(fmt::format("no research project '{}' in {} (projects: {})", options.project,
                                    context.definition.source(), known.empty() ? "none" : known)));
}

// Whoever a completed batch holds is done; the rest is shuffled by going in
// pseudonym order, so that the order of rows in the extract says nothing
// about national numbers (which encode birth dates).
Result<std::vector<Person>> RemainingPersons(Run& run, std::vector<std::string> cohort) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unordered_set<std::string> done, run.folder.DonePseudonyms());
  std::vector<Person> remaining;
  remaining.reserve(cohort.size());
  for (std::string& niss : cohort) {
    std::string pseudonym = run.pseudonyms.Pseudonym(niss);
    if (done.count(pseudonym) != 0) continue;
    remaining.push_back(Person{std::move(niss), std::move(pseudonym)});
  }
  std::vector<std::string>().swap(cohort);
  std::sort(remaining.begin(), remaining.end(),
            [](const Person& a, const Person& b) { return a.pseudonym < b.pseudonym; });
  run.report.persons_done = done.size();
  return remaining;
}

// Gathers and commits the batches of `remaining`, a pipeline one batch deep:
// the providers answer batch N + 1 while batch N is written and audited,
// which hides most of the fsyncs and of the audit log's commits behind the
// provide calls. True when stopped before the end (max_batches, cancel).
Result<bool> RunBatches(Run& run, std::vector<Person>& remaining, SteadyClock::time_point start) {
  const ExtractOptions& options = *run.options;
  const size_t batches_total = (remaining.size() + options.batch_size - 1) / options.batch_size;
  Progress progress;
  progress.cohort_size = run.report.cohort_size;
  progress.persons_done = run.report.persons_done;
  progress.batches_total = batches_total;
  if (options.progress) options.progress(progress);

  size_t next_batch = run.folder.NextBatchNumber();
  // While a commit is in flight, only its thread touches the counters and
  // `progress` (which it reports as soon as the batch is durable).
  std::future<Status> committing;
  auto finish_commit = [&]() -> Status {
    return committing.valid() ? committing.get() : OkStatus();
  };
  auto stop_with = [&](Status status) {
    return Error(status.WithContext(fmt::format(
        "research extract of '{}' stopped with {} of {} persons done; run it again to resume",
        run.project->id, run.report.persons_done, run.report.cohort_size)));
  };
  for (size_t b = 0; b < batches_total; ++b) {
    if ((options.max_batches != 0 && b >= options.max_batches) ||
        (options.cancel != nullptr && options.cancel->load())) {
      if (Status committed = finish_commit(); !committed.ok()) return stop_with(committed);
      return true;
    }
    size_t begin = b * options.batch_size;
    size_t end = std::min(remaining.size(), begin + options.batch_size);
    std::vector<Person> batch(
        std::make_move_iterator(remaining.begin() + static_cast<std::ptrdiff_t>(begin)),
        std::make_move_iterator(remaining.begin() + static_cast<std::ptrdiff_t>(end)));
    Result<Gathered> gathered = Gather(run, next_batch, std::move(batch));
    // The batch before is kept whatever happened to this one.
    Status committed = finish_commit();
    if (!committed.ok()) return stop_with(committed);
    if (!gathered) return stop_with(gathered.error());
    committing = std::async(std::launch::async, [&, batch = std::move(*gathered)] {
      Status status = Commit(run, batch);
      if (!status.ok()) return status;
      ++run.report.batches_run;
      run.report.persons_done += batch.persons.size();
      progress.persons_done = run.report.persons_done;
      progress.batches_done = run.report.batches_run;
      progress.rows = run.folder.rows_written();
      progress.seconds = Since(start);
      if (options.progress) options.progress(progress);
      return status;
    });
    ++next_batch;
  }
  if (Status committed = finish_commit(); !committed.ok()) return stop_with(committed);
  return false;
}

// Every batch done: the final files, the report, the audit summary; the
// work files go.
Status Complete(Run& run, SteadyClock::time_point start) {
  const network::ResearchProject& project = *run.project;
  CARREFOUR_RETURN_IF_ERROR(Finalize(run));
  size_t rows = 0;
  for (const auto& [type, count] : run.report.rows) rows += count;
  run.report.timings.total = Since(start);
  CARREFOUR_RETURN_IF_ERROR(run.folder.WriteReport(project, run.options->as, run.report));
  CARREFOUR_RETURN_IF_ERROR(AuditSummary(
      *run.context, *run.options, project, run.run_id, run.data_types, StatusCode::kOk,
      fmt::format("research extract of project {} complete", project.id),
      fmt::format("{} cohort={} released={} suppressed={} rows={}", internal::ProjectDetail(project.id),
                  run.report.cohort_size, run.report.persons_released, run.report.persons_suppressed,
                  rows)));
  run.folder.RemoveWork();
  return OkStatus();
}

}  // namespace

Result<ExtractReport> RunExtract(const ExtractContext& context, const ExtractOptions& options) {
  const SteadyClock::time_point start = SteadyClock::now();
  CARREFOUR_ASSIGN_OR_RETURN(const network::ResearchProject* project, FindProject(context, options));
  std::string data_types;
  for (const network::ResearchData& data : project->data) {
    data_types += (data_types.empty() ? "" : ",") + data.data_type;
  }
  const std::string run_id = audit::NewRequestId();
  const Date today = context.clock.Today();

  // An institution without the project's legal basis is refused, and the
  // refusal is on record like a refused consultation.
  Status may = CheckMayRun(context.definition, *project, options.as, today);
  if (!may.ok()) {
    CARREFOUR_RETURN_IF_ERROR(AuditSummary(context, options, *project, run_id, data_types,
                                           may.code(), may.message(),
                                           internal::ProjectDetail(project->id) + " refused"));
    return Error(may);
  }
  if (options.out.empty()) return Error(InvalidRequest("the output folder is required"));
  if (options.batch_size == 0 || options.concurrency == 0 || options.retries < 0) {
    return Error(
        InvalidRequest("batch size and concurrency must be at least 1, retries at least 0"));
  }

  Run run(context, options, *project, run_id, data_types, today);
  // Locked for the whole run: two runs on one folder would both take the
  // same persons.
  CARREFOUR_ASSIGN_OR_RETURN(
      run.folder,
      internal::ExtractFolder::Open(options.out, project->id, run.pseudonyms.KeyFingerprint()));

  SteadyClock::time_point stage = SteadyClock::now();
  CARREFOUR_ASSIGN_OR_RETURN(
      std::vector<std::string> cohort,
      SelectCohort(context.definition, *project, options, context.store, today));
  run.report.cohort_size = cohort.size();
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Person> remaining, RemainingPersons(run, std::move(cohort)));
  run.report.timings.select = Since(stage);
  run.report.batches_resumed = run.folder.batches().size();

  CARREFOUR_RETURN_IF_ERROR(AuditSummary(
      context, options, *project, run_id, data_types, StatusCode::kOk,
      fmt::format("research extract of project {} started", project->id),
      fmt::format("{} cohort={} done={} to_do={}", internal::ProjectDetail(project->id),
                  run.report.cohort_size, run.report.persons_done, remaining.size())));

  CARREFOUR_ASSIGN_OR_RETURN(bool stopped, RunBatches(run, remaining, start));
  if (!stopped) CARREFOUR_RETURN_IF_ERROR(Complete(run, start));
  run.report.timings.total = Since(start);
  return std::move(run.report);
}

}  // namespace carrefour::research
