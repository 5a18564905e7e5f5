// SPDX-License-Identifier: EUPL-1.2
#pragma once

// `carrefour demo`: the whole system of DESIGN.md on one machine, from
// embedded defaults (docs/api.md section 2; docs/demo.md). Start here.
//
// It generates a synthetic population (population.h), writes the PKI, the
// network definition (demo_network.h) and, for each of the 8 institutions, a
// SQLite database and a connector configuration (institutions.h); then starts
// the hub and one connector per institution as separate processes, waits
// until the connectors have declared every file to the hub, prints what runs
// where, and either keeps traffic flowing until Ctrl-C or runs the scripted
// scenarios (--scenario) and exits with their verdict.

#include <cstdint>
#include <filesystem>
#include <string>

namespace carrefour::demo {

struct DemoOptions {
  std::filesystem::path data_dir = "carrefour-demo";
  size_t persons = 100000;
  uint64_t seed = 1;
  // Hub API and admin listener (console). Taken when free; otherwise the
  // system picks ports (printed).
  std::string listen = "127.0.0.1:8443";
  std::string admin = "127.0.0.1:8080";
  // When set, the hub's admin endpoints (and so the console) require it.
  std::string admin_token;
  // --scenario: run the scenarios, stop everything, exit 0 only if all pass.
  bool scenario = false;
  // Without --scenario: consultations per second of the traffic generator
  // (0 = no traffic), and seconds between two moves reported to the
  // national register.
  double rate = 10;
  double move_every_seconds = 3;
  // Stop after this many seconds (0 = until Ctrl-C / SIGTERM).
  int run_seconds = 0;
};

// The command; returns the process's exit code (0, or 1 with the reason on
// stderr).
int RunDemo(const DemoOptions& options);

}  // namespace carrefour::demo
