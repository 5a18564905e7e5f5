// SPDX-License-Identifier: EUPL-1.2
// End to end: a real `carrefour hub` on a PostgreSQL of the test's own while
// that PostgreSQL is restarted, stopped and started again, and while its
// commits fail (issue: a dead pooled connection kept forever). The hub must
// discard its lost connections and serve again without being restarted,
// answer 503 unavailable (never 200) while nothing can be made durable, say
// so on /readyz and come back by itself, and log each outage once.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "net/client.h"
#include "net/server.h"
#include "pki/testing.h"
#include "store/testing/store_test_fixture.h"
#include "tests/integration/address_network.h"
#include "tests/integration/faults_support.h"
#include "core/testing/temp_dir.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Cluster;
using testing::Eventually;
using testing::kAnna;
using testing::kBruno;

class PostgresFault : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New({"hub", "nr", "mut-100"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-pg-fault");
    fs::create_directories(dir_);
    cluster_ = std::make_unique<Cluster>(dir_ / "pg");
    if (cluster_->url().empty()) {
      if (!store::testing::InCi()) GTEST_SKIP() << "no PostgreSQL here: " << cluster_->error();
      FAIL() << "PostgreSQL could not be started: " << cluster_->error();
    }
    net::ServerOptions options;
    options.tls = net::TlsFiles{pki_->dir / "nr.crt", pki_->dir / "nr.key", pki_->dir / "ca.crt"};
    provider_ = std::make_unique<net::Server>(options, [](net::Request&&, net::Responder respond) {
      respond(net::Response::Json(
          200, R"({"data": {"street": "Rue Haute 1", "postal_code": "1000", "municipality": "Bruxelles"}})"));
    });
    ASSERT_TRUE(provider_->Start().ok());
    std::ofstream(dir_ / "network.toml")
        << testing::Replace(testing::kAddressNetwork, {{"nr_port", std::to_string(provider_->port())}});
    hub_.node = "node-1";
    hub_.data = dir_ / "node-1";
    hub_.api = testing::FreePort();
    hub_.admin = testing::FreePort();
    hub_.log = dir_ / "node-1.log";
    testing::StartHubProcess(hub_, dir_ / "network.toml", pki_->dir, cluster_->url());
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / "mut-100.crt", pki_->dir / "mut-100.key", pki_->dir / "ca.crt"},
         .timeout = std::chrono::seconds(30)});
    ASSERT_TRUE(client);
    client_ = std::move(*client);
  }

  void TearDown() override {
    hub_.process.reset();
    provider_.reset();
    cluster_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  net::Endpoint Api() const {
    return *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", hub_.api), "hub");
  }

  // (status, body); status 0 when no answer came.
  std::pair<int, json::value> Post(const std::string& target, const std::string& body) {
    Result<net::ClientResponse> response = client_->PostSync(Api(), target, body);
    if (!response) return {0, json::value(response.error().ToString())};
    boost::system::error_code ec;
    json::value parsed = json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    return {response->status, parsed};
  }
  std::pair<int, json::value> Consult(const std::string& niss = kAnna) {
    return Post("/v1/consultations",
                fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", niss));
  }
  std::pair<int, json::value> Declare(const std::string& niss) {
    return Post("/v1/directory/entries",
                fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "insured", )"
                            R"("from": "2020-01-01"}}]}})",
                            niss));
  }
  int Ready() { return testing::AdminCall(hub_.admin, "/readyz").first; }
  double Retries() {
    return testing::Metric(testing::AdminCall(hub_.admin, "/metrics").second,
                           "carrefour_store_retries_total");
  }

  // `n` consultations at once: the hub's pool then holds several connections.
  std::vector<int> ConsultTogether(int n) {
    std::vector<int> statuses(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] { statuses[static_cast<size_t>(i)] = Consult().first; });
    }
    for (std::thread& thread : threads) thread.join();
    return statuses;
  }

  static inline pki::TestPki* pki_ = nullptr;
  fs::path dir_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<net::Server> provider_;
  testing::HubProcess hub_;
  std::unique_ptr<net::Client> client_;
};

TEST_F(PostgresFault, RestartWhileARecentlyStartedHubHoldsPooledConnections) {
  auto [declared, body] = Declare(kAnna);
  ASSERT_EQ(declared, 200) << body;
  for (int status : ConsultTogether(12)) ASSERT_EQ(status, 200);
  ASSERT_EQ(Ready(), 200);
  const double retries_before = Retries();

  // Every pooled connection dies with the restart. The next consultation
  // finds a lost connection, which is discarded with every other one opened
  // before it, and runs again on a fresh one: answered, not refused.
  cluster_->Restart();
  auto [status, answer] = Consult();
  EXPECT_EQ(status, 200) << answer;
  EXPECT_EQ(answer.at("status"), "ok") << answer;
  for (int s : ConsultTogether(12)) EXPECT_EQ(s, 200);
  auto [again, again_body] = Declare(kBruno);
  EXPECT_EQ(again, 200) << again_body;
  EXPECT_GT(Retries(), retries_before) << "the lost connections were not retried";
  EXPECT_TRUE(Eventually([&] { return Ready() == 200; }));
  // A lost pool is worth one warning with its cause, not one per request
  // (whichever of the hub's callers found it first: often its /readyz
  // check; src/store/postgres/pool_test.cc has the request that finds it).
  EXPECT_EQ(testing::CountLines(*hub_.process, "the pool's connections are reopened"), 1);
  for (const std::string& line : hub_.process->Lines()) {
    if (line.find("the pool's connections are reopened") != std::string::npos) {
      EXPECT_NE(line.find("postgresql: connection lost while "), std::string::npos) << line;
    }
  }
}

