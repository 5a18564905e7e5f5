// SPDX-License-Identifier: EUPL-1.2
// carrefour: one binary for every role (docs/api.md section 2). This file only
// parses the command line; each command's work lives in a library module.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "apps/carrefour/config_file.h"
#include "version/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "carrefour: a crossroads bank for social security.\n"
      "Institutions exchange personal data through a hub that checks, routes and logs\n"
      "every exchange without becoming a database of that data.",
      "carrefour"};
  app.require_subcommand(1);
  app.footer(
      "Documentation: docs/api.md (the contract: commands, network definition, API) and\n"
      "docs/operations.md; installed in /usr/share/doc/carrefour/. Man pages: man carrefour-COMMAND.");
  app.set_version_flag("--version", carrefour::version::Line());

  int exit_code = 0;
  carrefour::cli::AddNissCommands(app, &exit_code);
  carrefour::cli::AddNetworkCommands(app, &exit_code);
  carrefour::cli::AddPkiCommands(app, &exit_code);
  carrefour::cli::AddDirectoryCommands(app, &exit_code);
  carrefour::cli::AddHubCommands(app, &exit_code);
  carrefour::cli::AddAuditCommands(app, &exit_code);
  carrefour::cli::AddTransparencyCommands(app, &exit_code);
  carrefour::cli::AddBisCommands(app, &exit_code);
  carrefour::cli::AddResearchCommands(app, &exit_code);
  carrefour::cli::AddConnectorCommands(app, &exit_code);
  carrefour::cli::AddDemoCommands(app, &exit_code);

  // `hub --config FILE` and `demo --config FILE`: the file's options join
  // the command line's (which win) before parsing.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string config_error;
  if (!carrefour::cli::ExpandConfigFile(app, {"hub", "demo"}, &args, &config_error)) {
    std::fprintf(stderr, "carrefour: %s\n", config_error.c_str());
    return 2;
  }
  // A first word that is no command: say so, and which ones there are
  // (CLI11 alone would only say that a subcommand is required).
  if (!args.empty() && !args.front().starts_with("-")) {
    std::string commands;
    bool known = false;
    for (const CLI::App* command : app.get_subcommands({})) {
      known = known || command->get_name() == args.front();
      commands += (commands.empty() ? "" : ", ") + command->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "carrefour: unknown command '%s' (commands: %s; see --help)\n", args.front().c_str(),
                   commands.c_str());
      return 2;
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // docs/api.md: usage errors exit 2 with a one-line message.
    std::fprintf(stderr, "carrefour: %s (see --help)\n", e.what());
    return 2;
  }
  return exit_code;
}
