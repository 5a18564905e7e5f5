// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "core/clock.h"

namespace carrefour::integration {

// `carrefour directory import` (docs/api.md section 2) as the CLI runs it.
struct ImportCommand {
  std::string network_file;  // the network definition (TOML)
  std::string store_url;     // OpenStore's URL
  std::string csv_file;      // "-" = standard input
  size_t max_errors = 0;     // rejected lines to print; 0 = all of them
  size_t batch_size = 10'000;
};

// Loads the definition, opens the store and imports the CSV. Prints each
// rejected line ("line N: code: reason", up to max_errors, then how many more)
// and a summary line on `out`; a progress bar on `err` when it is a terminal
// (a plain line every 10 s otherwise); fatal errors on `err`.
// Returns the exit code: 0 when every line was accepted, 1 when any was
// rejected or the import could not run (definition, store, file).
int RunImportCommand(const ImportCommand& command, std::FILE* out, std::FILE* err,
                     const Clock& clock = SystemClock());

}  // namespace carrefour::integration
