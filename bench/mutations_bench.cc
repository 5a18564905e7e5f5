// Mutations (SPEC.md 4.3): intake and feeds through the MutationService on a
// real store, against the bare engine writing the same rows, in the same run
// (docs/benchmarks.md, "Mutations", has the figures and the reasoning):
//   (a) intake: a source publishes batches of 1000 (JSON in, validated,
//       subscribers resolved from the person directory, one copy per
//       subscriber cut to its fields, one transaction, one durable audit
//       record per mutation, 202 out), 3 subscribers per mutation; then two
//       sources at once;
//   (b) baselines: the same rows written by hand in a fresh database of the
//       same schema, one transaction of prepared INSERTs per batch of 1000,
//       durable alike: the mutation tables' rows alone (a mutation, its 3
//       deliveries, the feed counters), and those plus one audit-shaped row
//       per mutation; on PostgreSQL also with one array INSERT per table.
//       (a) and (b) run in interleaved rounds, so that a shared machine's
//       changing load weighs on both alike;
//   (c) delivery: the 3 subscribers drain their feeds (limit 1000, each read
//       acknowledging the previous one), concurrently;
//   (d) delay publish -> feed answer, with long-polling subscribers: one
//       mutation at a time (idle), and batches of 1000 at full speed (load).
//
//   mutations_bench [--mutations N] [--persons N] [--rounds N] [--load-batches N]
//                   [--idle-mutations N] [--postgres URL] [--no-postgres]
//                   [--no-sqlite]
//
// In-process (the service and the store, no HTTP): the hub's HTTP and TLS
// cost per request is what bench/hub_load measures; here a batch of 1000 is
// one request, so that cost is small next to the work measured, and leaving
// it out makes the comparison with the bare engine a comparison of the
// mutation code alone. PostgreSQL runs when $CARREFOUR_TEST_POSTGRES or
// --postgres names a cluster (fresh databases are created and dropped).

#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "audit/audit_log.h"
#include "directory/decision.h"
#include "mutations/mutations.h"
#include "network/loader.h"
#include "niss/niss.h"
#include "store/store.h"
#include "store/testing/test_database.h"

namespace {

namespace json = boost::json;
using carrefour::Date;
using carrefour::Period;
using carrefour::Result;
using carrefour::mutations::MutationService;
using carrefour::mutations::Reply;
using carrefour::store::testing::Engine;
using carrefour::store::testing::TestDatabase;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kBatch = 1000;
const std::vector<std::string> kSubscribers = {"mut-100", "mut-200", "mut-300"};

// One source, three mutualities entitled to every person's address (3 of
// its 5 fields).
constexpr char kNetwork[] = R"(
[[institution_type]]
id = "national-register"
capacities = []

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National register"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Mutuality 100"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-200"
type = "mutuality"
name = "Mutuality 200"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-300"
type = "mutuality"
name = "Mutuality 300"
endpoint = "https://127.0.0.1:1"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country", "since"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code", "municipality"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
)";

struct Config {
  size_t mutations = 100'000;
  size_t persons = 10'000;
  size_t load_batches = 20;
  size_t idle_mutations = 300;
  size_t rounds = 5;
  std::string postgres;
  bool sqlite = true;
};

[[noreturn]] void Die(const std::string& message) {
  fmt::print(stderr, "mutations_bench: {}\n", message);
  exit(1);
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }
int64_t MicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

template <typename T>
T Check(Result<T> result, const std::string& what) {
  if (!result) Die(what + ": " + result.error().ToString());
  return std::move(*result);
}

// What a source sends and what a subscriber gets, for mutation `i`.
std::string Item(const std::string& id, const std::string& niss, size_t i) {
  return fmt::format(
      R"({{"id": "{}", "data_type": "person.address", "niss": "{}", "effective": "2024-05-01", )"
      R"("data": {{"street": "Rue Neuve {}", "postal_code": "5000", "municipality": "Namur", )"
      R"("country": "BE", "since": "2024-05-01"}}}})",
      id, niss, i);
}
std::string Copy(size_t i) {
  return fmt::format(R"({{"street":"Rue Neuve {}","postal_code":"5000","municipality":"Namur"}})", i);
}

