// SPDX-License-Identifier: EUPL-1.2
// `carrefour network check FILE` (docs/api.md section 2): the command-line face of
// the network module. Loading and every rule live in network/loader.h; this
// file prints what the definition grants, or where it is wrong.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "apps/carrefour/commands.h"
#include "network/loader.h"
#include "network/model.h"

namespace carrefour::cli {
namespace {

struct CheckOptions {
  std::string file;
  bool json = false;
};

// What institutions of one type may obtain: the authorizations naming the
// type, and those naming one of its institutions (marked by `requester`).
std::vector<const network::Authorization*> GrantsOf(const network::Definition& definition,
                                                    const network::InstitutionType& type) {
  std::vector<const network::Authorization*> grants;
  for (const network::Authorization& authorization : definition.authorizations()) {
    bool names_type = authorization.requester_type == type.id;
    bool names_member = !authorization.requester.empty() &&
                        definition.FindInstitution(authorization.requester)->type == type.id;
    if (names_type || names_member) grants.push_back(&authorization);
  }
  return grants;
}

std::vector<std::string> MembersOf(const network::Definition& definition,
                                   const network::InstitutionType& type) {
  std::vector<std::string> members;
  for (const network::Institution& institution : definition.institutions()) {
    if (institution.type == type.id) members.push_back(institution.id);
  }
  return members;
}

bool GrantsAllFields(const network::Definition& definition,
                     const network::Authorization& authorization) {
  // The loader guarantees the data type exists and the fields are its own,
  // each listed once: the same count means all of them.
  return authorization.fields.size() == definition.FindDataType(authorization.data_type)->fields.size();
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += ", ";
    out += value;
  }
  return out;
}

std::string Plural(size_t count, std::string_view singular, std::string_view plural) {
  return fmt::format("{} {}", count, count == 1 ? singular : plural);
}

void PrintSummary(const network::Definition& definition) {
  std::string out = fmt::format("{}: valid network definition\n", definition.source());
  out += fmt::format(
      "  {}, {}, {},\n  {}, {}, {}\n",
      Plural(definition.institution_types().size(), "institution type", "institution types"),
      Plural(definition.institutions().size(), "institution", "institutions"),
      Plural(definition.data_types().size(), "data type", "data types"),
      Plural(definition.availability().size(), "availability row", "availability rows"),
      Plural(definition.authorizations().size(), "authorization", "authorizations"),
      Plural(definition.subscriptions().size(), "subscription", "subscriptions"));
  out += "\nWhat each institution type may obtain (data type, capacity, legal basis, validity, "
         "fields):\n";

  for (const network::InstitutionType& type : definition.institution_types()) {
    std::vector<std::string> members = MembersOf(definition, type);
    out += fmt::format("\n  {} ({}{}{})\n", type.id,
                       Plural(members.size(), "institution", "institutions"),
                       members.empty() ? "" : ": ", Join(members));
    std::vector<const network::Authorization*> grants = GrantsOf(definition, type);
    if (grants.empty()) {
      out += "    nothing\n";
      continue;
    }
    // Columns sized to this type's rows, so that each block reads as a table.
    size_t data_type_width = 0, capacity_width = 0, basis_width = 0, period_width = 0;
    for (const network::Authorization* grant : grants) {
      data_type_width = std::max(data_type_width, grant->data_type.size());
      capacity_width = std::max(capacity_width, grant->capacity.size());
      basis_width = std::max(basis_width, grant->legal_basis.size());
      period_width = std::max(period_width, grant->validity.ToString().size());
    }
    for (const network::Authorization* grant : grants) {
      std::string fields = GrantsAllFields(definition, *grant) ? "all fields" : Join(grant->fields);
      std::string only = grant->requester.empty() ? "" : fmt::format(" (only {})", grant->requester);
      out += fmt::format("    {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}{}\n", grant->data_type,
                         data_type_width, grant->capacity, capacity_width, grant->legal_basis,
                         basis_width, grant->validity.ToString(), period_width, fields, only);
    }
  }
  std::fputs(out.c_str(), stdout);
}

boost::json::array ToJsonArray(const std::vector<std::string>& values) {
  boost::json::array out;
  for (const std::string& value : values) out.emplace_back(value);
  return out;
}

void PrintJsonSummary(const network::Definition& definition) {
  boost::json::object counts;
  counts["institution_types"] = definition.institution_types().size();
  counts["institutions"] = definition.institutions().size();
  counts["data_types"] = definition.data_types().size();
  counts["availability"] = definition.availability().size();
  counts["authorizations"] = definition.authorizations().size();
  counts["subscriptions"] = definition.subscriptions().size();

  boost::json::array types;
  for (const network::InstitutionType& type : definition.institution_types()) {
    boost::json::array may_obtain;
    for (const network::Authorization* grant : GrantsOf(definition, type)) {
      boost::json::object row;
      row["data_type"] = grant->data_type;
      row["capacity"] = grant->capacity;
      row["legal_basis"] = grant->legal_basis;
      row["from"] = grant->validity.from.ToString();
      row["to"] = grant->validity.to ? boost::json::value(grant->validity.to->ToString())
                                     : boost::json::value(nullptr);
      row["fields"] = ToJsonArray(grant->fields);
      row["requester"] = grant->requester.empty() ? boost::json::value(nullptr)
                                                  : boost::json::value(grant->requester);
      row["line"] = grant->line;
      may_obtain.emplace_back(std::move(row));
    }
    boost::json::object entry;
    entry["id"] = type.id;
    entry["capacities"] = ToJsonArray(type.capacities);
    entry["institutions"] = ToJsonArray(MembersOf(definition, type));
    entry["may_obtain"] = std::move(may_obtain);
    types.emplace_back(std::move(entry));
  }

  boost::json::object out;
  out["valid"] = true;
  out["source"] = definition.source();
  out["counts"] = std::move(counts);
  out["institution_types"] = std::move(types);
  std::fputs((boost::json::serialize(out) + "\n").c_str(), stdout);
}

void PrintJsonErrors(const std::string& source, const network::Diagnostics& diagnostics) {
  boost::json::array errors;
  for (const network::Diagnostic& diagnostic : diagnostics) {
    boost::json::object error;
    error["file"] = diagnostic.source;
    error["line"] = diagnostic.line;
    error["message"] = diagnostic.message;
    errors.emplace_back(std::move(error));
  }
  boost::json::object out;
  out["valid"] = false;
  out["source"] = source;
  out["errors"] = std::move(errors);
  std::fputs((boost::json::serialize(out) + "\n").c_str(), stdout);
}

int RunCheck(const CheckOptions& options) {
  tl::expected<network::Definition, network::Diagnostics> definition =
      network::LoadDefinitionWithDiagnostics(options.file);
  if (!definition) {
    // Errors always go to stderr, one "FILE:LINE: message" per line (what
    // editors and CI annotate); --json adds the same on stdout for scripts.
    for (const network::Diagnostic& diagnostic : definition.error()) {
      std::fprintf(stderr, "%s\n", diagnostic.ToString().c_str());
    }
    const network::Diagnostics& errors = definition.error();
    bool unreadable = errors.size() == 1 && errors.front().line == 0;
    if (!unreadable) {
      std::fprintf(stderr, "%s: not a valid network definition (%zu error%s)\n",
                   options.file.c_str(), errors.size(), errors.size() == 1 ? "" : "s");
    }
    if (options.json) PrintJsonErrors(options.file, definition.error());
    return 1;
  }
  if (options.json) {
    PrintJsonSummary(*definition);
  } else {
    PrintSummary(*definition);
  }
  return 0;
}

}  // namespace

void AddNetworkCommands(CLI::App& app, int* exit_code) {
  CLI::App* network = app.add_subcommand("network", "Network definition (docs/api.md section 3)");
  network->require_subcommand(1);

  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = network->add_subcommand(
      "check",
      "Validate a network definition: print a summary, or every error as FILE:LINE: message "
      "(exit 1)");
  check->add_option("FILE", options->file, "The network definition (TOML)")->required();
  check->add_flag("--json", options->json, "Print the summary (or the errors) as one JSON object");
  check->callback([options, exit_code] { *exit_code = RunCheck(*options); });
}

}  // namespace carrefour::cli
