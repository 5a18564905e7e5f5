// SPDX-License-Identifier: EUPL-1.2
#pragma once

// `--config FILE` for `carrefour hub` and `carrefour demo` (docs/api.md
// section 2): a TOML file whose keys are the command's long option names
// without the dashes. ExpandConfigFile turns it into command-line arguments
// before CLI11 parses them, so that the file gets exactly the checks and
// conversions of the command line, and an option given on the command line
// wins over the file.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace carrefour::cli {

// `args` is argv without the program name. When args[0] names one of
// `commands` and a `--config FILE` follows, returns args with the file's
// options appended (those not already on the command line). Returns false
// and sets *error to a one-line message ("FILE:LINE: unknown key 'x' ...")
// when the file is unreadable, not TOML, or has a key that is not an option.
bool ExpandConfigFile(CLI::App& app, const std::vector<std::string>& commands,
                      std::vector<std::string>* args, std::string* error);

}  // namespace carrefour::cli
