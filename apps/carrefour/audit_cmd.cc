// SPDX-License-Identifier: EUPL-1.2
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "audit/audit_log.h"
#include "store/store.h"

namespace carrefour::cli {
namespace {

int Verify(const std::string& data_dir, std::string store_url) {
  audit::VerifyOptions options;
  if (!data_dir.empty()) {
    if (store_url.empty()) store_url = "sqlite:" + data_dir + "/hub.db";
    // The nodes whose signing keys this folder holds ran here: their logs
    // must be in the store.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.size() > 10 && name.starts_with("audit-") && name.ends_with(".key")) {
        options.expected_nodes.push_back(name.substr(6, name.size() - 10));
      }
    }
    // The checkpoints the nodes kept here: the store must still extend them.
    options.remembered = audit::KeptCheckpoints(data_dir);
  }
  Result<std::unique_ptr<store::Store>> store = store::OpenStore(store_url);
  if (!store) {
    std::fprintf(stderr, "carrefour audit verify: %s\n", store.error().ToString().c_str());
    return 1;
  }
  Result<audit::VerifyReport> report = audit::Verify((*store)->audit(), options);
  if (!report) {
    std::fprintf(stderr, "carrefour audit verify: %s\n", report.error().ToString().c_str());
    return 1;
  }
  if (report->verdict == audit::Verdict::kBroken) {
    std::printf("audit log BROKEN: %s\n", report->first_bad.c_str());
    return 1;
  }
  if (report->verdict == audit::Verdict::kNotVerifiable) {
    std::printf("audit log NOT VERIFIABLE: nothing found wrong in %lld records, but:\n",
                static_cast<long long>(report->records));
    for (const std::string& why : report->not_verified) std::printf("  %s\n", why.c_str());
    return 1;
  }
  std::printf("audit log intact: %lld records in %zu chain(s), every checkpoint signed\n",
              static_cast<long long>(report->records), report->chains.size());
  for (const audit::ChainSummary& chain : report->chains) {
    std::printf("  %s: %lld records, head %s, root %s\n", chain.node.c_str(),
                static_cast<long long>(chain.records), chain.head.c_str(), chain.root.c_str());
  }
  for (const std::string& tail : report->unsigned_tails) std::printf("  not signed yet: %s\n", tail.c_str());
  if (data_dir.empty()) {
    // Records cut from the end together with their checkpoints leave a
    // shorter log that is whole in itself: only a checkpoint kept outside
    // the store shows the cut.
    std::printf("  the end of each log was not checked: no checkpoint kept outside the store was given "
                "(--data, or a checkpoint a portal kept)\n");
  }
  return 0;
}

}  // namespace

void AddAuditCommands(CLI::App& app, int* exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Inspect the hub's audit log.");
  audit->require_subcommand(1);
  auto data_dir = std::make_shared<std::string>();
  auto store_url = std::make_shared<std::string>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check every node's hash chain, Merkle tree and signed checkpoints; exit 0 if intact, 1 and the first bad record (or what could not be checked) otherwise.");
  verify->add_option("--data", *data_dir, "The hub's data folder: hub.db unless --store is given; its audit-<node>.key files name nodes that must be present, its audit-<node>.checkpoint files checkpoints the store must extend");
  verify->add_option("--store", *store_url, "sqlite:PATH or postgresql://...");
  verify->callback([data_dir, store_url, exit_code] {
    if (data_dir->empty() && store_url->empty()) {
      std::fprintf(stderr, "carrefour audit verify: give --data DIR or --store URL (see --help)\n");
      *exit_code = 2;
      return;
    }
    *exit_code = Verify(*data_dir, *store_url);
  });
}

}  // namespace carrefour::cli