// The hub's side: a store, its audit log, the service, and a directory in
// which every person is insured by the three mutualities.
struct Hub {
  std::unique_ptr<carrefour::store::Store> store;
  std::unique_ptr<carrefour::audit::AuditLog> audit;
  std::shared_ptr<const carrefour::directory::DecisionEngine> engine;
  std::unique_ptr<MutationService> service;

  Hub(const std::string& url, const std::vector<std::string>& persons) {
    store = Check(carrefour::store::OpenStore(url), "opening the store");
    auto definition = Check(carrefour::network::ParseDefinition(kNetwork, "bench.toml"), "network");
    engine = std::make_shared<carrefour::directory::DecisionEngine>(
        std::make_shared<const carrefour::network::Definition>(std::move(definition)));
    std::vector<carrefour::directory::EntryChange> changes;
    for (size_t p = 0; p < persons.size(); ++p) {
      for (const std::string& subscriber : kSubscribers) {
        changes.push_back({carrefour::directory::EntryAction::kAdd,
                           {persons[p], subscriber, "insured", Period{*Date::Parse("2020-01-01"), {}}}});
      }
      if (changes.size() >= 10'000 || p + 1 == persons.size()) {
        Check(store->directory().ApplyEntryChanges(changes), "integrating the persons");
        changes.clear();
      }
    }
    audit = Check(carrefour::audit::AuditLog::Open(store->audit(), {.node = "bench"}), "audit log");
    service = std::make_unique<MutationService>([this] { return engine; }, *store, *audit,
                                                carrefour::SystemClock());
  }
  ~Hub() {
    service.reset();
    audit.reset();
    store.reset();
  }

