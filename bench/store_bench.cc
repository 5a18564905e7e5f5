// SPDX-License-Identifier: EUPL-1.2
// The store's figures next to what the bare engine does on the same schema,
// measured in the same run (docs/store.md has the results and the reasoning):
//   (a) a person's entries from SQLite (EntriesOfPerson) vs a raw prepared
//       point query on the same table;
//   (b) bulk import into SQLite (ApplyEntryChanges in batches) vs raw batched
//       INSERTs, with the process's memory along the way;
//   (c) the same against PostgreSQL when $CARREFOUR_TEST_POSTGRES (or
//       --postgres URL) names a cluster: a fresh database is created and
//       dropped; the baselines there are COPY and a raw prepared query.
//
//   store_bench [--entries N] [--lookups N] [--batch N] [--dir DIR] [--sorted]
//               [--postgres URL] [--postgres-entries N] [--no-postgres] [--no-sqlite]
//
// Persons come in scattered key order by default (the worst case for a
// B-tree: every batch touches pages all over the table); --sorted imports
// them in key order (an export sorted by number: the best case).

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "store/store.h"
#include "store/testing/test_database.h"

namespace {

using carrefour::Date;
using carrefour::Period;
using carrefour::directory::Entry;
using carrefour::directory::EntryAction;
using carrefour::directory::EntryChange;
using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(const std::string& message) {
  fmt::print(stderr, "store_bench: {}\n", message);
  exit(1);
}

// Peak resident memory of the process so far, and now, in MiB.
double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}
double CurrentRssMiB() {
  long pages = 0, resident = 0;
  if (FILE* f = fopen("/proc/self/statm", "r")) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

uint64_t FileSize(const std::filesystem::path& path) {
  std::error_code error;
  uint64_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// A synthetic directory: two entries per person (an open health-insurer file
// and a closed employment), persons in scattered key order as a real export
// would be (a bijection of [0, 10^11): multiplying by a unit mod 10^11).
class Population {
 public:
  static inline bool sorted = false;  // --sorted

  static constexpr int64_t kModulus = 100'000'000'000;
  static constexpr int64_t kUnit = 7'919'000'003;  // odd, not a multiple of 5

  static int64_t NissKey(uint64_t person) {
    if (sorted) return 10'000'000'000 + static_cast<int64_t>(person);
    // No overflow below 2 billion persons (main() checks).
    return static_cast<int64_t>((person * static_cast<uint64_t>(kUnit) + 12'345) %
                                static_cast<uint64_t>(kModulus));
  }
  static std::string Niss(uint64_t person) { return fmt::format("{:011}", NissKey(person)); }

  // Entry number i (0-based).
  static Entry At(uint64_t i) {
    uint64_t person = i / 2;
    Entry entry;
    entry.niss = Niss(person);
    if (i % 2 == 0) {
      entry.institution = fmt::format("mut-{}", 100 + 100 * (person % 7));
      entry.capacity = "insured";
      entry.period = Period{Date::FromDays(16'000 + static_cast<int32_t>(person % 1000)), {}};
    } else {
      entry.institution = "onss";
      entry.capacity = "employee";
      Date from = Date::FromDays(17'000 + static_cast<int32_t>(person % 1500));
      entry.period = Period{from, from.AddDays(400)};
    }
    return entry;
  }
};

// Fills `batch` with entries [first, first + count).
void MakeBatch(uint64_t first, uint64_t count, std::vector<EntryChange>* batch) {
  batch->resize(count);
  for (uint64_t k = 0; k < count; ++k) {
    (*batch)[k].action = EntryAction::kAdd;
    (*batch)[k].entry = Population::At(first + k);
  }
}

struct ImportFigures {
  double seconds = 0;  // in the store calls only (generation excluded)
  std::vector<std::pair<uint64_t, double>> rss;  // (entries so far, current RSS MiB)
};

// The project's import: ApplyEntryChanges on batches of `batch_size`.
ImportFigures ImportThroughStore(carrefour::store::Store& store, uint64_t entries,
                                 uint64_t batch_size) {
  ImportFigures figures;
  std::vector<EntryChange> batch;
  uint64_t next_report = entries / 10;
  for (uint64_t first = 0; first < entries; first += batch_size) {
    MakeBatch(first, std::min(batch_size, entries - first), &batch);
    SteadyClock::time_point start = SteadyClock::now();
    auto results = store.directory().ApplyEntryChanges(batch);
    figures.seconds += Seconds(SteadyClock::now() - start);
    if (!results) Die(results.error().ToString());
    for (const auto& result : *results) {
      if (!result.status.ok()) Die("entry rejected: " + result.status.ToString());
    }
    uint64_t done = first + batch.size();
    if (done >= next_report || done == entries) {
      figures.rss.emplace_back(done, CurrentRssMiB());
      next_report += entries / 10;
    }
  }
  return figures;
}

void PrintImport(std::string_view engine, uint64_t entries, const ImportFigures& ours,
                 double baseline_seconds, std::string_view baseline_name) {
  double our_rate = entries / ours.seconds;
  double base_rate = entries / baseline_seconds;
  fmt::print("  import {:>10} entries  carrefour {:>9.0f}/s ({:.1f} s)   {} {:>9.0f}/s ({:.1f} s)   "
             "ratio {:.0f}%\n",
             entries, our_rate, ours.seconds, baseline_name, base_rate, baseline_seconds,
             100 * our_rate / base_rate);
  std::string samples;
  for (const auto& [done, rss] : ours.rss) samples += fmt::format(" {}k:{:.0f}", done / 1000, rss);
  fmt::print("  {} import RSS MiB by entries done:{}\n", engine, samples);
}

void PrintLookups(uint64_t lookups, double ours, double baseline, std::string_view baseline_name,
                  uint64_t found) {
  double our_rate = lookups / ours;
  double base_rate = lookups / baseline;
  fmt::print("  lookups {:>9}          carrefour {:>9.0f}/s            {} {:>9.0f}/s            "
             "ratio {:.0f}%   ({} entries found)\n",
             lookups, our_rate, baseline_name, base_rate, 100 * our_rate / base_rate, found);
}

// The persons looked up, drawn among those imported (the same for both).
std::vector<uint64_t> LookupPersons(uint64_t entries, uint64_t lookups) {
  std::mt19937_64 random(7);
  std::vector<uint64_t> persons(lookups);
  for (uint64_t& p : persons) p = random() % (entries / 2);
  return persons;
}

// --- SQLite ------------------------------------------------------------------

sqlite3* OpenRawSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  // The store's own settings (no per-call mutex either), so that only the
  // code differs.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    Die("sqlite: cannot open " + path);
  }
  char* error = nullptr;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                   " PRAGMA cache_size = -65536;",
                   nullptr, nullptr, &error) != SQLITE_OK) {
    Die(fmt::format("sqlite: {}", error));
  }
  return db;
}

void Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    Die(fmt::format("sqlite: {}: {}", sql, error));
  }
}

