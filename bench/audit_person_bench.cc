// SPDX-License-Identifier: EUPL-1.2
// The SQLite audit log's person index as sorted runs (store/sqlite/
// person_runs.h) against the B-tree index it replaced (docs/store.md, "The
// audit log's person index"), on the same records in the same run:
//
//   runs:  SqliteAuditStore::AppendAudit, and QueryAudit for a person;
//   btree: the same records inserted by the same statement (the store's
//          InsertAuditRecords) with the index audit_record (niss, time_us)
//          instead (the code before migration 13), and the query through it;
//   none:  the same inserts without any person index (the floor; a look-up
//          scans the table, so none is timed).
//
// Each batch is one transaction, as a batch of mutations' records is in the
// hub. Reported: records appended per second over the whole run and over its
// last tenth (the B-tree slows down as it grows), bytes the process wrote per
// record (WAL and checkpoints), and the latency of a person's look-up of its
// newest 100 records.
//
//   audit_person_bench [--records N] [--persons N] [--batch N] [--lookups N]
//                      [--run-entries N] [--fanout N]
//
// Defaults: 300 000 records of 10 000 persons in batches of 1000, 500
// look-ups, the runs' shape the store's (PersonRunShape); --run-entries and
// --fanout try another one. A plain main; each variant on a fresh database in a temporary
// folder.

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "audit/record.h"
#include "core/clock.h"
#include "store/sqlite/audit_store.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"

namespace {

using namespace carrefour;
using namespace carrefour::store::sqlite;
using SteadyClock = std::chrono::steady_clock;

struct Config {
  size_t records = 300'000;
  size_t persons = 10'000;
  size_t batch = 1000;
  size_t lookups = 500;
  PersonRunShape shape;
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "audit_person_bench: %s\n", message.c_str());
  std::exit(1);
}

void Check(const Status& status, const char* what) {
  if (!status.ok()) Die(fmt::format("{}: {}", what, status.ToString()));
}

// Bytes this process has written to storage so far (/proc/self/io).
int64_t WrittenBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

std::string Hex(std::mt19937_64& random, size_t digits) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (char& c : out) c = kDigits[random() % 16];
  return out;
}

// The records of a run of batches of mutations: one per mutation, about a
// random person, as the hub writes them.
std::vector<audit::Record> MakeRecords(const Config& config) {
  std::mt19937_64 random(20261207);
  std::vector<std::string> persons;
  for (size_t p = 0; p < config.persons; ++p) {
    persons.push_back(fmt::format("{:011}", 85'010'100'000 + p * 97));
  }
  std::vector<audit::Record> out(config.records);
  int64_t time_us = 1'780'000'000'000'000;
  for (size_t i = 0; i < out.size(); ++i) {
    audit::Record& record = out[i];
    record.node = "hub-1";
    record.seq = static_cast<int64_t>(i) + 1;
    if (i % config.batch == 0) time_us += 20'000;
    record.time_us = time_us;
    record.kind = audit::Kind::kMutation;
    record.request_id = Hex(random, 32);
    record.requester = "nr";
    record.niss = persons[random() % persons.size()];
    record.data_type = "person.address";
    record.providers = "mut-100:art-12,mut-200:art-31,mut-300:art-7";
    record.answer_sha256 = Hex(random, 64);
    record.detail = fmt::format("id=m-{}", i);
    record.prev_hash = Hex(random, 64);
    record.hash = Hex(random, 64);
  }
  return out;
}

// The index before migration 13, and the query through it.
constexpr const char kBTreeIndex[] =
    "CREATE INDEX audit_record_by_niss ON audit_record (niss, time_us)";
constexpr const char kBTreeQuery[] =
    "SELECT seq FROM audit_record WHERE niss = ?1 ORDER BY time_us DESC, seq DESC LIMIT 100";

struct Figures {
  double per_s = 0;        // records appended per second, whole run
  double last_per_s = 0;   // over the last tenth of the batches
  double bytes = 0;        // written per record
  double lookup_p50_us = 0, lookup_p99_us = 0;
  double found = 0;        // records per look-up
};

enum class Index { kRuns, kBTree, kNone };

Figures Run(const Config& config, const std::vector<audit::Record>& records, Index index) {
  const bool runs = index == Index::kRuns;
  const std::string dir =
      fmt::format("{}/carrefour-audit-person-{}-{}", std::filesystem::temp_directory_path().string(),
                  getpid(), static_cast<int>(index));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Figures out;
  {
    Result<std::unique_ptr<Database>> opened =
        Database::Open(dir + "/audit.db", Migrations(), SystemClock());
    if (!opened) Die(opened.error().ToString());
    Database& database = **opened;
    SqliteAuditStore store(database, config.shape);
    if (index == Index::kBTree) {
      Check(database.Write([](Connection& connection) { return connection.Exec(kBTreeIndex); }),
            "index");
    }
    const size_t batches = (records.size() + config.batch - 1) / config.batch;
    const size_t last_tenth = batches - std::max<size_t>(1, batches / 10);
    const int64_t written_before = WrittenBytes();
    const auto start = SteadyClock::now();
    SteadyClock::time_point tail_start = start;
    for (size_t b = 0; b < batches; ++b) {
      if (b == last_tenth) tail_start = SteadyClock::now();
      std::span<const audit::Record> batch(records.data() + b * config.batch,
                                           std::min(config.batch, records.size() - b * config.batch));
      if (runs) {
        Check(store.AppendAudit(batch, audit::Checkpoint{}), "append");
      } else {
        Check(database.Write(
                  [&](Connection& connection) { return InsertAuditRecords(connection, batch); }),
              "insert");
      }
    }
    const auto end = SteadyClock::now();
    out.bytes = static_cast<double>(WrittenBytes() - written_before) / static_cast<double>(records.size());
    out.per_s = static_cast<double>(records.size()) / std::chrono::duration<double>(end - start).count();
    out.last_per_s = static_cast<double>(records.size() - last_tenth * config.batch) /
                     std::chrono::duration<double>(end - tail_start).count();

    // Without an index a look-up scans the table: none is timed.
    const size_t lookups = index == Index::kNone ? 0 : config.lookups;
    std::mt19937_64 random(7);
    std::vector<double> micros;
    size_t found = 0;
    for (size_t l = 0; l < lookups; ++l) {
      const std::string& niss = records[random() % records.size()].niss;
      const auto t0 = SteadyClock::now();
      if (runs) {
        audit::Query query;
        query.niss = niss;
        query.limit = 100;
        Result<std::vector<audit::Record>> got = store.QueryAudit(query);
        if (!got) Die(got.error().ToString());
        found += got->size();
      } else {
        Check(database.Read([&](Connection& connection) -> Status {
                CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kBTreeQuery));
                ScopedReset reset(*query);
                query->Bind(1, niss);
                while (true) {
                  CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
                  if (!row) return OkStatus();
                  ++found;
                }
              }),
              "query");
      }
      micros.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
    }
    std::sort(micros.begin(), micros.end());
    if (micros.empty()) micros.push_back(0);
    out.lookup_p50_us = micros[micros.size() / 2];
    out.lookup_p99_us = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
    out.found = static_cast<double>(found) / static_cast<double>(std::max<size_t>(1, lookups));
  }
  std::filesystem::remove_all(dir);
  return out;
}