TEST_F(PostgresFault, RefusedConnectionsGive503AndReadyzFollowsTheDatabase) {
  ASSERT_EQ(Declare(kAnna).first, 200);
  ASSERT_EQ(Consult().first, 200);
  ASSERT_EQ(Ready(), 200);

  cluster_->Halt();
  ASSERT_TRUE(Eventually([&] { return Ready() == 503; }, std::chrono::seconds(30)))
      << "/readyz kept answering 200 without a database";
  auto [why_code, why] = testing::AdminCall(hub_.admin, "/readyz");
  EXPECT_NE(why.find("store"), std::string::npos) << why;
  // Nothing can be read or made durable: 503 unavailable, never 200.
  for (int i = 0; i < 10; ++i) {
    auto [status, body] = Consult();
    ASSERT_EQ(status, 503) << body;
    EXPECT_EQ(body.at("error").at("code"), "unavailable") << body;
  }
  auto [declared, declared_body] = Declare(kBruno);
  EXPECT_EQ(declared, 503) << declared_body;
  EXPECT_EQ(declared_body.at("error").at("code"), "unavailable") << declared_body;
  Result<net::ClientResponse> entries =
      client_->GetSync(Api(), fmt::format("/v1/directory/entries?niss={}", kAnna));
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->status, 503) << entries->body;
  // The outage is logged once, with its cause, however many requests fail.
  EXPECT_EQ(testing::CountLines(*hub_.process, "the store is unavailable"), 1);
  EXPECT_EQ(testing::CountLines(*hub_.process, "not ready (/readyz answers 503)"), 1);
  for (const std::string& line : hub_.process->Lines()) {
    if (line.find("the store is unavailable") != std::string::npos) {
      EXPECT_NE(line.find("postgresql"), std::string::npos) << line;
    }
  }

  // Back by itself, without a restart of the hub.
  cluster_->Resume();
  ASSERT_TRUE(Eventually([&] { return Ready() == 200; }, std::chrono::seconds(30)))
      << "/readyz did not come back";
  auto [status, answer] = Consult();
  EXPECT_EQ(status, 200) << answer;
  EXPECT_EQ(Declare(kBruno).first, 200);
  EXPECT_EQ(testing::CountLines(*hub_.process, "ready again"), 1);
  // The refusals were audited once the audit log could be written again, or
  // not at all; the chain is intact either way.
  auto [verified, report] = testing::AdminCall(hub_.admin, "/v1/admin/audit/verify");
  EXPECT_EQ(verified, 200) << report;
  EXPECT_EQ(json::parse(report).at("ok"), true) << report;
}

TEST_F(PostgresFault, FailedCommitsGive503AndAFailingAuditLogMakesTheHubNotReady) {
  ASSERT_EQ(Declare(kAnna).first, 200);
  // The directory's commits fail (a deferred trigger raises at COMMIT): the
  // change is not durable, so it must not be acknowledged.
  cluster_->Sql(R"(
CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
CREATE CONSTRAINT TRIGGER refuse_directory AFTER INSERT ON directory_entry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();
)");
  auto [status, body] = Declare(kBruno);
  EXPECT_EQ(status, 503) << body;
  EXPECT_EQ(body.at("error").at("code"), "unavailable") << body;
  EXPECT_EQ(cluster_->Count(fmt::format("SELECT count(*) FROM directory_entry WHERE niss = {}", kBruno)), 0);
  cluster_->Sql("DROP TRIGGER refuse_directory ON directory_entry");
  EXPECT_EQ(Declare(kBruno).first, 200);

  // The audit log's commits fail: nothing is answered without its record,
  // and /readyz says the hub cannot serve until the log can be written.
  cluster_->Sql(R"(
CREATE CONSTRAINT TRIGGER refuse_audit AFTER INSERT ON audit_record
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit();
)");
  auto [consulted, consulted_body] = Consult();
  EXPECT_EQ(consulted, 503) << consulted_body;
  EXPECT_EQ(Ready(), 503);
  auto [why_code, why] = testing::AdminCall(hub_.admin, "/readyz");
  EXPECT_NE(why.find("audit"), std::string::npos) << why;
  cluster_->Sql("DROP TRIGGER refuse_audit ON audit_record");
  ASSERT_TRUE(Eventually([&] { return Ready() == 200; }, std::chrono::seconds(30)))
      << "/readyz did not come back after the audit log could be written again";
  auto [answered, answer] = Consult();
  EXPECT_EQ(answered, 200) << answer;
  // Every 200 has its record, and the chain continues intact.
  std::string id(answer.at("request_id").as_string());
  EXPECT_EQ(cluster_->Count(fmt::format("SELECT count(*) FROM audit_record WHERE request_id = '{}'", id)), 1);
  auto [verified, report] = testing::AdminCall(hub_.admin, "/v1/admin/audit/verify");
  EXPECT_EQ(json::parse(report).at("ok"), true) << report;
}

}  // namespace
}  // namespace carrefour