// Raw batched INSERTs: one prepared statement, one transaction per batch.
double RawSqliteImport(const std::string& path, uint64_t entries, uint64_t batch_size) {
  sqlite3* db = OpenRawSqlite(path);
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO directory_entry (niss, institution, capacity, valid_from,"
                         " valid_to) VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &insert, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(db));
  }
  std::vector<EntryChange> batch;
  double seconds = 0;
  for (uint64_t first = 0; first < entries; first += batch_size) {
    MakeBatch(first, std::min(batch_size, entries - first), &batch);
    SteadyClock::time_point start = SteadyClock::now();
    Exec(db, "BEGIN IMMEDIATE");
    for (uint64_t k = 0; k < batch.size(); ++k) {
      const Entry& entry = batch[k].entry;
      sqlite3_bind_int64(insert, 1, Population::NissKey((first + k) / 2));
      sqlite3_bind_text(insert, 2, entry.institution.data(),
                        static_cast<int>(entry.institution.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, entry.capacity.data(), static_cast<int>(entry.capacity.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert, 4, entry.period.from.days_since_epoch());
      if (entry.period.to) {
        sqlite3_bind_int64(insert, 5, entry.period.to->days_since_epoch());
      } else {
        sqlite3_bind_null(insert, 5);
      }
      if (sqlite3_step(insert) != SQLITE_DONE) Die(sqlite3_errmsg(db));
      sqlite3_reset(insert);
    }
    Exec(db, "COMMIT");
    seconds += Seconds(SteadyClock::now() - start);
  }
  sqlite3_finalize(insert);
  sqlite3_close_v2(db);
  return seconds;
}

// Raw point queries: the statement the store runs, read column by column, on
// one connection kept open (and warm) across calls.
double RawSqliteLookups(sqlite3_stmt* query, const std::vector<uint64_t>& persons,
                        uint64_t* found) {
  uint64_t rows = 0, bytes = 0;
  SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t person : persons) {
    sqlite3_bind_int64(query, 1, Population::NissKey(person));
    while (sqlite3_step(query) == SQLITE_ROW) {
      ++rows;
      bytes += static_cast<uint64_t>(sqlite3_column_bytes(query, 0) + sqlite3_column_bytes(query, 1));
      bytes += static_cast<uint64_t>(sqlite3_column_int64(query, 2));
      if (sqlite3_column_type(query, 3) != SQLITE_NULL) {
        bytes += static_cast<uint64_t>(sqlite3_column_int64(query, 3));
      }
    }
    sqlite3_reset(query);
  }
  double seconds = Seconds(SteadyClock::now() - start);
  if (bytes == 0) Die("raw lookups read nothing");
  *found = rows;
  return seconds;
}

double StoreLookups(carrefour::store::Store& store, const std::vector<uint64_t>& persons,
                    uint64_t* found) {
  uint64_t rows = 0;
  std::string niss;
  SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t person : persons) {
    niss = Population::Niss(person);
    auto entries = store.directory().EntriesOfPerson(niss);
    if (!entries) Die(entries.error().ToString());
    rows += entries->size();
  }
  *found = rows;
  return Seconds(SteadyClock::now() - start);
}

