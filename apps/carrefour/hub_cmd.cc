// SPDX-License-Identifier: EUPL-1.2
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "apps/carrefour/log_options.h"
#include "hub/hub.h"

namespace carrefour::cli {

namespace {

// The options CLI11 reads as numbers of their own unit, made durations in
// the callback.
struct Durations {
  int provider_timeout_ms = 2000;
  int idle_timeout_s = 60;
  int64_t retention_s = 30 * 86400;
  int retention_days = 0;
  int64_t purge_interval_s = 60;
};

// What the hub serves and as whom: definition, data, addresses, TLS files.
void AddIdentityOptions(CLI::App* command, hub::HubOptions& options) {
  // Read by main.cc before parsing (config_file.h); kept here for --help.
  static std::string config_file;
  command->add_option("--config", config_file, "TOML file of these options: each key is a long option's name\n"
                      "without the dashes; the command line wins (docs/api.md section 2)");
  command->add_option("--network", options.network_file, "Network definition (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--data", options.data_dir,
                      "Data folder (hub.db, audit-<node>.key; pki/ for default certificates)")
      ->required();
  command->add_option("--listen", options.listen, "API address HOST:PORT")->capture_default_str();
  command->add_option("--admin", options.admin, "Admin address HOST:PORT (\"\" to disable)")
      ->capture_default_str();
  command->add_option("--cert", options.cert, "Hub certificate (default DATA/pki/hub.crt)");
  command->add_option("--key", options.key, "Hub private key (default DATA/pki/hub.key)");
  command->add_option("--ca", options.ca, "Network CA certificate (default DATA/pki/ca.crt)");
  command->add_option("--crl", options.crl,
                      "CRL (PEM, signed by the network CA): certificates listed there are "
                      "refused; reloaded with the definition");
  command->add_flag("--refuse-stale-crl", options.refuse_stale_crl,
                    "Refuse every handshake while the CRL is past its next-update time "
                    "(default: go on with it and report it)");
  // Benchmarks only (bench/hub_load): not listed in --help.
  command->add_flag("--bench-unverifiable-audit", options.bench_unverifiable_audit,
                    "Benchmarks only: the audit log without Merkle tree, person index and signed checkpoints")
      ->group("");
}

// The store, the audit chain and the admin listener's guard.
void AddStoreAndAdminOptions(CLI::App* command, hub::HubOptions& options) {
  command->add_option("--store", options.store_url,
                      "sqlite:PATH or postgresql://... (default sqlite:DATA/hub.db)");
  command->add_option("--node", options.node_id,
                      "This process's audit chain id; unique per hub sharing a store")
      ->capture_default_str();
  command->add_option("--admin-token", options.admin_token,
                      "Bearer token required by the admin endpoints")
      ->envname("CARREFOUR_ADMIN_TOKEN");
  command->add_option("--admin-host", options.admin_hosts,
                      "A host name the admin listener answers to, beside localhost and IP "
                      "addresses (repeat for several); other Host headers are refused");
  command->add_flag("--admin-insecure", options.admin_insecure,
                    "Allow the admin listener on a non-loopback address without a token");
}

// Limits and timeouts of the API listener and of provider calls.
void AddLimitOptions(CLI::App* command, hub::HubOptions& options, Durations& durations) {
  command->add_option("--threads", options.threads,
                      "Threads of the API event loop, shared by provider calls (0: one per core)")
      ->capture_default_str();
  command
      ->add_option("--directory-in-memory", options.directory_in_memory,
                   "Decide on a copy of the person directory in memory, kept exact by the "
                   "store's change log (false: read the store for every decision)")
      ->capture_default_str();
  command->add_option("--max-body", options.max_body_bytes, "Largest request body in bytes")
      ->capture_default_str();
  command->add_option("--max-connections", options.max_connections,
                      "Concurrent API connections (0: from the open-file limit, logged)")
      ->capture_default_str();
  command
      ->add_option("--idle-timeout", durations.idle_timeout_s,
                   "Seconds a kept-alive API connection may stay silent between requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  command->add_option("--max-handshaking", options.max_handshaking,
                      "Connections in their TLS handshake at once; the oldest is closed beyond "
                      "it (0: a quarter of --max-connections)")
      ->capture_default_str();
  command->add_option("--provider-timeout-ms", durations.provider_timeout_ms,
                      "Time a provider has to answer")
      ->capture_default_str();
}

void AddRetentionOptions(CLI::App* command, Durations& durations) {
  // Durations of the mutations' retention: a number with its unit ("30d",
  // "12h", "90m", "45s"); short ones are for tests and trials, the production
  // default stays 30 days.
  const std::map<std::string, int64_t> units = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  const auto with_unit = CLI::AsNumberWithUnit(
      units,
      static_cast<CLI::AsNumberWithUnit::Options>(CLI::AsNumberWithUnit::CASE_SENSITIVE |
                                                  CLI::AsNumberWithUnit::UNIT_REQUIRED),
      "DURATION")
      .description("");  // the option's own text says it
  CLI::Option* retention =
      command
          ->add_option("--retention", durations.retention_s,
                       "How long mutations and unacknowledged copies are kept at most: a number "
                       "with a unit s, m, h or d, 1s to 3650d (default 30d)")
          ->transform(with_unit)
          ->check(CLI::Range(int64_t{1}, int64_t{3650} * 86400).description(""))
          ->type_name("DURATION");
  command->add_option("--retention-days", durations.retention_days, "The same as --retention, in days")
      ->check(CLI::Range(1, 3650))
      ->excludes(retention);
  command
      ->add_option("--purge-interval", durations.purge_interval_s,
                   "How often expired mutations are purged: a number with a unit s, m, h or d, "
                   "1s to 1d (default 60s)")
      ->transform(with_unit)
      ->check(CLI::Range(int64_t{1}, int64_t{86400}).description(""))
      ->type_name("DURATION");
}

}  // namespace

void AddHubCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<hub::HubOptions>();
  auto durations = std::make_shared<Durations>();
  CLI::App* command = app.add_subcommand(
      "hub", "Run the hub: the mutual-TLS API for institutions and the admin listener.");
  AddIdentityOptions(command, *options);
  AddStoreAndAdminOptions(command, *options);
  AddLimitOptions(command, *options, *durations);
  AddRetentionOptions(command, *durations);
  auto log = AddLogOptions(command);
  command->callback([options, durations, log, exit_code] {
    if (!log->Apply()) {
      *exit_code = 2;
      return;
    }
    options->provider_timeout = std::chrono::milliseconds(durations->provider_timeout_ms);
    options->idle_timeout = std::chrono::seconds(durations->idle_timeout_s);
    options->retention = durations->retention_days > 0 ? std::chrono::days(durations->retention_days)
                                                       : std::chrono::seconds(durations->retention_s);
    options->purge_interval = std::chrono::seconds(durations->purge_interval_s);
    *exit_code = hub::RunHub(*options);
  });
}

}  // namespace carrefour::cli
