// SPDX-License-Identifier: EUPL-1.2
// `carrefour demo`'s set-up cost: generating the synthetic population and
// writing the eight institutions' databases (src/demo), each against a
// baseline measured in the same run:
//   - generation against drawing the same number of national numbers alone
//     (niss::Generator::NextBornOn), the part no population can avoid;
//   - writing against raw prepared INSERTs of the same number of rows into
//     one plain table per file (same pragmas, one transaction per file).
//
//   demo_bench [--persons N] [--seed S] [--dir DIR]
//
// A plain main (as store_bench): one long run per phase, one table at the end.

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "demo/demo_network.h"
#include "demo/institutions.h"
#include "demo/population.h"
#include "network/loader.h"
#include "niss/niss.h"

namespace fs = std::filesystem;
using namespace carrefour;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Rows in every table of a database file.
int64_t CountRows(const fs::path& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                     "'sqlite_%'",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  int64_t rows = 0;
  for (const std::string& table : tables) {
    sqlite3_prepare_v2(db, fmt::format("SELECT count(*) FROM \"{}\"", table).c_str(), -1, &stmt,
                       nullptr);
    if (sqlite3_step(stmt) == SQLITE_ROW) rows += sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return rows;
}

// The baseline: `rows` rows of six short text columns into one table.
void RawInserts(const fs::path& path, int64_t rows) {
  fs::remove(path);
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  sqlite3_exec(db,
               "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;"
               "CREATE TABLE t (a TEXT, b TEXT, c TEXT, d TEXT, e TEXT, f TEXT);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &stmt, nullptr);
  for (int64_t i = 0; i < rows; ++i) {
    const std::string niss = fmt::format("{:011}", i);
    sqlite3_bind_text(stmt, 1, niss.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, "Van den Bossche", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, "Marie Louise", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, "1985-07-30", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, "Kerkstraat 12 bus 3", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, "2024-01-01", -1, SQLITE_STATIC);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
  size_t persons = 100000;
  uint64_t seed = 1;
  fs::path dir = fs::temp_directory_path() / fmt::format("carrefour-demo-bench-{}", ::getpid());
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--persons") == 0) persons = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--seed") == 0) seed = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  const Date today = *Date::FromCivil(2025, 9, 15);

  // Phase 1: the numbers alone, then the population.
  auto start = std::chrono::steady_clock::now();
  {
    niss::Generator numbers(seed, today);
    const Date from = *Date::FromCivil(1930, 1, 1);
    const int32_t span = today.days_since_epoch() - from.days_since_epoch();
    uint64_t state = seed;
    for (size_t i = 0; i < persons; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      (void)numbers.NextBornOn(from.AddDays(static_cast<int32_t>((state >> 33) % span)),
                               niss::Sex::kUnknown);
    }
  }
  const double numbers_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  demo::Population population =
      demo::GeneratePopulation({.persons = persons, .seed = seed, .today = today});
  const double population_seconds = Seconds(start);

  // Phase 2: the institutions' databases, then raw inserts of as many rows.
  auto definition = network::ParseDefinition(demo::DemoNetworkTemplate(), "network.toml");
  if (!definition) {
    std::fprintf(stderr, "%s\n", definition.error().ToString().c_str());
    return 1;
  }
  demo::InstitutionsLayout layout{
      .dir = dir / "institutions", .pki_dir = dir / "pki", .hub_url = "https://127.0.0.1:8443"};
  for (const network::Institution& institution : definition->institutions()) {
    layout.listen[institution.id] = {"127.0.0.1:0", ""};
  }
  start = std::chrono::steady_clock::now();
  Status written = demo::WriteInstitutions(population, *definition, layout);
  const double write_seconds = Seconds(start);
  if (!written.ok()) {
    std::fprintf(stderr, "%s\n", written.ToString().c_str());
    return 1;
  }
  int64_t total_rows = 0;
  uintmax_t total_bytes = 0;
  std::vector<std::string> lines;
  for (const network::Institution& institution : definition->institutions()) {
    const fs::path db = demo::DatabasePath(layout, institution.id);
    const int64_t rows = CountRows(db);
    const uintmax_t bytes = fs::file_size(db);
    total_rows += rows;
    total_bytes += bytes;
    lines.push_back(fmt::format("  {:<14} {:>9} rows {:>8.1f} MiB  {:>7} directory entries",
                                institution.id, rows, bytes / 1048576.0,
                                demo::DirectoryEntryCount(population, institution.id)));
  }
  start = std::chrono::steady_clock::now();
  for (const network::Institution& institution : definition->institutions()) {
    RawInserts(dir / (institution.id + "-raw.db"),
               CountRows(demo::DatabasePath(layout, institution.id)));
  }
  const double raw_seconds = Seconds(start);
  fs::remove_all(dir);

  std::printf("demo_bench: %zu persons, seed %llu\n\n", persons,
              static_cast<unsigned long long>(seed));
  std::printf("%-44s %10s %10s\n", "phase", "measured", "baseline");
  std::printf("%-44s %9.3fs %9.3fs  (baseline: %zu numbers alone)\n", "GeneratePopulation",
              population_seconds, numbers_seconds, persons);
  std::printf("%-44s %9.3fs %9.3fs  (baseline: raw INSERTs of as many rows)\n",
              "WriteInstitutions (8 databases + configs)", write_seconds, raw_seconds);
  std::printf("\n%lld rows, %.1f MiB in all:\n", static_cast<long long>(total_rows),
              total_bytes / 1048576.0);
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
  return 0;
}