void RunSqlite(const std::filesystem::path& dir, uint64_t entries, uint64_t lookups,
               uint64_t batch_size) {
  fmt::print("SQLite ({} entries, {} order, batches of {}, in {}):\n", entries,
             Population::sorted ? "key" : "scattered", batch_size, dir.string());
  const std::string ours_path = (dir / "carrefour.db").string();
  const std::string raw_path = (dir / "raw.db").string();
  std::filesystem::remove(ours_path);
  std::filesystem::remove(raw_path);

  double peak_before = PeakRssMiB();
  ImportFigures ours;
  {
    auto store = carrefour::store::OpenStore("sqlite:" + ours_path);
    if (!store) Die(store.error().ToString());
    ours = ImportThroughStore(**store, entries, batch_size);
  }
  double peak_after = PeakRssMiB();

  {  // the same schema for the baseline, created by the store's migrations
    auto store = carrefour::store::OpenStore("sqlite:" + raw_path);
    if (!store) Die(store.error().ToString());
  }
  double raw_seconds = RawSqliteImport(raw_path, entries, batch_size);
  PrintImport("sqlite", entries, ours, raw_seconds, "raw INSERT");
  fmt::print("  peak RSS (ru_maxrss) before import {:.0f} MiB, after {:.0f} MiB\n", peak_before,
             peak_after);

  // Checkpoint so the sizes are those of the database, not of a WAL.
  for (const std::string& path : {ours_path, raw_path}) {
    sqlite3* db = OpenRawSqlite(path);
    Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close_v2(db);
  }
  uint64_t size = FileSize(ours_path);
  fmt::print("  on disk: {:.1f} MiB ({:.1f} bytes/entry); baseline file {:.1f} MiB\n",
             size / 1048576.0, static_cast<double>(size) / entries, FileSize(raw_path) / 1048576.0);

  std::vector<uint64_t> persons = LookupPersons(entries, lookups);
  auto store = carrefour::store::OpenStore("sqlite:" + ours_path);
  if (!store) Die(store.error().ToString());
  sqlite3* raw = OpenRawSqlite(ours_path);
  Exec(raw, "PRAGMA cache_size = -8192");  // a reader's cache, as the store's readers have
  sqlite3_stmt* query = nullptr;
  if (sqlite3_prepare_v2(raw,
                         "SELECT institution, capacity, valid_from, valid_to FROM directory_entry"
                         " WHERE niss = ?1",
                         -1, &query, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(raw));
  }
  uint64_t found_ours = 0, found_raw = 0;
  // Warm both paths (caches, statements) on a first pass, then alternate.
  StoreLookups(**store, persons, &found_ours);
  RawSqliteLookups(query, persons, &found_raw);
  double raw_lookup_seconds = RawSqliteLookups(query, persons, &found_raw);
  double ours_seconds = StoreLookups(**store, persons, &found_ours);
  raw_lookup_seconds = std::min(raw_lookup_seconds, RawSqliteLookups(query, persons, &found_raw));
  ours_seconds = std::min(ours_seconds, StoreLookups(**store, persons, &found_ours));
  sqlite3_finalize(query);
  sqlite3_close_v2(raw);
  if (found_ours != found_raw) Die("the store and the raw query found different entries");
  PrintLookups(lookups, ours_seconds, raw_lookup_seconds, "raw query ", found_ours);
}

