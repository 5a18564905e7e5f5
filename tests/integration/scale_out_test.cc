// SPDX-License-Identifier: EUPL-1.2
// End to end, as an operator deploys it (docs/scale-out.md): three `carrefour
// hub` processes (node-1..3, each with its own data folder) on one
// PostgreSQL, behind HAProxy in TCP mode with health checks on each hub's
// /readyz; the institutions' connectors and a load generator go through
// HAProxy. Under a mixed load (directory integrations, consultations,
// mutations published from an outbox and applied from the subscribers'
// feeds, batch consultations) one hub is killed with kill -9 and restarted, and then PostgreSQL is
// restarted (pg_ctl restart -m fast) while that hub is only seconds old.
//
// Afterwards: every acknowledged directory change is in the directory
// exactly once; every consultation answered 200 has its audit record; every
// accepted mutation reached each entitled subscriber exactly once and nobody
// else; every node's audit log verifies; clients only ever saw retries
// (503, a dropped connection), never another error nor a lost
// acknowledgement; and every hub served again after PostgreSQL came back,
// without being restarted (how long it took is printed, not asserted).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "audit/audit_log.h"
#include "net/client.h"
#include "pki/testing.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"
#include "tests/integration/address_network.h"
#include "tests/integration/faults_support.h"
#include "tests/integration/sqlite_db.h"
#include "core/testing/temp_dir.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Cluster;
using testing::Eventually;
using testing::Process;
using SteadyClock = std::chrono::steady_clock;

// HAProxy as an operator would configure it in front of the hubs: TCP (the
// TLS session is the hub's: the caller's certificate is its identity), a
// health check on each hub's admin listener, a hub taken out at its first
// failed check and back at its first good one.
constexpr const char* kHaproxyConfig = R"cfg(global
  maxconn 4096

defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch

frontend api
  bind 127.0.0.1:{lb_port}
  default_backend hubs

backend hubs
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 300ms fall 1 rise 1 on-marked-down shutdown-sessions
{servers})cfg";

// Valid national numbers (docs/api.md section 1): born 1980-01-DD, serial 1-900.
std::string Person(int i) {
  std::string base = fmt::format("8001{:02}{:03}", 1 + i / 900, 1 + i % 900);
  return fmt::format("{}{:02}", base, 97 - static_cast<int>(std::stoll(base) % 97));
}

using Db = testing::SqliteDb;

// What the load generator saw.
struct Seen {
  std::mutex mu;
  std::vector<std::string> answered;  // request ids of the 200s
  int64_t unavailable = 0;            // 503: retried
  int64_t dropped = 0;                // no answer (connection reset, refused): retried
  int64_t batched = 0;                // of the 200s, items of batch consultations
  std::vector<std::string> unexpected;  // anything else: a failure
};

