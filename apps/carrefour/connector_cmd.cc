// SPDX-License-Identifier: EUPL-1.2
#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "apps/carrefour/log_options.h"
#include "connector/connector.h"

namespace carrefour::cli {

void AddConnectorCommands(CLI::App& app, int* exit_code) {
  auto config = std::make_shared<std::string>();
  auto check = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "connector",
      "Run an institution's connector: provide data from its database, apply its mutation\n"
      "feed, publish its outbox, declare its files (docs/connector.md).");
  command->add_option("--config", *config, "Connector configuration (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_flag("--check", *check,
                    "Check the configuration and every statement against the database, then exit");
  auto log = AddLogOptions(command);
  command->callback([config, check, log, exit_code] {
    if (!log->Apply()) {
      *exit_code = 2;
      return;
    }
    *exit_code = connector::RunConnector(*config, *check);
    logging::Shutdown();
  });
}

}  // namespace carrefour::cli