// --- PostgreSQL --------------------------------------------------------------

// COPY: the fastest way PostgreSQL has to load rows.
double RawPostgresCopy(const std::string& url, uint64_t entries, uint64_t batch_size) {
  pqxx::connection connection(url);
  connection.set_variable("synchronous_commit", "on");
  std::vector<EntryChange> batch;
  double seconds = 0;
  for (uint64_t first = 0; first < entries; first += batch_size) {
    MakeBatch(first, std::min(batch_size, entries - first), &batch);
    SteadyClock::time_point start = SteadyClock::now();
    pqxx::work transaction(connection);
    pqxx::stream_to stream(transaction, "directory_entry",
                           std::vector<std::string>{"niss", "institution", "capacity",
                                                    "valid_from", "valid_to"});
    std::string to;
    for (uint64_t k = 0; k < batch.size(); ++k) {
      const Entry& entry = batch[k].entry;
      const char* to_text = nullptr;
      if (entry.period.to) {
        to = std::to_string(entry.period.to->days_since_epoch());
        to_text = to.c_str();
      }
      stream << std::make_tuple(Population::NissKey((first + k) / 2), entry.institution,
                                entry.capacity, entry.period.from.days_since_epoch(), to_text);
    }
    stream.complete();
    transaction.commit();
    seconds += Seconds(SteadyClock::now() - start);
  }
  return seconds;
}

double RawPostgresLookups(pqxx::connection& connection, const std::vector<uint64_t>& persons,
                          uint64_t* found) {
  uint64_t rows = 0;
  SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t person : persons) {
    pqxx::nontransaction transaction(connection);
    pqxx::result result = transaction.exec_prepared("lookup", Population::NissKey(person));
    rows += result.size();
  }
  *found = rows;
  return Seconds(SteadyClock::now() - start);
}

