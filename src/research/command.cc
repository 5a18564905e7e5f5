// SPDX-License-Identifier: EUPL-1.2
#include "research/command.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "bis/service.h"
#include "directory/decision.h"
#include "exchange/consultation.h"
#include "net/client.h"
#include "network/loader.h"
#include "provide/net_gateway.h"
#include "research/internal/files.h"
#include "research/research.h"
#include "store/store.h"

namespace carrefour::research {
namespace fs = std::filesystem;
namespace {

// One number per line; blank lines and lines starting with '#' are skipped,
// and so is a first line "niss" (a CSV header).
Result<std::vector<std::string>> ReadCohortFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Error(InvalidRequest(fmt::format("cannot read the cohort file {}", file)));
  std::vector<std::string> numbers;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool header = first && line == "niss";
    first = false;
    if (line.empty() || line[0] == '#' || header) continue;
    numbers.push_back(line);
  }
  if (in.bad()) return Error(Internal(fmt::format("cannot read the cohort file {}", file)));
  return numbers;
}

int Fail(std::FILE* err, std::string_view command, const Status& status) {
  fmt::print(err, "carrefour research {}: {}\n", command, status.ToString());
  return 1;
}

// What the command holds of the hub's side while it runs: its audit chain
// (locked: one writer per chain, as a second command on the same node would
// fork it), its store and the research key. Members are destroyed in
// reverse order: the audit log before the store, the lock last.
struct HubSide {
  internal::FileLock chain_lock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> audit;
  std::string research_key;
};

Result<HubSide> OpenHubSide(const ExtractCommand& command, const fs::path& data) {
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return Error(Internal(fmt::format("cannot create {}: {}", data.string(), ec.message())));
  Result<internal::FileLock> chain_lock =
      internal::FileLock::Acquire(data / fmt::format("audit-{}.lock", command.node),
                                  fmt::format("the audit chain '{}'", command.node));
  if (!chain_lock) return Error(chain_lock.error());

  std::string store_url =
      command.store_url.empty() ? "sqlite:" + (data / "hub.db").string() : command.store_url;
  Result<std::unique_ptr<store::Store>> store = store::OpenStore(store_url);
  if (!store) return Error(store.error().WithContext("store"));
  if (Status valid = audit::CheckNodeId(command.node); !valid.ok()) {
    return Error(valid.WithContext("--node"));
  }
  Result<std::shared_ptr<const audit::NoteSigner>> signer = audit::NoteSigner::LoadOrCreate(
      audit::CheckpointOrigin(command.node), audit::SigningKeyFile(data, command.node));
  if (!signer) return Error(signer.error().WithContext("audit signing key"));
  Result<std::unique_ptr<audit::AuditLog>> audit = audit::AuditLog::Open(
      (*store)->audit(), {.node = command.node,
                          .signer = std::move(*signer),
                          .checkpoint_file = audit::CheckpointFile(data, command.node)});
  if (!audit) return Error(audit.error().WithContext("audit log"));
  Result<std::string> research_key = LoadOrCreateKey(data / "research.key");
  if (!research_key) return Error(research_key.error());
  return HubSide{std::move(*chain_lock), std::move(*store), std::move(*audit), std::move(*research_key)};
}

// The client of the provide calls, as the hub (CN=hub).
Result<std::unique_ptr<net::Client>> ProviderClient(const ExtractCommand& command, const fs::path& data) {
  net::TlsFiles tls{command.cert.empty() ? data / "pki" / "hub.crt" : fs::path(command.cert),
                    command.key.empty() ? data / "pki" / "hub.key" : fs::path(command.key),
                    command.ca.empty() ? data / "pki" / "ca.crt" : fs::path(command.ca)};
  Result<std::unique_ptr<net::Client>> client = net::Client::Create(
      {.tls = tls,
       .threads = 2,
       .timeout = std::chrono::milliseconds(command.timeout_ms),
       .max_connections_per_endpoint = std::max<size_t>(command.concurrency, 1)});
  if (!client) return Error(client.error().WithContext("provider client"));
  return client;
}

Result<ExtractOptions> MakeExtractOptions(const ExtractCommand& command, const fs::path& data, std::FILE* out) {
  ExtractOptions options;
  options.project = command.project;
  options.as = command.as;
  options.out = command.out.empty() ? data / "research" / command.project : fs::path(command.out);
  options.batch_size = command.batch_size;
  options.concurrency = command.concurrency;
  options.retries = command.retries;
  options.max_batches = command.max_batches;
  if (!command.cohort_file.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(options.supplied_cohort, ReadCohortFile(command.cohort_file));
  }
  options.progress = [out, &command](const Progress& progress) {
    if (progress.batches_done == 0) {
      fmt::print(out,
                 "research extract {}: cohort of {} persons, {} done already, {} batch{} to run\n",
                 command.project, progress.cohort_size, progress.persons_done,
                 progress.batches_total, progress.batches_total == 1 ? "" : "es");
    } else {
      fmt::print(out,
                 "research extract {}: batch {} of {} done ({} of {} persons, {} rows, {:.1f} s)\n",
                 command.project, progress.batches_done, progress.batches_total,
                 progress.persons_done, progress.cohort_size, progress.rows, progress.seconds);
    }
    std::fflush(out);
  };
  return options;
}

