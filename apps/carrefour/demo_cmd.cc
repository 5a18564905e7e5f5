// SPDX-License-Identifier: EUPL-1.2
#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "apps/carrefour/log_options.h"
#include "demo/demo.h"

namespace carrefour::cli {

void AddDemoCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<demo::DemoOptions>();
  auto data = std::make_shared<std::string>(options->data_dir.string());
  CLI::App* command = app.add_subcommand(
      "demo",
      "Run the whole network on this machine: a synthetic population, 8 institutions with\n"
      "their own databases and connectors, the hub and its console (docs/demo.md).");
  // Read by main.cc before parsing (config_file.h); kept here for --help.
  static std::string config_file;
  command->add_option("--config", config_file, "TOML file of these options: each key is a long option's name\n"
                      "without the dashes; the command line wins (docs/api.md section 2)");
  command->add_option("--data", *data, "Folder for everything the demo generates (replaced)")
      ->capture_default_str();
  command->add_option("--persons", options->persons, "Size of the synthetic population")
      ->capture_default_str()
      ->check(CLI::Range(size_t{100}, size_t{10'000'000}));
  command->add_option("--seed", options->seed, "Seed of the population (same seed, same people)")
      ->capture_default_str();
  command->add_flag("--scenario", options->scenario,
                    "Run the scripted scenarios, stop everything, exit 0 only if all pass");
  command->add_option("--listen", options->listen, "Hub API address (another port if taken)")
      ->capture_default_str();
  command->add_option("--admin", options->admin, "Console / admin address (another port if taken)")
      ->capture_default_str();
  command->add_option("--admin-token", options->admin_token,
                      "Bearer token the console and admin endpoints require")
      ->envname("CARREFOUR_ADMIN_TOKEN");
  command->add_option("--rate", options->rate, "Consultations per second of the traffic generator")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  command->add_option("--move-every", options->move_every_seconds,
                      "Seconds between two moves reported to the national register (0: none)")
      ->capture_default_str();
  command->add_option("--run-seconds", options->run_seconds, "Stop after this many seconds (0: at Ctrl-C)")
      ->capture_default_str();
  auto log = AddLogOptions(command);
  command->callback([options, data, log, exit_code] {
    if (!log->Apply()) {
      *exit_code = 2;
      return;
    }
    options->data_dir = *data;
    *exit_code = demo::RunDemo(*options);
    logging::Shutdown();
  });
}

}  // namespace carrefour::cli