void RunPostgres(const std::string& maintenance_url, uint64_t entries, uint64_t lookups,
                 uint64_t batch_size) {
  using carrefour::store::testing::TestDatabase;
  using carrefour::store::testing::Engine;
  setenv(carrefour::store::testing::kPostgresEnv, maintenance_url.c_str(), 1);
  auto ours_db = TestDatabase::Create(Engine::kPostgres);
  auto raw_db = TestDatabase::Create(Engine::kPostgres);
  if (!ours_db) Die(ours_db.error().ToString());
  if (!raw_db) Die(raw_db.error().ToString());
  fmt::print("PostgreSQL ({} entries, {} order, batches of {}):\n", entries,
             Population::sorted ? "key" : "scattered", batch_size);

  double peak_before = PeakRssMiB();
  ImportFigures ours;
  {
    auto store = carrefour::store::OpenStore((*ours_db)->url());
    if (!store) Die(store.error().ToString());
    ours = ImportThroughStore(**store, entries, batch_size);
  }
  double peak_after = PeakRssMiB();
  {
    auto store = carrefour::store::OpenStore((*raw_db)->url());
    if (!store) Die(store.error().ToString());
  }
  double raw_seconds = 0;
  try {
    raw_seconds = RawPostgresCopy((*raw_db)->url(), entries, batch_size);
  } catch (const std::exception& e) {
    Die(std::string("postgresql COPY: ") + e.what());
  }
  PrintImport("postgresql", entries, ours, raw_seconds, "raw COPY  ");
  fmt::print("  peak RSS (ru_maxrss) before import {:.0f} MiB, after {:.0f} MiB\n", peak_before,
             peak_after);
  auto table = (*ours_db)->QueryText("SELECT pg_total_relation_size('directory_entry')");
  auto database = (*ours_db)->QueryText("SELECT pg_database_size(current_database())");
  if (table && database) {
    double bytes = std::stod(*table);
    fmt::print("  on disk: table + index {:.1f} MiB ({:.1f} bytes/entry), database {:.1f} MiB\n",
               bytes / 1048576.0, bytes / entries, std::stod(*database) / 1048576.0);
  }

  std::vector<uint64_t> persons = LookupPersons(entries, lookups);
  auto store = carrefour::store::OpenStore((*ours_db)->url());
  if (!store) Die(store.error().ToString());
  uint64_t found_ours = 0, found_raw = 0;
  double ours_seconds = 0, raw_lookup_seconds = 0;
  try {
    pqxx::connection raw((*ours_db)->url());
    raw.prepare("lookup",
                "SELECT institution, capacity, valid_from, valid_to FROM directory_entry"
                " WHERE niss = $1");
    StoreLookups(**store, persons, &found_ours);
    RawPostgresLookups(raw, persons, &found_raw);
    raw_lookup_seconds = RawPostgresLookups(raw, persons, &found_raw);
    ours_seconds = StoreLookups(**store, persons, &found_ours);
    raw_lookup_seconds = std::min(raw_lookup_seconds, RawPostgresLookups(raw, persons, &found_raw));
    ours_seconds = std::min(ours_seconds, StoreLookups(**store, persons, &found_ours));
  } catch (const std::exception& e) {
    Die(std::string("postgresql lookups: ") + e.what());
  }
  if (found_ours != found_raw) Die("the store and the raw query found different entries");
  PrintLookups(lookups, ours_seconds, raw_lookup_seconds, "raw query ", found_ours);
}

uint64_t ParseCount(const char* text) {
  char* end = nullptr;
  unsigned long long value = strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) Die(fmt::format("'{}' is not a count", text));
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t entries = 1'000'000;
  uint64_t lookups = 200'000;
  uint64_t batch_size = 10'000;
  uint64_t postgres_entries = 0;  // 0: same as --entries
  bool run_sqlite = true;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "carrefour-store-bench";
  const char* env = getenv("CARREFOUR_TEST_POSTGRES");
  std::string postgres = env ? env : "";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Die(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--entries") {
      entries = ParseCount(value());
    } else if (arg == "--lookups") {
      lookups = ParseCount(value());
    } else if (arg == "--batch") {
      batch_size = ParseCount(value());
    } else if (arg == "--dir") {
      dir = value();
    } else if (arg == "--postgres") {
      postgres = value();
    } else if (arg == "--postgres-entries") {
      postgres_entries = ParseCount(value());
    } else if (arg == "--sorted") {
      Population::sorted = true;
    } else if (arg == "--no-sqlite") {
      run_sqlite = false;
    } else if (arg == "--no-postgres") {
      postgres.clear();
    } else {
      Die(fmt::format("unknown argument {} (see the comment at the top of store_bench.cc)", arg));
    }
  }
  if (entries < 2 || entries > 4'000'000'000) Die("--entries must be between 2 and 4 billion");
  std::filesystem::create_directories(dir);

  if (run_sqlite) {
    RunSqlite(dir, entries, lookups, batch_size);
    std::filesystem::remove(dir / "carrefour.db");
    std::filesystem::remove(dir / "raw.db");
  }
  if (postgres.empty()) {
    fmt::print("PostgreSQL: skipped ($CARREFOUR_TEST_POSTGRES or --postgres URL to run it)\n");
  } else {
    RunPostgres(postgres, postgres_entries ? postgres_entries : entries, lookups, batch_size);
  }
  return 0;
}