size_t Count(const char* text, const char* name) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) Die(fmt::format("{} needs a positive count", name));
  return static_cast<size_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf(
          "audit_person_bench [--records N] [--persons N] [--batch N] [--lookups N]\n"
          "                   [--run-entries N] [--fanout N]\n"
          "The SQLite audit log's person index as sorted runs against the B-tree it replaced.\n");
      return 0;
    }
    if (i + 1 >= argc) Die(arg + " needs a value (see --help)");
    const char* value = argv[++i];
    if (arg == "--records") config.records = Count(value, "--records");
    else if (arg == "--persons") config.persons = Count(value, "--persons");
    else if (arg == "--batch") config.batch = Count(value, "--batch");
    else if (arg == "--lookups") config.lookups = Count(value, "--lookups");
    else if (arg == "--run-entries") config.shape.run_entries = static_cast<int64_t>(Count(value, "--run-entries"));
    else if (arg == "--fanout") config.shape.fanout = static_cast<int64_t>(Count(value, "--fanout"));
    else Die("unknown option " + arg + " (see --help)");
  }
  if (config.shape.fanout < 2 || config.shape.fanout > PersonRunShape::kMaxFanout) {
    Die(fmt::format("--fanout must be 2 to {}", PersonRunShape::kMaxFanout));
  }
  std::printf("%zu records of %zu persons in batches of %zu, one transaction each; %zu look-ups; "
              "runs of %lld entries, merged %lld at a time\n",
              config.records, config.persons, config.batch, config.lookups,
              static_cast<long long>(config.shape.run_entries),
              static_cast<long long>(config.shape.fanout));
  const std::vector<audit::Record> records = MakeRecords(config);
  std::printf("%-26s %12s %16s %12s %22s\n", "", "records/s", "last tenth /s", "bytes/rec",
              "look-up p50 / p99");
  for (Index index : {Index::kRuns, Index::kBTree, Index::kNone}) {
    const Figures f = Run(config, records, index);
    const char* name = index == Index::kRuns    ? "sorted runs (migration 13)"
                       : index == Index::kBTree ? "B-tree (niss, time_us)"
                                                : "no person index (floor)";
    std::printf("%-26s %12.0f %16.0f %12.0f", name, f.per_s, f.last_per_s, f.bytes);
    if (index != Index::kNone) {
      std::printf(" %12.0f / %.0f us (%.1f records)", f.lookup_p50_us, f.lookup_p99_us, f.found);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
