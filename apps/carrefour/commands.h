// SPDX-License-Identifier: EUPL-1.2
#pragma once

namespace CLI {
class App;
}

namespace carrefour::cli {

// Each Add*Commands adds one group of subcommands to the `carrefour` app
// (docs/api.md section 2). A subcommand's callback stores the process's exit code
// in *exit_code: 0 success, 1 a negative answer (an invalid number, a broken
// definition), 2 a usage error. Output goes to stdout, errors to stderr.
void AddNissCommands(CLI::App& app, int* exit_code);
void AddNetworkCommands(CLI::App& app, int* exit_code);
void AddPkiCommands(CLI::App& app, int* exit_code);
void AddDirectoryCommands(CLI::App& app, int* exit_code);
void AddHubCommands(CLI::App& app, int* exit_code);
void AddAuditCommands(CLI::App& app, int* exit_code);
void AddTransparencyCommands(CLI::App& app, int* exit_code);
void AddBisCommands(CLI::App& app, int* exit_code);
void AddResearchCommands(CLI::App& app, int* exit_code);
void AddConnectorCommands(CLI::App& app, int* exit_code);
void AddDemoCommands(CLI::App& app, int* exit_code);

}  // namespace carrefour::cli
