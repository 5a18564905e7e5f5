// carrefour: one binary for every role (SPEC.md section 2). This file only
// parses the command line; each command's work lives in a library module.

#include <cstdio>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "carrefour: a crossroads bank for social security.\n"
      "Institutions exchange personal data through a hub that checks, routes and logs\n"
      "every exchange without becoming a database of that data.",
      "carrefour"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "carrefour 0.1.0");

  int exit_code = 0;
  carrefour::cli::AddNissCommands(app, &exit_code);
  carrefour::cli::AddNetworkCommands(app, &exit_code);
  carrefour::cli::AddPkiCommands(app, &exit_code);
  carrefour::cli::AddDirectoryCommands(app, &exit_code);
  carrefour::cli::AddHubCommands(app, &exit_code);
  carrefour::cli::AddAuditCommands(app, &exit_code);
  carrefour::cli::AddBisCommands(app, &exit_code);
  carrefour::cli::AddResearchCommands(app, &exit_code);
  carrefour::cli::AddConnectorCommands(app, &exit_code);
  carrefour::cli::AddDemoCommands(app, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // SPEC.md: usage errors exit 2 with a one-line message.
    std::fprintf(stderr, "carrefour: %s (see --help)\n", e.what());
    return 2;
  }
  return exit_code;
}
