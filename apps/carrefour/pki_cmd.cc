// Placeholder until the pki module's commands land.
#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"

namespace carrefour::cli {

void AddPkiCommands(CLI::App& app, int* exit_code) {
  (void)app;
  (void)exit_code;
}

}  // namespace carrefour::cli
