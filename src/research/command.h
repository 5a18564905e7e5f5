// SPDX-License-Identifier: EUPL-1.2
#pragma once

// `carrefour research extract` and `carrefour research aggregate` as the
// command line runs them (docs/api.md section 2 leaves further commands to the
// project; docs/research.md documents these). Flags are parsed in
// apps/carrefour/research_cmd.cc; the work is here.

#include <cstddef>
#include <cstdio>
#include <string>

namespace carrefour::research {

struct ExtractCommand {
  std::string network_file;
  std::string data_dir;   // the hub's: research.key, audit-<node>.key, hub.db, pki/
  std::string store_url;  // default sqlite:DATA/hub.db
  std::string project;
  std::string as;             // the institution running it
  std::string out;            // default DATA/research/<project>
  std::string cohort_file;    // a list cohort: one number per line
  std::string cert, key, ca;  // default DATA/pki/hub.crt, hub.key, ca.crt
  // The audit chain this command writes (one command per chain at a time).
  std::string node = "research";
  size_t batch_size = 1000;
  size_t concurrency = 64;
  size_t max_batches = 0;
  int retries = 2;
  int timeout_ms = 2000;  // per provide call
};

// Runs the extract, printing progress lines and a summary on `out`, errors on
// `err`. Exit code: 0 done (complete, or stopped as --max-batches asked),
// 1 refused or failed.
int RunExtractCommand(const ExtractCommand& command, std::FILE* out, std::FILE* err);

struct AggregateCommand {
  std::string network_file;
  std::string data_dir;  // for the default extract folder
  std::string project;
  std::string extract;  // default DATA/research/<project>
  std::string by;       // "dt.field,dt.field"
  std::string sum;
  std::string out_file;  // default: standard output
  long long k = 0;
};

// Prints the table as CSV (on `out` or into out_file), the suppressions on
// `err`. Exit code 0, or 1 with the error on `err`.
int RunAggregateCommand(const AggregateCommand& command, std::FILE* out, std::FILE* err);

}  // namespace carrefour::research