class ScaleOut : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New({"hub", "nr", "mut-100", "mut-200"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-scale-out");
    fs::create_directories(dir_);
    haproxy_binary_ = testing::RunCommand("command -v haproxy").second;
    while (!haproxy_binary_.empty() && haproxy_binary_.back() == '\n') haproxy_binary_.pop_back();
    if (haproxy_binary_.empty()) {
      if (!store::testing::InCi()) GTEST_SKIP() << "haproxy is not installed (scripts/setup.sh)";
      FAIL() << "haproxy is not installed (scripts/setup.sh installs it)";
    }
    cluster_ = std::make_unique<Cluster>(dir_ / "pg");
    if (cluster_->url().empty()) {
      if (!store::testing::InCi()) GTEST_SKIP() << "no PostgreSQL here: " << cluster_->error();
      FAIL() << "PostgreSQL could not be started: " << cluster_->error();
    }
    lb_port_ = testing::FreePort();
    nr_port_ = testing::FreePort();
    // The connectors reach the hubs through HAProxy; each mutuality records
    // every application of a move.
    std::vector<std::pair<std::string, std::string>> values = {
        {"dir", dir_.string()},
        {"pki", pki_->dir.string()},
        {"hub_port", std::to_string(lb_port_)},
        {"nr_port", std::to_string(nr_port_)},
        {"retry_max_ms", "300"},
        {"admin", ""},
        {"feed_wait", "2"},
        {"feed_limit", "200"},
        {"batch", "200"},
        {"apply", testing::kApplyCounting}};
    std::ofstream(dir_ / "network.toml") << testing::Replace(testing::kAddressNetwork, values);
    Db(dir_ / "nr.db").Exec(testing::kNrSchema);
    std::ofstream(dir_ / "nr.toml") << testing::Replace(testing::kNrConnector, values);
    for (const char* id : {"mut-100", "mut-200"}) {
      Db(dir_ / fmt::format("{}.db", id)).Exec(testing::kMutualitySchema);
      auto with_id = values;
      with_id.emplace_back("id", id);
      std::ofstream(dir_ / fmt::format("{}.toml", id))
          << testing::Replace(testing::kMutualityConnector, with_id);
    }
    std::string servers;
    for (int n = 1; n <= 3; ++n) {
      testing::HubProcess& hub = hubs_.emplace_back();
      hub.node = fmt::format("node-{}", n);
      hub.data = dir_ / hub.node;
      hub.api = testing::FreePort();
      hub.admin = testing::FreePort();
      hub.log = dir_ / (hub.node + ".log");
      servers += fmt::format("  server {} 127.0.0.1:{} check port {}\n", hub.node, hub.api, hub.admin);
    }
    std::ofstream(dir_ / "haproxy.cfg") << testing::Replace(kHaproxyConfig, {{"lb_port", std::to_string(lb_port_)},
                                                                            {"servers", servers}});
  }

  void TearDown() override {
    connectors_.clear();
    haproxy_.reset();
    hubs_.clear();
    cluster_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void StartHub(testing::HubProcess& hub) {
    testing::StartHubProcess(hub, dir_ / "network.toml", pki_->dir, cluster_->url(),
                             {"--threads", "2"});
  }

  void StartConnector(const std::string& id) {
    testing::StartConnectorProcess(dir_, id, &connectors_[id]);
  }

  std::unique_ptr<net::Client> Client(const std::string& name) {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / (name + ".crt"), pki_->dir / (name + ".key"), pki_->dir / "ca.crt"},
         .timeout = std::chrono::seconds(15)});
    if (!client) std::abort();
    return std::move(*client);
  }
  net::Endpoint At(uint16_t port) const {
    return *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", port), "hub");
  }

  // The body of an answer 200; otherwise nullopt, and what came instead
  // noted in `seen` (dropped, 503, or unexpected, prefixed with `what`).
  // Called with seen->mu held.
  static std::optional<json::value> AnsweredBody(const Result<net::ClientResponse>& response,
                                                 std::string_view what, Seen* seen) {
    if (!response) {
      ++seen->dropped;
      return std::nullopt;
    }
    if (response->status == 503) {
      ++seen->unavailable;
      return std::nullopt;
    }
    boost::system::error_code ec;
    json::value body = json::parse(response->body, ec);
    if (response->status != 200 || ec) {
      seen->unexpected.push_back(fmt::format("{}HTTP {}: {}", what, response->status, response->body));
      return std::nullopt;
    }
    return body;
  }

  // One consultation through `endpoint`; what it got is noted in `seen`.
  // True when it was answered 200.
  static bool Consult(net::Client& client, const net::Endpoint& endpoint, const std::string& niss,
                      Seen* seen) {
    Result<net::ClientResponse> response = client.PostSync(
        endpoint, "/v1/consultations",
        fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", niss));
    std::lock_guard lock(seen->mu);
    std::optional<json::value> body = AnsweredBody(response, "", seen);
    if (!body) return false;
    seen->answered.push_back(std::string(body->at("request_id").as_string()));
    return true;
  }

  // One batch consultation (docs/api.md 4.5) of `persons`; each item is noted
  // in `seen` as a single consultation would be. True when the batch was
  // answered 200.
  static bool ConsultBatch(net::Client& client, const net::Endpoint& endpoint,
                           const std::vector<std::string>& persons, Seen* seen) {
    std::string body = R"({"consultations": [)";
    for (size_t i = 0; i < persons.size(); ++i) {
      body += fmt::format(R"({}{{"data_type": "person.address", "niss": "{}"}})", i ? "," : "", persons[i]);
    }
    Result<net::ClientResponse> response = client.PostSync(endpoint, "/v1/consultations/batch", body + "]}");
    std::lock_guard lock(seen->mu);
    std::optional<json::value> answer = AnsweredBody(response, "batch: ", seen);
    if (!answer) return false;
    for (const json::value& item : answer->at("results").as_array()) {
      const int64_t status = item.at("http_status").to_number<int64_t>();
      if (status == 200) {
        seen->answered.push_back(std::string(item.at("request_id").as_string()));
        ++seen->batched;
      } else if (status == 503) {
        ++seen->unavailable;
      } else {
        seen->unexpected.push_back(fmt::format("batch item: {}", json::serialize(item)));
      }
    }
    return true;
  }

  // Declares `persons` at `institution` through its connector's table.
  void Declare(const std::string& institution, const std::vector<std::string>& persons) {
    Db db(dir_ / (institution + ".db"));
    std::string sql = "BEGIN;";
    for (const std::string& niss : persons) {
      sql += fmt::format("INSERT INTO member (niss, from_date) VALUES ('{}', '2020-01-01');", niss);
    }
    db.Exec(sql + "COMMIT;");
  }

  static inline pki::TestPki* pki_ = nullptr;
  fs::path dir_;
  std::string haproxy_binary_;
  std::unique_ptr<Cluster> cluster_;
  uint16_t lb_port_ = 0, nr_port_ = 0;
  std::vector<testing::HubProcess> hubs_;
  std::unique_ptr<Process> haproxy_;
  std::map<std::string, std::unique_ptr<Process>> connectors_;
};