  Reply Publish(const std::string& body) {
    std::promise<Reply> promise;
    service->Publish("nr", body, [&](Reply reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  }
  // The reply, and when the service answered (not when this thread woke).
  std::pair<Reply, int64_t> ReadFeed(const std::string& subscriber, const std::string& after,
                                     int wait) {
    std::promise<std::pair<Reply, int64_t>> promise;
    const std::string limit = std::to_string(kBatch), wait_text = std::to_string(wait);
    service->ReadFeed(subscriber, after, limit, wait_text, [&](Reply reply) {
      promise.set_value({std::move(reply), MicrosNow()});
    });
    return promise.get_future().get();
  }
};

size_t Count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// "next" of a feed answer, without parsing the whole body.
std::string NextOf(const std::string& body) {
  size_t at = body.rfind("\"next\":\"");
  if (at == std::string::npos) Die("a feed answer without next: " + body.substr(0, 200));
  at += 8;
  return body.substr(at, body.find('"', at) - at);
}

// (a): batches [begin, end) of `bodies`, published one after the other by
// each of `sources` concurrent sources; every item must be accepted.
double Intake(Hub& hub, const std::vector<std::string>& bodies, size_t begin, size_t end,
              size_t sources = 1) {
  std::atomic<size_t> next{begin};
  auto publish = [&] {
    for (size_t b = next++; b < end; b = next++) {
      Reply reply = hub.Publish(bodies[b]);
      if (reply.status != 202 || Count(reply.body, "\"accepted\"") != kBatch) {
        Die(fmt::format("intake: {} {}", reply.status, reply.body.substr(0, 300)));
      }
    }
  };
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (size_t k = 1; k < sources; ++k) threads.emplace_back(publish);
  publish();
  for (std::thread& thread : threads) thread.join();
  return Seconds(SteadyClock::now() - start);
}

// (c): each subscriber reads its feed to the end, concurrently.
double Drain(Hub& hub, size_t expected_each) {
  const auto start = SteadyClock::now();
  std::vector<std::thread> readers;
  for (const std::string& subscriber : kSubscribers) {
    readers.emplace_back([&hub, subscriber, expected_each] {
      std::string after = "0";
      size_t got = 0;
      for (;;) {
        Reply reply = hub.ReadFeed(subscriber, after, 0).first;
        if (reply.status != 200) Die("feed: " + reply.body.substr(0, 300));
        const size_t n = Count(reply.body, "\"cursor\"");
        if (n == 0) break;
        got += n;
        after = NextOf(reply.body);
      }
      hub.ReadFeed(subscriber, after, 0);  // the last acknowledgement
      if (got != expected_each) Die(fmt::format("{} got {} of {}", subscriber, got, expected_each));
    });
  }
  for (std::thread& reader : readers) reader.join();
  return Seconds(SteadyClock::now() - start);
}

// (b): the same rows written by hand. Two sets: the mutation tables' rows
// alone (a mutation, its 3 deliveries, the feed counters), and those plus one
// audit-shaped row per mutation (the intake writes one audit record per
// mutation, durably: SPEC.md 4.3 and docs/mutations.md), all in one
// transaction per batch, in a fresh database of the store's own schema.
struct RawRows {
  std::string id, niss, data[3];
  // Audit-shaped: the sizes of the intake's records (hashes are hex SHA-256).
  std::string request_id = std::string(32, 'a'), digest = std::string(64, 'b'),
              prev = std::string(64, 'c'), hash = std::string(64, 'd'), detail;
};
const std::string kProviders = "mut-100:ISC/24/001,mut-200:ISC/24/001,mut-300:ISC/24/001";

class RawWriter {
 public:
  virtual ~RawWriter() = default;
  // Writes mutations [first, first + count) in batches of kBatch; seconds.
  virtual double Write(size_t first, size_t count) = 0;

 protected:
  RawRows Rows(size_t i) const {
    RawRows rows;
    rows.id = fmt::format("raw-{}", i);
    rows.niss = (*persons_)[i % persons_->size()];
    for (std::string& data : rows.data) data = Copy(i);
    rows.detail = fmt::format("id={} subscribers=3", rows.id);
    return rows;
  }
  const std::vector<std::string>* persons_ = nullptr;
  bool audit_ = false;
  int64_t seq_ = 0;
  std::vector<int64_t> cursor_ = std::vector<int64_t>(kSubscribers.size(), 0);
};

// SQLite: WAL and synchronous = FULL as the store's writer; one prepared
// statement per table, one transaction per batch.
class RawSqlite final : public RawWriter {
 public:
  RawSqlite(const std::string& path, const std::vector<std::string>& persons, bool audit) {
    persons_ = &persons;
    audit_ = audit;
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      Die("raw sqlite: cannot open " + path);
    }
    Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
         "PRAGMA cache_size = -65536;");
    insert_ = Prepare(
        "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    counter_ = Prepare(
        "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES (?1, ?2) "
        "ON CONFLICT (subscriber) DO UPDATE SET last_cursor = last_cursor + excluded.last_cursor");
    deliver_ = Prepare(
        "INSERT INTO mutation_delivery (subscriber, cursor, mid, data, accepted_us) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    record_ = Prepare(
        "INSERT INTO audit_record (node, seq, time_us, kind, request_id, requester, niss, "
        "data_type, capacity, legal_basis, outcome, reason, providers, latency_us, answer_sha256, "
        "detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14, ?15, ?16, ?17, ?18)");
  }
  ~RawSqlite() override {
    for (sqlite3_stmt* statement : {insert_, counter_, deliver_, record_}) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }

  double Write(size_t first, size_t count) override {
    std::vector<RawRows> rows(kBatch);
    std::vector<int64_t> mids(kBatch);
    const auto start = SteadyClock::now();
    for (size_t batch = first; batch < first + count; batch += kBatch) {
      const int64_t now = MicrosNow();
      for (size_t k = 0; k < kBatch; ++k) rows[k] = Rows(batch + k);
      Exec("BEGIN IMMEDIATE");
      for (size_t k = 0; k < kBatch; ++k) {
        Text(insert_, 1, "nr");
        Text(insert_, 2, rows[k].id);
        Text(insert_, 3, "person.address");
        Text(insert_, 4, rows[k].niss);
        sqlite3_bind_int64(insert_, 5, 19'844);
        sqlite3_bind_int64(insert_, 6, now);
        Step(insert_);
        mids[k] = sqlite3_last_insert_rowid(db_);
      }
      for (size_t s = 0; s < kSubscribers.size(); ++s) {
        Text(counter_, 1, kSubscribers[s]);
        sqlite3_bind_int64(counter_, 2, static_cast<int64_t>(kBatch));
        Step(counter_);
        for (size_t k = 0; k < kBatch; ++k) {
          Text(deliver_, 1, kSubscribers[s]);
          sqlite3_bind_int64(deliver_, 2, ++cursor_[s]);
          sqlite3_bind_int64(deliver_, 3, mids[k]);
          Text(deliver_, 4, rows[k].data[s]);
          sqlite3_bind_int64(deliver_, 5, now);
          Step(deliver_);
        }
      }
      for (size_t k = 0; audit_ && k < kBatch; ++k) {
        const RawRows& r = rows[k];
        Text(record_, 1, "bench");
        sqlite3_bind_int64(record_, 2, ++seq_);
        sqlite3_bind_int64(record_, 3, now);
        sqlite3_bind_int64(record_, 4, 2);  // audit::Kind::kMutation
        Text(record_, 5, r.request_id);
        Text(record_, 6, "nr");
        Text(record_, 7, r.niss);
        Text(record_, 8, "person.address");
        Text(record_, 9, "");
        Text(record_, 10, "");
        sqlite3_bind_int64(record_, 11, 0);
        Text(record_, 12, "accepted");
        Text(record_, 13, kProviders);
        sqlite3_bind_int64(record_, 14, 1000);
        Text(record_, 15, r.digest);
        Text(record_, 16, r.detail);
        Text(record_, 17, r.prev);
        Text(record_, 18, r.hash);
        Step(record_);
      }
      Exec("COMMIT");
    }
    return Seconds(SteadyClock::now() - start);
  }

 private:
  void Exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      Die(fmt::format("raw sqlite: {}: {}", sql, error ? error : "?"));
    }
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
        SQLITE_OK) {
      Die(fmt::format("raw sqlite: {}: {}", sql, sqlite3_errmsg(db_)));
    }
    return statement;
  }
  static void Text(sqlite3_stmt* statement, int index, std::string_view text) {
    sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void Step(sqlite3_stmt* statement) {
    int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) Die(fmt::format("raw sqlite: {}", sqlite3_errmsg(db_)));
    sqlite3_reset(statement);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt *insert_ = nullptr, *counter_ = nullptr, *deliver_ = nullptr, *record_ = nullptr;
};

// A PostgreSQL array literal ({"a","b"} or {1,2}): libpqxx 6 does not
// convert vectors itself.
std::string ArrayOf(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}
std::string ArrayOf(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (int64_t value : values) {
    if (out.size() > 1) out += ',';
    out += std::to_string(value);
  }
  return out + "}";
}

