// SPDX-License-Identifier: EUPL-1.2
// `carrefour bis search`: the administrator's look into the BIS register
// (docs/bis.md), straight from the database. The rules live in bis/; this
// file reads flags and prints.

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/carrefour/commands.h"
#include "bis/bis.h"
#include "store/store.h"

namespace carrefour::cli {
namespace {

constexpr double kMinScore = 0.3;  // as GET /v1/admin/bis?q=

struct SearchOptions {
  std::string data_dir;
  std::string store_url;
  std::string name;  // "LAST" or "LAST, FIRST NAMES"
  std::string birth_date;
  std::string niss;
  size_t limit = 20;
  bool json = false;
};

std::string DayOf(int64_t time_us) {
  return Date::FromDays(static_cast<int32_t>(time_us / 86'400'000'000)).ToString();
}

void PrintPerson(const bis::Person& person, const bis::Match* match, bool json) {
  if (json) {
    boost::json::object out = bis::PersonJson(person);
    if (match != nullptr) {
      bis::Candidate candidate{person, *match};
      boost::json::object scored = bis::CandidateJson(candidate);
      out["score"] = scored["score"];
      out["reasons"] = scored["reasons"];
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return;
  }
  const bis::Identity& identity = person.identity;
  std::string sex(bis::SexCode(identity.sex));
  std::string line = fmt::format(
      "{}  {}, {}  born {}  sex {}  nationality {}  created {} by {}{}", person.niss,
      identity.last_name, identity.first_names.empty() ? "-" : identity.first_names,
      identity.birth_date.ToString(), sex.empty() ? "unknown" : sex,
      identity.nationality.empty() ? "unknown" : identity.nationality, DayOf(person.created_us),
      person.created_by, person.forced ? " (forced)" : "");
  if (person.replaced_by) line += fmt::format("  replaced by {}", *person.replaced_by);
  if (match != nullptr) {
    std::string reasons;
    for (const std::string& reason : match->reasons) reasons += (reasons.empty() ? "" : ", ") + reason;
    line = fmt::format("{:.2f}  {}  [{}]", match->score, line, reasons);
  }
  std::printf("%s\n", line.c_str());
}

int Search(SearchOptions options) {
  const Date today = SystemClock().Today();
  if (options.store_url.empty()) options.store_url = "sqlite:" + options.data_dir + "/hub.db";
  Result<std::unique_ptr<store::Store>> store = store::OpenStore(options.store_url);
  if (!store) {
    std::fprintf(stderr, "carrefour bis search: %s\n", store.error().ToString().c_str());
    return 1;
  }
  bis::Register bis_register((*store)->bis(), SystemClock());
  if (!options.niss.empty()) {
    Result<std::string> niss = niss::Normalize(options.niss, today);
    if (!niss) {
      std::fprintf(stderr, "carrefour bis search: --niss: %s\n", niss.error().message().c_str());
      return 2;
    }
    Result<std::optional<bis::Person>> person = bis_register.Find(*niss);
    if (!person) {
      std::fprintf(stderr, "carrefour bis search: %s\n", person.error().ToString().c_str());
      return 1;
    }
    if (!*person) {
      std::fprintf(stderr, "carrefour bis search: the BIS register has no %s\n", niss->c_str());
      return 1;
    }
    PrintPerson(**person, nullptr, options.json);
    return 0;
  }
  bis::Identity query;
  size_t comma = options.name.find(',');
  query.last_name = options.name.substr(0, comma);
  if (comma != std::string::npos) query.first_names = options.name.substr(comma + 1);
  if (bis::FoldName(query.last_name).empty()) {
    std::fprintf(stderr, "carrefour bis search: --name must start with a last name (see --help)\n");
    return 2;
  }
  if (!options.birth_date.empty()) {
    Result<bis::BirthDate> date = bis::BirthDate::Parse(options.birth_date, today);
    if (!date) {
      std::fprintf(stderr, "carrefour bis search: --birth-date: %s\n", date.error().message().c_str());
      return 2;
    }
    query.birth_date = *date;
  }
  Result<std::vector<bis::Candidate>> found = bis_register.Search(query, options.limit, kMinScore);
  if (!found) {
    std::fprintf(stderr, "carrefour bis search: %s\n", found.error().ToString().c_str());
    return 1;
  }
  for (const bis::Candidate& candidate : *found) {
    PrintPerson(candidate.person, &candidate.match, options.json);
  }
  if (!options.json) std::fprintf(stderr, "%zu person(s) found\n", found->size());
  return found->empty() ? 1 : 0;
}

}  // namespace

void AddBisCommands(CLI::App& app, int* exit_code) {
  CLI::App* bis = app.add_subcommand("bis", "The hub's BIS register (administrators only).");
  bis->require_subcommand(1);
  auto options = std::make_shared<SearchOptions>();
  CLI::App* search = bis->add_subcommand(
      "search",
      "Find persons of the BIS register by name (and birth date), or one by number, reading the "
      "hub's database directly. Prints score, number, identity, creation and the reasons of the "
      "match, best first; exit 0 if any was found, 1 if none.");
  auto* data = search->add_option("--data", options->data_dir, "The hub's data folder (hub.db)");
  auto* store = search->add_option("--store", options->store_url, "sqlite:PATH or postgresql://...");
  data->excludes(store);
  auto* name = search->add_option("--name", options->name,
                                  "\"LAST\" or \"LAST, FIRST NAMES\" (any case, accents, particles)");
  search->add_option("--birth-date", options->birth_date,
                     "YYYY-MM-DD, 00 for an unknown part (narrows and ranks the search)");
  auto* niss = search->add_option("--niss", options->niss, "Show the person with this BIS number");
  name->excludes(niss);
  search->add_option("--limit", options->limit, "At most this many persons (default 20)")
      ->check(CLI::Range(1, 100));
  search->add_flag("--json", options->json, "One JSON object a line (as GET /v1/admin/bis)");
  search->callback([options, exit_code] {
    if (options->data_dir.empty() && options->store_url.empty()) {
      std::fprintf(stderr, "carrefour bis search: give --data DIR or --store URL (see --help)\n");
      *exit_code = 2;
      return;
    }
    if (options->name.empty() && options->niss.empty()) {
      std::fprintf(stderr, "carrefour bis search: give --name or --niss (see --help)\n");
      *exit_code = 2;
      return;
    }
    *exit_code = Search(*options);
  });
}

}  // namespace carrefour::cli
