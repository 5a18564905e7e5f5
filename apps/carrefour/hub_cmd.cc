#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "hub/hub.h"

namespace carrefour::cli {

void AddHubCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<hub::HubOptions>();
  auto provider_timeout_ms = std::make_shared<int>(2000);
  CLI::App* command = app.add_subcommand(
      "hub", "Run the hub: the mutual-TLS API for institutions and the admin listener.");
  command->add_option("--network", options->network_file, "Network definition (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--data", options->data_dir,
                      "Data folder (hub.db, audit.key; pki/ for default certificates)")
      ->required();
  command->add_option("--listen", options->listen, "API address HOST:PORT")->capture_default_str();
  command->add_option("--admin", options->admin, "Admin address HOST:PORT (\"\" to disable)")
      ->capture_default_str();
  command->add_option("--cert", options->cert, "Hub certificate (default DATA/pki/hub.crt)");
  command->add_option("--key", options->key, "Hub private key (default DATA/pki/hub.key)");
  command->add_option("--ca", options->ca, "Network CA certificate (default DATA/pki/ca.crt)");
  command->add_option("--store", options->store_url,
                      "sqlite:PATH or postgresql://... (default sqlite:DATA/hub.db)");
  command->add_option("--node", options->node_id,
                      "This process's audit chain id; unique per hub sharing a store")
      ->capture_default_str();
  command->add_option("--admin-token", options->admin_token,
                      "Bearer token required by the admin endpoints")
      ->envname("CARREFOUR_ADMIN_TOKEN");
  command->add_option("--threads", options->threads, "API worker threads")->capture_default_str();
  command->add_option("--max-body", options->max_body_bytes, "Largest request body in bytes")
      ->capture_default_str();
  command->add_option("--provider-timeout-ms", *provider_timeout_ms,
                      "Time a provider has to answer")
      ->capture_default_str();
  command->add_option("--retention-days", options->retention_days,
                      "Days that mutations and undelivered copies are kept at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  command->callback([options, provider_timeout_ms, exit_code] {
    options->provider_timeout = std::chrono::milliseconds(*provider_timeout_ms);
    *exit_code = hub::RunHub(*options);
  });
}

}  // namespace carrefour::cli