// PostgreSQL: prepared statements, one round trip per row (`arrays`: one
// INSERT ... SELECT FROM unnest(arrays) per table instead, the engine's best
// short of COPY, and what the store itself does), one transaction per batch;
// synchronous_commit as the cluster has it (on).
class RawPostgres final : public RawWriter {
 public:
  RawPostgres(const std::string& url, const std::vector<std::string>& persons, bool audit,
              bool arrays)
      : connection_(url), arrays_(arrays) {
    persons_ = &persons;
    audit_ = audit;
    connection_.prepare("insert",
                        "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us) "
                        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING mid");
    connection_.prepare("counter",
                        "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES ($1, $2) "
                        "ON CONFLICT (subscriber) DO UPDATE SET last_cursor = "
                        "mutation_feed.last_cursor + excluded.last_cursor");
    connection_.prepare("deliver",
                        "INSERT INTO mutation_delivery (subscriber, cursor, mid, data, accepted_us) "
                        "VALUES ($1, $2, $3, $4, $5)");
    connection_.prepare(
        "record",
        "INSERT INTO audit_record (node, seq, time_us, kind, request_id, requester, niss, "
        "data_type, capacity, legal_basis, outcome, reason, providers, latency_us, answer_sha256, "
        "detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15, $16, $17, $18)");
    connection_.prepare(
        "insert_all",
        "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us) "
        "SELECT 'nr', i, 'person.address', n, 19844, $3 FROM unnest($1::text[], $2::text[]) "
        "WITH ORDINALITY AS t(i, n, o) ORDER BY o RETURNING mid");
    connection_.prepare(
        "deliver_all",
        "INSERT INTO mutation_delivery (subscriber, cursor, mid, data, accepted_us) "
        "SELECT $1, c, m, d, $5 FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS t(c, m, d)");
    connection_.prepare(
        "record_all",
        "INSERT INTO audit_record (node, seq, time_us, kind, request_id, requester, niss, "
        "data_type, capacity, legal_basis, outcome, reason, providers, latency_us, answer_sha256, "
        "detail, prev_hash, hash) SELECT 'bench', s, $2, 2, $3, 'nr', n, 'person.address', '', '', "
        "0, 'accepted', $4, 1000, $5, d, $6, $7 FROM unnest($1::bigint[], $8::text[], $9::text[]) "
        "AS t(s, n, d)");
  }

  double Write(size_t first, size_t count) override {
    std::vector<RawRows> rows(kBatch);
    std::vector<int64_t> mids(kBatch);
    const auto start = SteadyClock::now();
    try {
      for (size_t batch = first; batch < first + count; batch += kBatch) {
        const int64_t now = MicrosNow();
        for (size_t k = 0; k < kBatch; ++k) rows[k] = Rows(batch + k);
        pqxx::work transaction(connection_);
        if (arrays_) {
          WriteArrays(transaction, rows, now);
        } else {
          WriteRows(transaction, rows, now, &mids);
        }
        transaction.commit();
      }
    } catch (const std::exception& e) {
      Die(std::string("raw postgresql: ") + e.what());
    }
    return Seconds(SteadyClock::now() - start);
  }

 private:
  void WriteRows(pqxx::work& transaction, const std::vector<RawRows>& rows, int64_t now,
                 std::vector<int64_t>* mids) {
    for (size_t k = 0; k < kBatch; ++k) {
      (*mids)[k] = transaction
                       .exec_prepared1("insert", "nr", rows[k].id, "person.address", rows[k].niss,
                                       19'844, now)[0]
                       .as<int64_t>();
    }
    for (size_t s = 0; s < kSubscribers.size(); ++s) {
      transaction.exec_prepared0("counter", kSubscribers[s], static_cast<int64_t>(kBatch));
      for (size_t k = 0; k < kBatch; ++k) {
        transaction.exec_prepared0("deliver", kSubscribers[s], ++cursor_[s], (*mids)[k],
                                   rows[k].data[s], now);
      }
    }
    for (size_t k = 0; audit_ && k < kBatch; ++k) {
      const RawRows& r = rows[k];
      transaction.exec_prepared0("record", "bench", ++seq_, now, 2, r.request_id, "nr", r.niss,
                                 "person.address", "", "", 0, "accepted", kProviders, 1000,
                                 r.digest, r.detail, r.prev, r.hash);
    }
  }

  void WriteArrays(pqxx::work& transaction, const std::vector<RawRows>& rows, int64_t now) {
    std::vector<std::string> ids, nisses, details;
    std::vector<int64_t> seqs;
    for (const RawRows& r : rows) {
      ids.push_back(r.id);
      nisses.push_back(r.niss);
      details.push_back(r.detail);
      seqs.push_back(++seq_);
    }
    std::vector<int64_t> mids;
    for (const pqxx::row& row : transaction.exec_prepared("insert_all", ArrayOf(ids), ArrayOf(nisses), now)) {
      mids.push_back(row[0].as<int64_t>());
    }
    for (size_t s = 0; s < kSubscribers.size(); ++s) {
      transaction.exec_prepared0("counter", kSubscribers[s], static_cast<int64_t>(kBatch));
      std::vector<int64_t> cursors;
      std::vector<std::string> data;
      for (size_t k = 0; k < kBatch; ++k) {
        cursors.push_back(++cursor_[s]);
        data.push_back(rows[k].data[s]);
      }
      transaction.exec_prepared0("deliver_all", kSubscribers[s], ArrayOf(cursors), ArrayOf(mids),
                                 ArrayOf(data), now);
    }
    if (audit_) {
      const RawRows& r = rows.front();
      transaction.exec_prepared0("record_all", ArrayOf(seqs), now, r.request_id, kProviders,
                                 r.digest, r.prev, r.hash, ArrayOf(nisses), ArrayOf(details));
    }
  }

  pqxx::connection connection_;
  bool arrays_;
};

struct Delays {
  std::vector<int64_t> us;
  std::string Summary() {
    if (us.empty()) return "none";
    std::sort(us.begin(), us.end());
    auto at = [&](double q) {
      return static_cast<double>(us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))]) /
             1000.0;
    };
    return fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms ({} deliveries)", at(0.5),
                       at(0.99), static_cast<double>(us.back()) / 1000.0, us.size());
  }
};

