// SPDX-License-Identifier: EUPL-1.2
// `carrefour directory ...`: the person directory's commands (docs/api.md
// section 2). Flags only; the work is in src/integration/.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "integration/command.h"

namespace carrefour::cli {

void AddDirectoryCommands(CLI::App& app, int* exit_code) {
  CLI::App* directory = app.add_subcommand("directory", "The person directory");
  directory->require_subcommand(1);

  auto command = std::make_shared<integration::ImportCommand>();
  CLI::App* import = directory->add_subcommand(
      "import",
      "Bulk integration: add the entries of a CSV (institution,niss,capacity,from,to; a header\n"
      "line is allowed, an empty `to` is open-ended) to the directory in the store. Each line is\n"
      "checked like an API integration by that institution; rejected lines are listed with\n"
      "their line number and reason. Exit 0 when every line was accepted, 1 when any was\n"
      "rejected or the import could not run, 2 on a usage error.");
  import->add_option("--network", command->network_file, "Network definition (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_option("--store", command->store_url, "Store URL: sqlite:PATH or postgresql://...")
      ->required();
  import
      ->add_option("--file", command->csv_file, "The CSV to import ('-' for standard input)")
      ->required()
      ->check([](const std::string& value) -> std::string {
        if (value == "-" || std::filesystem::is_regular_file(value)) return {};
        return "File does not exist: " + value;
      });
  import
      ->add_option("--max-errors", command->max_errors,
                   "Print at most this many rejected lines, then how many more (0 = all)")
      ->check(CLI::NonNegativeNumber);
  import
      ->add_option("--batch", command->batch_size,
                   "Entries per store transaction (default 10000)")
      ->check(CLI::Range(1, 1'000'000));
  import->callback([command, exit_code] {
    *exit_code = integration::RunImportCommand(*command, stdout, stderr);
  });
}

}  // namespace carrefour::cli
