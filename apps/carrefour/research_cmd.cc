// SPDX-License-Identifier: EUPL-1.2
// `carrefour research ...`: pseudonymized research extracts and safe
// aggregates (docs/research.md). Flags only; the work is in src/research/.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "apps/carrefour/commands.h"
#include "research/command.h"

namespace carrefour::cli {

namespace {

void AddExtractCommand(CLI::App* research, int* exit_code) {
  auto extract_command = std::make_shared<research::ExtractCommand>();
  CLI::App* extract = research->add_subcommand(
      "extract",
      "Run (or resume) the extract of a research project declared in the network definition:\n"
      "select its cohort, gather its data types from the authentic sources (provide calls as\n"
      "the hub), replace every national number by the project's pseudonym, drop direct\n"
      "identifiers, coarsen the quasi-identifiers, make them k-anonymous and write one CSV per\n"
      "data type, dictionary.csv and report.json into the output folder. An interrupted run\n"
      "resumes where it stopped when run again. Exit 0 when done (or stopped by --max-batches),\n"
      "1 when refused or failed, 2 on a usage error.");
  extract->add_option("--project", extract_command->project, "The research project's id")
      ->required();
  extract
      ->add_option("--as", extract_command->as,
                   "The institution running it: it must be the project's requester, which holds\n"
                   "its legal basis")
      ->required();
  extract->add_option("--network", extract_command->network_file, "Network definition (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  extract
      ->add_option("--data", extract_command->data_dir,
                   "The hub's data folder: research.key (created on first use), audit-<node>.key,\n"
                   "hub.db, pki/")
      ->required();
  extract->add_option(
      "--store", extract_command->store_url,
      "Store URL (default sqlite:DATA/hub.db; postgresql://... for a shared store)");
  extract->add_option("--out", extract_command->out,
                      "Output folder (default DATA/research/PROJECT)");
  extract
      ->add_option("--cohort-file", extract_command->cohort_file,
                   "For a project whose cohort is a supplied list: the numbers, one per line")
      ->check(CLI::ExistingFile);
  extract->add_option("--cert", extract_command->cert,
                      "Hub certificate (default DATA/pki/hub.crt)");
  extract->add_option("--key", extract_command->key, "Hub private key (default DATA/pki/hub.key)");
  extract->add_option("--ca", extract_command->ca,
                      "Network CA certificate (default DATA/pki/ca.crt)");
  extract->add_option("--node", extract_command->node,
                      "The audit chain this command writes (default research)");
  extract->add_option("--batch", extract_command->batch_size, "Persons per batch (default 1000)")
      ->check(CLI::Range(1, 1'000'000));
  extract
      ->add_option("--concurrency", extract_command->concurrency,
                   "Provide calls in flight at most (default 64)")
      ->check(CLI::Range(1, 4096));
  extract
      ->add_option("--retries", extract_command->retries,
                   "Further attempts of a failed provide call (default 2)")
      ->check(CLI::Range(0, 10));
  extract
      ->add_option("--timeout-ms", extract_command->timeout_ms,
                   "Timeout of one provide call in milliseconds (default 2000)")
      ->check(CLI::Range(1, 600'000));
  extract
      ->add_option("--max-batches", extract_command->max_batches,
                   "Stop (resumably) after this many batches; 0 = run to the end")
      ->check(CLI::NonNegativeNumber);
  extract->callback([extract_command, exit_code] {
    *exit_code = research::RunExtractCommand(*extract_command, stdout, stderr);
  });
}

void AddAggregateCommand(CLI::App* research, int* exit_code) {
  auto aggregate_command = std::make_shared<research::AggregateCommand>();
  CLI::App* aggregate = research->add_subcommand(
      "aggregate",
      "Counts (persons) and sums by dimensions over a complete extract, with every margin.\n"
      "Cells of fewer than k persons are suppressed, and further cells so that none can be\n"
      "computed back from the totals. CSV on standard output (or --out).");
  aggregate->add_option("--project", aggregate_command->project, "The research project's id")
      ->required();
  aggregate->add_option("--network", aggregate_command->network_file, "Network definition (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  aggregate
      ->add_option("--by", aggregate_command->by,
                   "Dimensions, comma-separated, each DATA_TYPE.FIELD of the project\n"
                   "(e.g. person.identity.birth_date,person.address.postal_code)")
      ->required();
  aggregate->add_option("--sum", aggregate_command->sum, "A numeric DATA_TYPE.FIELD to sum");
  auto* extract_dir =
      aggregate->add_option("--extract", aggregate_command->extract, "The extract's folder");
  auto* data_dir =
      aggregate->add_option("--data", aggregate_command->data_dir,
                            "The hub's data folder (the extract is DATA/research/PROJECT)");
  extract_dir->excludes(data_dir);
  aggregate->add_option("--out", aggregate_command->out_file, "Write the CSV to this file");
  aggregate
      ->add_option("--k", aggregate_command->k,
                   "Minimum persons per cell (default and floor: the project's k)")
      ->check(CLI::Range(2, 1'000'000));
  aggregate->callback([aggregate_command, exit_code] {
    if (aggregate_command->extract.empty() && aggregate_command->data_dir.empty()) {
      std::fprintf(stderr,
                   "carrefour research aggregate: give --extract DIR or --data DIR (see --help)\n");
      *exit_code = 2;
      return;
    }
    *exit_code = research::RunAggregateCommand(*aggregate_command, stdout, stderr);
  });
}

}  // namespace

void AddResearchCommands(CLI::App& app, int* exit_code) {
  CLI::App* research = app.add_subcommand(
      "research", "Pseudonymized cross-sector extracts and safe aggregates for research projects");
  research->require_subcommand(1);
  AddExtractCommand(research, exit_code);
  AddAggregateCommand(research, exit_code);
}

}  // namespace carrefour::cli