// (d): subscribers long poll (wait=60) while mutations `first`.. are
// published, `per_batch` at a time; `paced`: the next batch only once every
// subscriber has the previous one (no queue: the wake-up alone).
Delays Delay(Hub& hub, const std::vector<std::string>& persons, size_t first, size_t count,
             size_t per_batch, bool paced) {
  std::vector<std::atomic<int64_t>> published(count);
  std::vector<std::atomic<int>> arrivals(count);
  std::vector<std::vector<int64_t>> delays(kSubscribers.size());
  std::vector<std::thread> readers;
  for (size_t s = 0; s < kSubscribers.size(); ++s) {
    readers.emplace_back([&, s] {
      std::string after = "0";
      size_t got = 0;
      while (got < count) {
        auto [reply, at] = hub.ReadFeed(kSubscribers[s], after, 60);
        if (reply.status != 200) Die("feed: " + reply.body.substr(0, 300));
        json::value body = json::parse(reply.body);
        for (const json::value& item : body.at("mutations").as_array()) {
          std::string_view id = item.at("id").as_string();
          const size_t i = std::stoul(std::string(id.substr(id.find('-') + 1))) - first;
          delays[s].push_back(at - published[i].load());
          arrivals[i].fetch_add(1);
          arrivals[i].notify_all();
          ++got;
        }
        after = std::string(body.at("next").as_string());
      }
      hub.ReadFeed(kSubscribers[s], after, 0);  // the last acknowledgement
    });
  }
  // Publish once every reader waits: the first delay is a wake-up too.
  while (hub.service->waiting() < kSubscribers.size()) std::this_thread::yield();
  for (size_t b = 0; b < count; b += per_batch) {
    std::string body = R"({"mutations": [)";
    for (size_t k = b; k < std::min(count, b + per_batch); ++k) {
      if (k > b) body += ",";
      body += Item(fmt::format("d{}-{}", first, first + k), persons[(first + k) % persons.size()],
                   first + k);
    }
    body += "]}";
    const int64_t now = MicrosNow();
    for (size_t k = b; k < std::min(count, b + per_batch); ++k) published[k] = now;
    Reply reply = hub.Publish(body);
    if (reply.status != 202) Die("publish: " + reply.body.substr(0, 300));
    if (paced) {
      for (size_t k = b; k < std::min(count, b + per_batch); ++k) {
        for (int seen = arrivals[k].load(); seen < static_cast<int>(kSubscribers.size());
             seen = arrivals[k].load()) {
          arrivals[k].wait(seen);
        }
      }
    }
  }
  for (std::thread& reader : readers) reader.join();
  Delays out;
  for (const auto& some : delays) out.us.insert(out.us.end(), some.begin(), some.end());
  return out;
}