void PrintExtractReport(const ExtractReport& report, const ExtractOptions& options, std::FILE* out) {
  const ExtractTimings& t = report.timings;
  if (!report.complete) {
    fmt::print(out,
               "research extract {}: stopped after {} batch{} ({} of {} persons done); run the "
               "same command again to resume\n",
               report.project, report.batches_run, report.batches_run == 1 ? "" : "es",
               report.persons_done, report.cohort_size);
    return;
  }
  size_t rows = 0;
  std::string per_type;
  for (const auto& [type, count] : report.rows) {
    rows += count;
    per_type += fmt::format("{}{} {}", per_type.empty() ? "" : ", ", type, count);
  }
  fmt::print(out, "research extract {}: complete in {}\n", report.project, options.out.string());
  fmt::print(
      out, "  cohort {} persons, released {}, suppressed for k-anonymity {} (smallest group {})\n",
      report.cohort_size, report.persons_released, report.persons_suppressed,
      report.smallest_group);
  for (const ReleasedQuasiIdentifier& qi : report.quasi_identifiers) {
    fmt::print(out, "  quasi-identifier {}.{}: declared {}, released {}\n", qi.data_type, qi.field,
               qi.declared, qi.released);
  }
  fmt::print(out, "  rows {} ({}); provide calls {} ({} no-data)\n", rows, per_type,
             report.provider_calls, report.no_data);
  fmt::print(out,
             "  time {:.2f} s: select {:.2f}, route {:.2f}, provide {:.2f}, write {:.2f}, audit "
             "{:.2f}, finalize {:.2f}; {:.0f} rows/s\n",
             t.total, t.select, t.route, t.provide, t.write, t.audit, t.finalize,
             t.total > 0 ? static_cast<double>(rows) / t.total : 0.0);
}

}  // namespace

int RunExtractCommand(const ExtractCommand& command, std::FILE* out, std::FILE* err) {
  const fs::path data = command.data_dir;
  Result<network::Definition> definition = network::LoadDefinition(command.network_file);
  if (!definition) return Fail(err, "extract", definition.error());
  Result<HubSide> hub = OpenHubSide(command, data);
  if (!hub) return Fail(err, "extract", hub.error());
  Result<std::unique_ptr<net::Client>> client = ProviderClient(command, data);
  if (!client) return Fail(err, "extract", client.error());
  // The operator sees the network's errors as they came.
  provide::NetGateway network_gateway(**client, provide::NetGateway::Errors::kAsIs);
  // The BIS register lives in the hub, not behind an endpoint: its answers
  // for BIS numbers come from the register in the store, as the hub gives
  // them (bis::Service's gateway; every other provider over mutual TLS).
  // This command publishes nothing, so its publisher refuses.
  auto engine = std::make_shared<const directory::DecisionEngine>(
      std::make_shared<const network::Definition>(*definition));
  bis::Service bis_service(
      [engine] { return engine; }, *hub->store, *hub->audit,
      [](std::string_view, std::string_view, std::function<void(mutations::Reply)> done) {
        done(api::ErrorReply(Unavailable("not here")));
      },
      network_gateway, SystemClock());
  exchange::ProviderGateway& gateway = bis_service.gateway();

  Result<ExtractOptions> options = MakeExtractOptions(command, data, out);
  if (!options) return Fail(err, "extract", options.error());
  ExtractContext context{*definition, *hub->store, *hub->audit, gateway, hub->research_key, SystemClock()};
  Result<ExtractReport> report = RunExtract(context, *options);
  // Every record queued is written before the command says anything more.
  hub->audit.reset();
  if (!report) return Fail(err, "extract", report.error());
  PrintExtractReport(*report, *options, out);
  return 0;
}

int RunAggregateCommand(const AggregateCommand& command, std::FILE* out, std::FILE* err) {
  Result<network::Definition> definition = network::LoadDefinition(command.network_file);
  if (!definition) return Fail(err, "aggregate", definition.error());
  const network::ResearchProject* project = definition->FindResearchProject(command.project);
  if (project == nullptr) {
    return Fail(err, "aggregate",
                NotFound(fmt::format("no research project '{}' in {}", command.project,
                                     command.network_file)));
  }
  AggregateOptions options;
  options.extract = !command.extract.empty()
                        ? fs::path(command.extract)
                        : fs::path(command.data_dir) / "research" / command.project;
  std::stringstream by(command.by);
  std::string dimension;
  while (std::getline(by, dimension, ',')) {
    if (!dimension.empty()) options.by.push_back(dimension);
  }
  options.sum = command.sum;
  options.k = command.k;
  Result<AggregateTable> table = Aggregate(*project, options);
  if (!table) return Fail(err, "aggregate", table.error());
  std::string csv = table->ToCsv();
  if (command.out_file.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), out);
  } else {
    Status written = internal::WriteFileDurably(command.out_file, csv);
    if (!written.ok()) return Fail(err, "aggregate", written);
  }
  fmt::print(err,
             "research aggregate {}: {} cells, k = {}: {} suppressed under k, {} more so that "
             "none can be computed from the totals\n",
             command.project, table->cells.size(), table->k, table->primary_suppressions,
             table->complementary_suppressions);
  return 0;
}

}  // namespace carrefour::research