TEST_F(ScaleOut, ThreeHubsBehindHaproxyLoseNothingAcknowledgedWhenAHubDiesAndPostgresRestarts) {
  const SteadyClock::time_point test_start = SteadyClock::now();
  for (testing::HubProcess& hub : hubs_) StartHub(hub);
  haproxy_ = Process::Start({haproxy_binary_, "-f", (dir_ / "haproxy.cfg").string(), "-db"},
                            (dir_ / "haproxy.log").string());
  for (const char* id : {"nr", "mut-100", "mut-200"}) StartConnector(id);

  // Persons whose entitlement to mutations is fixed before the load: files
  // at mut-100 only, at mut-200 only, at both.
  std::vector<std::string> only100, only200, both;
  for (int i = 0; i < 20; ++i) {
    only100.push_back(Person(i));
    only200.push_back(Person(100 + i));
    both.push_back(Person(200 + i));
  }
  std::vector<std::string> at100 = only100, at200 = only200;
  at100.insert(at100.end(), both.begin(), both.end());
  at200.insert(at200.end(), both.begin(), both.end());
  {
    Db nr(dir_ / "nr.db");
    std::string sql = "BEGIN;";
    for (const auto* group : {&only100, &only200, &both}) {
      for (const std::string& niss : *group) {
        sql += fmt::format("INSERT INTO person_address VALUES ('{}', 'Rue Haute 5', '1000', "
                           "'Bruxelles', '2015-02-01', NULL);", niss);
      }
    }
    nr.Exec(sql + "COMMIT;");
  }
  Declare("mut-100", at100);
  Declare("mut-200", at200);
  Db mut100(dir_ / "mut-100.db"), mut200(dir_ / "mut-200.db"), nr(dir_ / "nr.db");
  ASSERT_TRUE(Eventually([&] {
    return mut100.Count("SELECT count(*) FROM member WHERE status IS NULL") == 0 &&
           mut200.Count("SELECT count(*) FROM member WHERE status IS NULL") == 0;
  })) << "the files were not declared through HAProxy";

  // The load, until `stop`.
  std::atomic<bool> stop{false};
  Seen seen;
  std::vector<std::thread> load;
  std::atomic<int> next_person{1000};
  load.emplace_back([&] {  // integrations: new files at both mutualities
    Db a(dir_ / "mut-100.db"), b(dir_ / "mut-200.db");
    while (!stop) {
      std::string sql_a = "BEGIN;", sql_b = "BEGIN;";
      for (int i = 0; i < 5; ++i) {
        sql_a += fmt::format("INSERT INTO member (niss, from_date) VALUES ('{}', '2020-01-01');",
                             Person(next_person++));
        sql_b += fmt::format("INSERT INTO member (niss, from_date) VALUES ('{}', '2020-01-01');",
                             Person(next_person++));
      }
      a.Exec(sql_a + "COMMIT;");
      b.Exec(sql_b + "COMMIT;");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  load.emplace_back([&] {  // mutations: moves published by the national register
    Db db(dir_ / "nr.db");
    std::mt19937 random(19);
    int n = 0;
    while (!stop) {
      std::string sql = "BEGIN;";
      for (int i = 0; i < 5; ++i, ++n) {
        const auto& group = n % 3 == 0 ? only100 : n % 3 == 1 ? only200 : both;
        sql += fmt::format(
            "INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', '{}', "
            "'2024-09-01', '{{\"street\": \"Street {}\", \"postal_code\": \"4000\", "
            "\"municipality\": \"Liege\", \"since\": \"2024-09-01\"}}');",
            group[random() % group.size()], n);
      }
      db.Exec(sql + "COMMIT;");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  for (int t = 0; t < 3; ++t) {  // the load generator: consultations
    load.emplace_back([&, t] {
      const std::string as = t % 2 == 0 ? "mut-100" : "mut-200";
      const std::vector<std::string>& persons = t % 2 == 0 ? at100 : at200;
      auto client = Client(as);
      std::mt19937 random(static_cast<unsigned>(t));
      while (!stop) {
        if (!Consult(*client, At(lb_port_), persons[random() % persons.size()], &seen)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // then retry
        }
      }
    });
  }

  load.emplace_back([&] {  // the load generator: batch consultations of 10
    auto client = Client("mut-100");
    std::mt19937 random(3);
    while (!stop) {
      std::vector<std::string> persons;
      for (int i = 0; i < 10; ++i) persons.push_back(at100[random() % at100.size()]);
      if (!ConsultBatch(*client, At(lb_port_), persons, &seen)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // then retry
      }
    }
  });

  // Faults. kill -9 of node-2 in the middle of the load, and its restart.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  hubs_[1].process->Signal(SIGKILL);
  hubs_[1].process->Wait();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  StartHub(hubs_[1]);
  // PostgreSQL restarted while node-2 is seconds old (its pool is young).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  cluster_->Restart();
  const SteadyClock::time_point postgres_back = SteadyClock::now();

  // Each hub, asked directly, serves again without being restarted.
  std::vector<double> recovered_after(hubs_.size(), -1);
  {
    std::vector<std::thread> probes;
    for (size_t h = 0; h < hubs_.size(); ++h) {
      probes.emplace_back([&, h] {
        auto client = Client("mut-100");
        Seen direct;
        if (Eventually([&] { return Consult(*client, At(hubs_[h].api), only100[0], &direct); },
                       std::chrono::seconds(60))) {
          recovered_after[h] = std::chrono::duration<double>(SteadyClock::now() - postgres_back).count();
        }
        EXPECT_TRUE(direct.unexpected.empty()) << direct.unexpected.front();
        std::lock_guard lock(seen.mu);
        seen.answered.insert(seen.answered.end(), direct.answered.begin(), direct.answered.end());
      });
    }
    for (std::thread& probe : probes) probe.join();
  }
  for (size_t h = 0; h < hubs_.size(); ++h) {
    EXPECT_GE(recovered_after[h], 0) << hubs_[h].node << " never served again; see " << hubs_[h].log;
    EXPECT_TRUE(Eventually([&] { return testing::AdminCall(hubs_[h].admin, "/readyz").first == 200; }))
        << hubs_[h].node << ": /readyz did not come back";
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop = true;
  for (std::thread& thread : load) thread.join();

  // Everything written in the institutions' tables gets through.
  ASSERT_TRUE(Eventually([&] {
    return nr.Count("SELECT count(*) FROM outbox WHERE status IS NULL") == 0 &&
           mut100.Count("SELECT count(*) FROM member WHERE status IS NULL") == 0 &&
           mut200.Count("SELECT count(*) FROM member WHERE status IS NULL") == 0;
  }, std::chrono::seconds(60)))
      << "outbox rows left " << nr.Count("SELECT count(*) FROM outbox WHERE status IS NULL")
      << ", files left " << mut100.Count("SELECT count(*) FROM member WHERE status IS NULL") << " + "
      << mut200.Count("SELECT count(*) FROM member WHERE status IS NULL");

  // 1. Every acknowledged directory change is in the directory, once (the
  //    table's key is the entry's identity: counting per institution is
  //    counting each acknowledged file once).
  for (Db* db : {&mut100, &mut200}) {
    EXPECT_EQ(db->Count("SELECT count(*) FROM member WHERE status <> 'ok'"), 0)
        << db->Rows("SELECT error FROM member WHERE status <> 'ok' LIMIT 1")[0][0];
  }
  const int64_t files100 = mut100.Count("SELECT count(*) FROM member WHERE status = 'ok'");
  const int64_t files200 = mut200.Count("SELECT count(*) FROM member WHERE status = 'ok'");
  EXPECT_EQ(cluster_->Count("SELECT count(*) FROM directory_entry WHERE institution = 'mut-100'"), files100);
  EXPECT_EQ(cluster_->Count("SELECT count(*) FROM directory_entry WHERE institution = 'mut-200'"), files200);
  for (const char* id : {"mut-100", "mut-200"}) {
    Db db(dir_ / fmt::format("{}.db", id));
    std::set<std::string> declared;
    for (auto& row : db.Rows("SELECT niss FROM member WHERE status = 'ok'")) declared.insert(row[0]);
    std::istringstream stored(cluster_->Sql(fmt::format(
        "SELECT lpad(niss::text, 11, '0') FROM directory_entry WHERE institution = '{}'", id)));
    std::set<std::string> in_directory;
    for (std::string line; std::getline(stored, line);) in_directory.insert(line);
    EXPECT_EQ(declared, in_directory) << id;
  }

  // 2. Every 200 consultation has its audit record.
  std::set<std::string> audited;
  {
    std::istringstream ids(cluster_->Sql("SELECT request_id FROM audit_record WHERE kind = 1"));
    for (std::string line; std::getline(ids, line);) audited.insert(line);
  }
  int64_t unaudited = 0;
  for (const std::string& id : seen.answered) unaudited += audited.count(id) == 0;
  EXPECT_EQ(unaudited, 0) << "of " << seen.answered.size() << " answered consultations";

  // 3. Every accepted mutation reached each entitled subscriber exactly once,
  //    and nobody else.
  ASSERT_TRUE(Eventually([&] {
    return cluster_->Count("SELECT count(*) FROM mutation WHERE pending > 0") == 0;
  }, std::chrono::seconds(60))) << "the feeds were not read to the end";
  std::map<std::string, std::string> person_of;  // accepted mutation id -> person
  for (auto& row : nr.Rows("SELECT id, niss, status, error FROM outbox")) {
    EXPECT_TRUE(row[2] == "accepted" || row[2] == "duplicate") << "outbox " << row[0] << ": " << row[2] << " " << row[3];
    person_of[row[0]] = row[1];
  }
  std::set<std::string> set100(at100.begin(), at100.end()), set200(at200.begin(), at200.end());
  for (auto [db, entitled, id] : {std::tuple{&mut100, &set100, "mut-100"}, std::tuple{&mut200, &set200, "mut-200"}}) {
    std::map<std::string, int> applied;
    for (auto& row : db->Rows("SELECT mutation_id, source FROM applied")) {
      EXPECT_EQ(row[1], "nr");
      ++applied[row[0]];
    }
    int64_t missing = 0, twice = 0, foreign = 0;
    for (const auto& [mutation, niss] : person_of) {
      auto found = applied.find(mutation);
      const int times = found == applied.end() ? 0 : found->second;
      if (entitled->count(niss)) {
        missing += times == 0;
        twice += times > 1;
      } else {
        foreign += times > 0;
      }
    }
    int64_t unknown = 0;
    for (const auto& [mutation, times] : applied) unknown += person_of.count(mutation) == 0;
    EXPECT_EQ(missing, 0) << id << ": entitled mutations never delivered";
    EXPECT_EQ(twice, 0) << id << ": mutations delivered twice";
    EXPECT_EQ(foreign, 0) << id << ": mutations delivered to an institution not entitled";
    EXPECT_EQ(unknown, 0) << id << ": applied mutations that nobody accepted";
  }

  // 4. Every node's audit log verifies from the store alone: chains,
  //    Merkle trees, and each node's signed checkpoints with the key the
  //    node published (its private key is in its own data folder).
  {
    Result<std::unique_ptr<store::Store>> store = store::OpenStore(cluster_->url());
    ASSERT_TRUE(store) << store.error().ToString();
    Result<audit::VerifyReport> report = audit::Verify((*store)->audit());
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_TRUE(report->ok) << report->first_bad;
    EXPECT_EQ(report->verdict, audit::Verdict::kIntact);
    EXPECT_EQ(report->chains.size(), 3u);
    Result<std::vector<audit::NodeKey>> keys = (*store)->audit().AuditKeys();
    ASSERT_TRUE(keys);
    EXPECT_EQ(keys->size(), 3u);
    for (const audit::NodeKey& key : *keys) {
      EXPECT_TRUE(std::filesystem::exists(audit::SigningKeyFile(dir_ / key.node, key.node))) << key.node;
    }
  }

  // 5. The clients only saw retries: the load generator (above), and the
  //    connectors, whose every row ended accepted (checked above).
  EXPECT_TRUE(seen.unexpected.empty()) << seen.unexpected.size() << " unexpected answers, the first: "
                                       << seen.unexpected.front();
  EXPECT_GT(seen.answered.size(), 0u);
  EXPECT_GT(seen.batched, 0);

  // The figures of this run, for docs/scale-out.md.
  std::printf(
      "scale-out run: %.1f s; consultations answered %zu (%lld in batches), 503 %lld, dropped %lld; "
      "files declared %lld; "
      "mutations accepted %zu; served again after PostgreSQL's restart: node-1 %.2f s, node-2 %.2f s, "
      "node-3 %.2f s\n",
      std::chrono::duration<double>(SteadyClock::now() - test_start).count(), seen.answered.size(),
      static_cast<long long>(seen.batched), static_cast<long long>(seen.unavailable), static_cast<long long>(seen.dropped),
      static_cast<long long>(files100 + files200), person_of.size(), recovered_after[0],
      recovered_after[1], recovered_after[2]);
}

}  // namespace
}  // namespace carrefour