std::vector<std::string> Bodies(const std::string& prefix, const std::vector<std::string>& persons,
                                size_t mutations) {
  std::vector<std::string> bodies;
  for (size_t first = 0; first < mutations; first += kBatch) {
    std::string body = R"({"mutations": [)";
    for (size_t i = first; i < first + kBatch; ++i) {
      if (i > first) body += ",";
      body += Item(fmt::format("{}-{}", prefix, i), persons[i % persons.size()], i);
    }
    bodies.push_back(body + "]}");
  }
  return bodies;
}

void Run(Engine engine, const Config& config) {
  const std::string name(carrefour::store::testing::EngineName(engine));
  carrefour::niss::Generator generator(42);
  std::vector<std::string> persons;
  for (size_t p = 0; p < config.persons; ++p) persons.push_back(generator.Next().digits);
  const std::vector<std::string> bodies = Bodies("m", persons, config.mutations);
  const std::vector<std::string> more = Bodies("p", persons, config.mutations);
  const size_t mutations = bodies.size() * kBatch;

  // The baselines, each in a fresh database of the store's own schema.
  struct Baseline {
    std::string label;
    std::unique_ptr<TestDatabase> database;
    std::unique_ptr<RawWriter> writer;
    double seconds = 0;
  };
  std::vector<Baseline> baselines;
  auto add = [&](std::string label, bool audit, bool arrays) {
    Baseline& baseline = baselines.emplace_back();
    baseline.label = std::move(label);
    baseline.database = Check(TestDatabase::Create(engine), name);
    { auto schema = Check(carrefour::store::OpenStore(baseline.database->url()), "raw schema"); }
    const std::string& url = baseline.database->url();
    if (engine == Engine::kSqlite) {
      baseline.writer = std::make_unique<RawSqlite>(url.substr(std::string_view("sqlite:").size()),
                                                    persons, audit);
    } else {
      baseline.writer = std::make_unique<RawPostgres>(url, persons, audit, arrays);
    }
  };
  add("raw INSERTs, mutation tables' rows only", false, false);
  add("raw INSERTs, the same rows + audit rows", true, false);
  if (engine == Engine::kPostgres) add("raw array INSERTs, the same rows + audit", true, true);

  auto ours_db = Check(TestDatabase::Create(engine), name);
  double intake_seconds = 0, two_sources_seconds, drain_seconds, audit_commits;
  Delays idle, load;
  {
    Hub hub(ours_db->url(), persons);
    // Rounds interleave the baselines and the intake: on a shared machine
    // the load changes from minute to minute, and it then weighs on all
    // of them alike.
    const size_t batches = bodies.size(), rounds = std::min(config.rounds, batches);
    const uint64_t commits_before = hub.audit->commits();
    for (size_t r = 0; r < rounds; ++r) {
      const size_t begin = batches * r / rounds, end = batches * (r + 1) / rounds;
      for (Baseline& baseline : baselines) {
        baseline.seconds += baseline.writer->Write(begin * kBatch, (end - begin) * kBatch);
      }
      intake_seconds += Intake(hub, bodies, begin, end);
    }
    audit_commits = static_cast<double>(hub.audit->commits() - commits_before) /
                    static_cast<double>(batches);
    drain_seconds = Drain(hub, mutations);
    two_sources_seconds = Intake(hub, more, 0, more.size(), 2);
    Drain(hub, mutations);
    idle = Delay(hub, persons, 2 * mutations, config.idle_mutations, 1, /*paced=*/true);
    load = Delay(hub, persons, 2 * mutations + config.idle_mutations, config.load_batches * kBatch,
                 kBatch, /*paced=*/false);
  }
  for (Baseline& baseline : baselines) baseline.writer.reset();  // before the databases go

  const double intake = static_cast<double>(mutations) / intake_seconds;
  fmt::print("{}: {} mutations in batches of {}, {} subscribers each, {} persons, {} rounds\n",
             name, mutations, kBatch, kSubscribers.size(), persons.size(),
             std::min(config.rounds, bodies.size()));
  fmt::print("  intake, one source (durable, audited)        {:>8.0f} mutations/s ({:.1f} s)\n",
             intake, intake_seconds);
  for (const Baseline& baseline : baselines) {
    const double raw = static_cast<double>(mutations) / baseline.seconds;
    fmt::print("  {:<44} {:>8.0f} mutations/s ({:.1f} s): intake = {:.0f} %\n", baseline.label,
               raw, baseline.seconds, 100.0 * intake / raw);
  }
  fmt::print("  audit log transactions per batch of intake   {:>8.1f}\n", audit_commits);
  fmt::print("  intake, two sources at once                  {:>8.0f} mutations/s ({:.1f} s)\n",
             static_cast<double>(mutations) / two_sources_seconds, two_sources_seconds);
  fmt::print("  delivered through feeds, 3 readers           {:>8.0f} deliveries/s ({:.1f} s)\n",
             static_cast<double>(3 * mutations) / drain_seconds, drain_seconds);
  fmt::print("  delay publish -> feed, one at a time         {}\n", idle.Summary());
  fmt::print("  delay publish -> feed, batches flat out      {}\n", load.Summary());
}

