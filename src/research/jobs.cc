// SPDX-License-Identifier: EUPL-1.2
// ExtractJobs: research extracts run by the hub for its admin listener
// (research.h).

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/json.h"
#include "api/reply.h"
#include "audit/audit_log.h"
#include "research/internal/extract_files.h"
#include "research/research.h"

namespace carrefour::research {
namespace json = boost::json;

struct ExtractJobs::Job {
  std::shared_ptr<const network::Definition> definition;  // kept alive across reloads
  ExtractOptions options;
  std::thread thread;

  std::mutex mu;  // guards what follows
  std::string status = "running";
  Progress progress;
  std::string error;
  std::optional<ExtractReport> report;
};

using api::ErrorReply;

ExtractJobs::ExtractJobs(DefinitionSource definition, store::Store& store, audit::AuditLog& audit,
                         exchange::ProviderGateway& gateway, std::filesystem::path data_dir,
                         const Clock& clock)
    : definition_(std::move(definition)),
      store_(store),
      audit_(audit),
      gateway_(gateway),
      data_dir_(std::move(data_dir)),
      clock_(clock) {}

ExtractJobs::~ExtractJobs() {
  cancel_ = true;
  std::map<std::string, std::shared_ptr<Job>> jobs;
  {
    std::lock_guard lock(mu_);
    jobs = jobs_;
  }
  for (auto& [project, job] : jobs) {
    if (job->thread.joinable()) job->thread.join();
  }
}

ExtractJobs::Reply ExtractJobs::Handle(std::string_view method,
                                       std::optional<std::string_view> project,
                                       std::string_view body) {
  if (method == "POST") return Start(body);
  if (method == "GET") {
    if (!project || project->empty()) {
      return ErrorReply(InvalidRequest("the query parameter 'project' is required"));
    }
    return Get(*project);
  }
  return ErrorReply(InvalidRequest("use GET or POST"));
}

ExtractJobs::Reply ExtractJobs::Start(std::string_view body) {
  Result<json::object> request = api::ParseObject(body);
  if (!request) return ErrorReply(request.error());
  Status keys =
      api::RejectUnknownKeys(*request, {"project", "as", "cohort", "batch_size", "max_batches"});
  if (!keys.ok()) return ErrorReply(keys);
  Result<std::string> project_id = api::RequiredString(*request, "project");
  if (!project_id) return ErrorReply(project_id.error());
  Result<std::string> as = api::RequiredString(*request, "as");
  if (!as) return ErrorReply(as.error());
  Result<std::optional<std::vector<std::string>>> cohort =
      api::OptionalStringList(*request, "cohort");
  if (!cohort) return ErrorReply(cohort.error());

  auto job = std::make_shared<Job>();
  job->definition = definition_();
  job->options.project = *project_id;
  job->options.as = *as;
  job->options.out = data_dir_ / "research" / *project_id;
  if (*cohort) job->options.supplied_cohort = std::move(**cohort);
  for (std::string_view key : {"batch_size", "max_batches"}) {
    const json::value* value = request->if_contains(key);
    if (value == nullptr) continue;
    if (!value->is_int64() || value->get_int64() < (key == "batch_size" ? 1 : 0)) {
      return ErrorReply(InvalidRequest(fmt::format(
          "'{}' must be a {} integer", key, key == "batch_size" ? "positive" : "non-negative")));
    }
    (key == "batch_size" ? job->options.batch_size : job->options.max_batches) =
        static_cast<size_t>(value->get_int64());
  }
  job->options.cancel = &cancel_;

  const network::ResearchProject* project = job->definition->FindResearchProject(*project_id);
  if (project == nullptr) {
    return ErrorReply(
        NotFound(fmt::format("no research project '{}' in the network definition", *project_id)));
  }
  Result<std::string> key = LoadOrCreateKey(data_dir_ / "research.key");
  if (!key) return ErrorReply(key.error());
  auto context = std::make_shared<ExtractContext>(
      ExtractContext{*job->definition, store_, audit_, gateway_, std::move(*key), clock_});

  // Refused now, not in the background: RunExtract audits the refusal and
  // returns before touching anything.
  if (!CheckMayRun(*job->definition, *project, *as, clock_.Today()).ok()) {
    Result<ExtractReport> refused = RunExtract(*context, job->options);
    return ErrorReply(refused ? Internal("refused, yet run") : refused.error());
  }
  std::error_code ec;
  if (std::filesystem::exists(job->options.out / "report.json", ec)) {
    return ErrorReply(
        AlreadyExists(fmt::format("an extract of '{}' is complete in {}; move it "
                                  "away to run the project again",
                                  *project_id, job->options.out.string())));
  }

  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(*project_id);
    if (it != jobs_.end()) {
      std::lock_guard job_lock(it->second->mu);
      if (it->second->status == "running") {
        return ErrorReply(AlreadyExists(fmt::format("an extract of '{}' is running", *project_id)));
      }
    }
    if (it != jobs_.end() && it->second->thread.joinable()) it->second->thread.join();
    std::weak_ptr<Job> weak = job;
    job->options.progress = [weak](const Progress& progress) {
      if (auto self = weak.lock()) {
        std::lock_guard progress_lock(self->mu);
        self->progress = progress;
      }
    };
    jobs_[*project_id] = job;
    job->thread = std::thread([job, context] {
      Result<ExtractReport> report = RunExtract(*context, job->options);
      std::lock_guard done_lock(job->mu);
      if (!report) {
        job->status = "failed";
        job->error = report.error().ToString();
        return;
      }
      job->status = report->complete ? "complete" : "stopped";
      job->report = std::move(*report);
    });
  }
  json::object answer;
  answer["project"] = *project_id;
  answer["status"] = "running";
  answer["out"] = job->options.out.string();
  return {202, json::serialize(answer)};
}

ExtractJobs::Reply ExtractJobs::Get(std::string_view project) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(std::string(project));
    if (it != jobs_.end()) job = it->second;
  }
  json::object answer;
  answer["project"] = project;
  if (!job) {
    answer["status"] = "idle";
    return {200, json::serialize(answer)};
  }
  std::lock_guard lock(job->mu);
  answer["status"] = job->status;
  answer["out"] = job->options.out.string();
  answer["cohort_size"] = job->progress.cohort_size;
  answer["persons_done"] = job->progress.persons_done;
  answer["batches_done"] = job->progress.batches_done;
  answer["batches_total"] = job->progress.batches_total;
  answer["rows"] = job->progress.rows;
  answer["seconds"] = job->progress.seconds;
  if (!job->error.empty()) answer["error"] = job->error;
  if (job->report) {
    answer["cohort_size"] = job->report->cohort_size;
    answer["persons_done"] = job->report->persons_done;
    answer["persons_released"] = job->report->persons_released;
    answer["persons_suppressed"] = job->report->persons_suppressed;
    json::object rows;
    for (const auto& [type, count] : job->report->rows) rows[type] = count;
    answer["rows"] = std::move(rows);
  }
  return {200, json::serialize(answer)};
}

}  // namespace carrefour::research
