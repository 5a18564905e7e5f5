// SPDX-License-Identifier: EUPL-1.2
#pragma once

// --log-format text|json and --log-level for the long-running commands
// (hub, connector, demo): logging::Setup before the command runs.

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "logging/logging.h"

namespace carrefour::cli {

struct LogOptions {
  std::string format = "text";
  std::string level = "info";

  // Applies the options; false (and a one-line message) if they are wrong.
  bool Apply() const {
    Status set = logging::Setup(format, level);
    if (!set.ok()) std::fprintf(stderr, "carrefour: %s\n", set.message().c_str());
    return set.ok();
  }
};

inline std::shared_ptr<LogOptions> AddLogOptions(CLI::App* command) {
  auto options = std::make_shared<LogOptions>();
  command->add_option("--log-format", options->format, "Logs on stdout as text or json lines")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command->add_option("--log-level", options->level, "Least important level logged")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  return options;
}

}  // namespace carrefour::cli