size_t ParseCount(std::string_view text) {
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') Die(fmt::format("not a count: '{}'", text));
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  if (const char* env = getenv(carrefour::store::testing::kPostgresEnv)) config.postgres = env;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) Die(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--mutations") {
      config.mutations = ParseCount(value());
    } else if (arg == "--persons") {
      config.persons = ParseCount(value());
    } else if (arg == "--load-batches") {
      config.load_batches = ParseCount(value());
    } else if (arg == "--rounds") {
      config.rounds = ParseCount(value());
    } else if (arg == "--idle-mutations") {
      config.idle_mutations = ParseCount(value());
    } else if (arg == "--postgres") {
      config.postgres = value();
    } else if (arg == "--no-postgres") {
      config.postgres.clear();
    } else if (arg == "--no-sqlite") {
      config.sqlite = false;
    } else {
      Die(fmt::format(
          "unknown argument '{}'\nusage: mutations_bench [--mutations N] [--persons N] "
          "[--load-batches N] [--idle-mutations N] [--rounds N] [--postgres URL] [--no-postgres] "
          "[--no-sqlite]",
          arg));
    }
  }
  if (config.mutations < kBatch || config.persons == 0 || config.idle_mutations == 0 ||
      config.load_batches == 0 || config.rounds == 0) {
    Die("--mutations must be at least 1000, the other counts at least 1");
  }
  if (config.sqlite) Run(Engine::kSqlite, config);
  if (config.postgres.empty()) {
    fmt::print("PostgreSQL: skipped ($CARREFOUR_TEST_POSTGRES or --postgres URL to run it)\n");
  } else {
    setenv(carrefour::store::testing::kPostgresEnv, config.postgres.c_str(), 1);
    Run(Engine::kPostgres, config);
  }
  return 0;
}
