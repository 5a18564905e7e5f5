// SPDX-License-Identifier: EUPL-1.2
// End to end: `carrefour connector` processes next to their own SQLite
// databases, a real `carrefour hub`, real mutual TLS (issue: the institution
// connector). The national register provides addresses from its database and
// publishes moves from its outbox table; two mutualities declare their files
// from a table and apply the moves they are entitled to into their own
// databases.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "metrics/text.h"
#include "net/client.h"
#include "pki/testing.h"
#include "tests/integration/address_network.h"
#include "tests/integration/helpers.h"
#include "tests/integration/hub_process.h"
#include "tests/integration/log_lines.h"
#include "tests/integration/process.h"
#include "tests/integration/sqlite_db.h"
#include "core/testing/temp_dir.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Eventually;
using testing::kAnna;
using testing::kApplyAddress;
using testing::kApplyCounting;
using testing::kBruno;
using testing::Process;
using testing::Replace;
using Db = testing::SqliteDb;

// The national register's addresses (two periods of Anna's).
constexpr const char* kNrAddresses = R"(
INSERT INTO person_address VALUES
  ('85073003328', 'Rue Haute 5', '1000', 'Bruxelles', '2015-02-01', '2024-04-30'),
  ('85073003328', 'Rue Neuve 1', '5000', 'Namur', '2024-05-01', NULL);
)";

class ConnectorE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New({"hub", "nr", "mut-100", "mut-200"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-connector-e2e");
    fs::create_directories(dir_);
    hub_.api = testing::FreePort();
    hub_.data = dir_ / "hub";
    hub_.log = dir_ / "hub.log";
    nr_port_ = testing::FreePort();
    std::ofstream(dir_ / "network.toml")
        << Replace(testing::kAddressNetwork, {{"nr_port", std::to_string(nr_port_)}});
    Db nr(dir_ / "nr.db");
    nr.Exec(testing::kNrSchema);
    nr.Exec(kNrAddresses);
    for (const char* id : {"mut-100", "mut-200"}) {
      Db(dir_ / fmt::format("{}.db", id)).Exec(testing::kMutualitySchema);
      std::ofstream(dir_ / fmt::format("{}.toml", id))
          << Replace(testing::kMutualityConnector, Values(id));
    }
    std::ofstream(dir_ / "nr.toml") << Replace(testing::kNrConnector, Values("nr"));
  }
  void TearDown() override {
    connectors_.clear();
    hub_.process.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::vector<std::pair<std::string, std::string>> Values(const std::string& id) const {
    return {{"id", id},
            {"dir", dir_.string()},
            {"pki", pki_->dir.string()},
            {"hub_port", std::to_string(hub_.api)},
            {"nr_port", std::to_string(nr_port_)},
            {"retry_max_ms", "500"},
            {"admin", "127.0.0.1:0"},
            {"feed_wait", "5"},
            {"feed_limit", "40"},
            {"batch", "10000"},
            {"apply", kApplyAddress}};
  }

  void StartHub() { testing::StartHubProcess(hub_, dir_ / "network.toml", pki_->dir, ""); }

  void StartConnector(const std::string& id) {
    testing::StartConnectorProcess(dir_, id, &connectors_[id], &admin_ports_[id]);
  }

  // The connector's /metrics, parsed.
  std::vector<metrics::ParsedSample> ConnectorMetrics(const std::string& id) {
    auto client = net::Client::Create({});
    auto answer = (*client)->GetSync(*net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", admin_ports_.at(id))),
                                     "/metrics");
    if (!answer || answer->status != 200) return {};
    Result<std::vector<metrics::ParsedSample>> samples = metrics::ParseText(answer->body);
    EXPECT_TRUE(samples) << samples.error().ToString();
    return samples ? std::move(*samples) : std::vector<metrics::ParsedSample>{};
  }

  void StartAll() {
    StartHub();
    for (const char* id : {"nr", "mut-100", "mut-200"}) StartConnector(id);
  }

  Db Open(const std::string& id) { return Db(dir_ / (id + ".db")); }

  // mut-100 declares a file on Anna (and Bruno) through its member table.
  void DeclareFiles(const std::string& id, const std::vector<std::string>& people) {
    Db db = Open(id);
    for (const std::string& niss : people) {
      db.Exec(fmt::format("INSERT INTO member (niss, from_date) VALUES ('{}', '2020-01-01')", niss));
    }
    ASSERT_TRUE(Eventually([&] { return db.Count("SELECT COUNT(*) FROM member WHERE status IS NULL") == 0; }));
    EXPECT_EQ(db.Count("SELECT COUNT(*) FROM member WHERE status = 'ok'"), static_cast<int64_t>(people.size()))
        << db.Text("SELECT error FROM member WHERE status <> 'ok'");
  }

  std::unique_ptr<net::Client> Client(const std::string& name) {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / (name + ".crt"), pki_->dir / (name + ".key"), pki_->dir / "ca.crt"},
         .timeout = std::chrono::milliseconds(30000)});
    if (!client) std::abort();
    return std::move(*client);
  }

  static inline pki::TestPki* pki_ = nullptr;
  fs::path dir_;
  uint16_t nr_port_ = 0;
  testing::HubProcess hub_;
  std::map<std::string, std::unique_ptr<Process>> connectors_;
  std::map<std::string, uint16_t> admin_ports_;
};

TEST_F(ConnectorE2E, ConsultationIsAnsweredFromTheSourcesDatabase) {
  StartAll();
  DeclareFiles("mut-100", {kAnna, kBruno});

  auto hub = *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", hub_.api), "hub");
  auto response = Client("mut-100")->PostSync(
      hub, "/v1/consultations",
      fmt::format(R"({{"data_type": "person.address", "niss": "{}", )"
                  R"("period": {{"from": "2024-01-01", "to": "2024-12-31"}}}})",
                  kAnna));
  ASSERT_TRUE(response) << response.error().ToString();
  ASSERT_EQ(response->status, 200) << response->body;
  json::value body = json::parse(response->body);
  EXPECT_EQ(body.at("status"), "ok") << body;
  const json::array& data = body.at("results").at(0).at("data").as_array();
  // Both addresses of 2024, from the national register's own table.
  ASSERT_EQ(data.size(), 2u) << body;
  EXPECT_EQ(data[0].at("street"), "Rue Haute 5");
  EXPECT_EQ(data[1].at("street"), "Rue Neuve 1");
  EXPECT_EQ(data[1].at("municipality"), "Namur");

  // Nothing in the register for Bruno: the connector says no-data.
  response = Client("mut-100")->PostSync(
      hub, "/v1/consultations",
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kBruno));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(json::parse(response->body).at("status"), "no-data-in-network") << response->body;

  // The national register's connector timed both provide calls.
  std::vector<metrics::ParsedSample> samples = ConnectorMetrics("nr");
  const metrics::Labels nr = {{"institution", "nr"}};
  EXPECT_EQ(metrics::Sum(samples, "carrefour_connector_provide_duration_seconds_count", nr), 2);
  EXPECT_EQ(metrics::Sum(samples, "carrefour_connector_provide_duration_seconds_bucket",
                         {{"institution", "nr"}, {"le", "+Inf"}}),
            2);
  EXPECT_GT(metrics::Sum(samples, "carrefour_connector_provide_duration_seconds_sum", nr), 0);
  // Its certificate, issued by the test PKI for a year or more, and the CA.
  EXPECT_GT(metrics::Sum(samples, "carrefour_certificate_expiry_seconds",
                         {{"institution", "nr"}, {"certificate", "connector"}}),
            300 * 86400);
  EXPECT_GT(metrics::Sum(samples, "carrefour_certificate_expiry_seconds",
                         {{"institution", "nr"}, {"certificate", "ca"}}),
            300 * 86400);
  EXPECT_EQ(metrics::Sum(samples, "carrefour_connector_provide_total", {{"institution", "nr"}, {"outcome", "answered"}}), 1);
  EXPECT_EQ(metrics::Sum(samples, "carrefour_connector_provide_total", {{"institution", "nr"}, {"outcome", "no-data"}}), 1);
}

// CSV mode reads RFC 4180 as `carrefour directory import` does (core/csv.h):
// quoted fields keep their commas and doubled quotes, a record is one line
// (a quote left open is an error of that line alone), and a last line still
// being written (no line break yet) is left for later.
TEST_F(ConnectorE2E, CsvDeclarationsReadQuotedFieldsAsTheImportDoes) {
  std::string config = Replace(testing::kMutualityConnector, Values("mut-200"));
  config = config.substr(0, config.find("[integrations]")) +
           fmt::format("[integrations]\ncsv = \"{}\"\npoll_ms = 50\n", (dir_ / "mut-200.csv").string());
  std::ofstream(dir_ / "mut-200.toml", std::ios::trunc) << config;
  std::ofstream(dir_ / "mut-200.csv")
      << "action,niss,capacity,from,to\n"
      << "add, \"85.07.30-033.28\" ,\"insured\",2020-01-01,\n"   // line 2: accepted
      << "add,17073003384,\"ins,ured\",2020-01-01,\n"            // line 3: one field, refused
      << "add,17073003384,\"in\"\"sured\",2020-01-01,\n"         // line 4: refused
      << "add,17073003384,\"two\nlines\",2020-01-01,\n"          // lines 5 and 6: refused
      << "add,17073003384,insured,2020-01-01,\n"                 // line 7: accepted
      << "add,85073003328,insured,2019-01-01,2019-12-31";        // line 8: not complete yet
  StartHub();
  StartConnector("mut-200");

  const fs::path results = dir_ / "mut-200.csv.results";
  auto read_results = [&] {
    std::ifstream in(results);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  ASSERT_TRUE(Eventually([&] { return read_results().find("\n7,") != std::string::npos; }))
      << read_results();
  const std::string text = read_results();
  EXPECT_NE(text.find("2,ok"), std::string::npos) << text;
  // The results file is CSV too: messages with commas or quotes are quoted.
  EXPECT_NE(text.find("3,rejected,\"capacity-not-allowed: "), std::string::npos) << text;
  EXPECT_NE(text.find("'ins,ured'"), std::string::npos) << text;
  EXPECT_NE(text.find("4,rejected,\"capacity-not-allowed: "), std::string::npos) << text;
  EXPECT_NE(text.find("'in\"\"sured'"), std::string::npos) << text;
  EXPECT_NE(text.find("5,rejected,invalid-request: a quoted field is not closed on its line"),
            std::string::npos) << text;
  EXPECT_NE(text.find("6,rejected,invalid-request: a quote inside unquoted field 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("7,ok"), std::string::npos) << text;
  EXPECT_EQ(text.find("8,"), std::string::npos) << "an unfinished last line was sent: " << text;

  auto hub = *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", hub_.api), "hub");
  auto entries = Client("mut-200")->GetSync(hub, fmt::format("/v1/directory/entries?niss={}", kAnna));
  ASSERT_TRUE(entries) << entries.error().ToString();
  EXPECT_EQ(json::parse(entries->body).at("entries").as_array().size(), 1u) << entries->body;
  entries = Client("mut-200")->GetSync(hub, fmt::format("/v1/directory/entries?niss={}", kBruno));
  ASSERT_TRUE(entries) << entries.error().ToString();
  const json::value answer = json::parse(entries->body);
  const json::array& bruno = answer.at("entries").as_array();
  ASSERT_EQ(bruno.size(), 1u) << entries->body;
  EXPECT_EQ(bruno[0].at("from"), "2020-01-01");

  // The last line gets its line break: it is sent then.
  std::ofstream(dir_ / "mut-200.csv", std::ios::app) << "\n";
  EXPECT_TRUE(Eventually([&] { return read_results().find("\n8,ok") != std::string::npos; }))
      << read_results();
}

TEST_F(ConnectorE2E, ConnectorRefusesCallersOtherThanTheHub) {
  StartHub();
  StartConnector("nr");
  auto endpoint = *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", nr_port_), "nr");
  const std::string call = fmt::format(
      R"({{"request_id": "r1", "data_type": "person.address", "niss": "{}", )"
      R"("period": {{"from": "2024-06-01", "to": "2024-06-01"}}, "fields": ["street"], )"
      R"("requester": "mut-100", "legal_basis": "ISC/24/001"}})",
      kAnna);
  auto refused = Client("mut-100")->PostSync(endpoint, "/v1/provide", call);
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_EQ(refused->status, 403) << refused->body;
  EXPECT_NE(refused->body.find("not-authorized"), std::string::npos) << refused->body;

  // The hub's own certificate is answered, with only the asked fields.
  auto answered = Client("hub")->PostSync(endpoint, "/v1/provide", call);
  ASSERT_TRUE(answered) << answered.error().ToString();
  ASSERT_EQ(answered->status, 200) << answered->body;
  EXPECT_EQ(json::parse(answered->body), json::parse(R"({"data": [{"street": "Rue Neuve 1"}]})"));

  // A malformed call is a clean error, and the connector keeps serving.
  auto malformed = Client("hub")->PostSync(endpoint, "/v1/provide", "{not json");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  answered = Client("hub")->PostSync(endpoint, "/v1/provide", call);
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
}

TEST_F(ConnectorE2E, OutboxChangeReachesOnlyEntitledInstitutions) {
  StartAll();
  DeclareFiles("mut-100", {kAnna});
  // mut-200 has a file on Bruno only: Anna's move is not for it.
  DeclareFiles("mut-200", {kBruno});

  Open("nr").Exec(fmt::format(
      "INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', '{}', "
      "'2024-09-01', '{{\"street\": \"Place Verte 3\", \"postal_code\": \"4000\", "
      "\"municipality\": \"Liege\", \"since\": \"2024-09-01\"}}')",
      kAnna));
  Db mut100 = Open("mut-100");
  ASSERT_TRUE(Eventually([&] {
    return mut100.Text(fmt::format("SELECT street FROM address WHERE niss = '{}'", kAnna)) ==
           "Place Verte 3";
  }));
  EXPECT_EQ(mut100.Text(fmt::format("SELECT municipality FROM address WHERE niss = '{}'", kAnna)),
            "Liege");
  Db nr = Open("nr");
  // nr's connector marks its row once the hub has answered, which may be
  // after the hub delivered the move to mut-100.
  EXPECT_TRUE(Eventually([&] { return nr.Text("SELECT status FROM outbox") == "accepted"; }))
      << nr.Text("SELECT status FROM outbox");
  EXPECT_EQ(nr.Text("SELECT subscribers FROM outbox"), "1");
  // A later move, of Bruno, is for mut-200. Feeds are delivered in order, so
  // once mut-200 has applied it, Anna's earlier move would have been applied
  // before it, had it (wrongly) been delivered to mut-200.
  nr.Exec(fmt::format(
      "INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', '{}', "
      "'2024-09-02', '{{\"street\": \"Rue Haute 9\", \"postal_code\": \"1000\", "
      "\"municipality\": \"Bruxelles\", \"since\": \"2024-09-02\"}}')",
      kBruno));
  Db mut200 = Open("mut-200");
  ASSERT_TRUE(Eventually([&] {
    return mut200.Text(fmt::format("SELECT street FROM address WHERE niss = '{}'", kBruno)) == "Rue Haute 9";
  })) << "mut-200 never received the move meant for it";
  EXPECT_EQ(mut200.Count("SELECT COUNT(*) FROM address"), 1);
  EXPECT_EQ(mut200.Count(fmt::format("SELECT COUNT(*) FROM address WHERE niss = '{}'", kAnna)), 0);

  // A row the hub rejects is marked so, with the reason, and not retried.
  nr.Exec("INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', "
          "'12345678901', '2024-09-01', '{\"street\": \"x\"}')");
  ASSERT_TRUE(Eventually([&] { return nr.Count("SELECT COUNT(*) FROM outbox WHERE status IS NULL") == 0; }));
  EXPECT_EQ(nr.Text("SELECT status FROM outbox WHERE niss = '12345678901'"), "rejected");
  EXPECT_NE(nr.Text("SELECT error FROM outbox WHERE niss = '12345678901'").find("invalid-niss"),
            std::string::npos);
}

// kill -9 of the publishing and the consuming connectors, again and again,
// while 3000 changes flow: every change is published once as an id and
// applied exactly once.
TEST_F(ConnectorE2E, KilledConnectorsApplyEachChangeExactlyOnce) {
  auto values = Values("mut-100");
  values.back().second = kApplyCounting;  // "apply"
  std::ofstream(dir_ / "mut-100.toml") << Replace(testing::kMutualityConnector, values);

  StartAll();
  std::vector<std::string> people;
  // 40 people with files at mut-100.
  for (int i = 0; i < 40; ++i) {
    int serial = 2 * i + 1;
    std::string base = fmt::format("800101{:03}", serial);
    int check = 97 - static_cast<int>(std::stoll(base) % 97);
    people.push_back(fmt::format("{}{:02}", base, check));
  }
  DeclareFiles("mut-100", people);

  // Changes keep arriving in the outbox while the connectors are killed, so
  // that each kill lands in the middle of publishing or applying.
  constexpr int kRounds = 10;
  constexpr int kPerRound = 300;
  constexpr int kChanges = kRounds * kPerRound;
  std::mt19937 random(7);
  Db nr = Open("nr");
  Db mut = Open("mut-100");
  int mid_flow_kills = 0;
  for (int round = 0; round < kRounds; ++round) {
    nr.Exec("BEGIN");
    for (int i = round * kPerRound; i < (round + 1) * kPerRound; ++i) {
      nr.Exec(fmt::format(
          "INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', '{}', "
          "'2024-09-01', '{{\"street\": \"Street {}\"}}')",
          people[static_cast<size_t>(i) % people.size()], i));
    }
    nr.Exec("COMMIT");
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 50));
    const char* victim = round % 2 == 0 ? "nr" : "mut-100";
    // Only a kill while changes are still flowing tests anything.
    if (nr.Count("SELECT COUNT(*) FROM outbox WHERE status IS NULL") > 0 ||
        mut.Count("SELECT COUNT(*) FROM applied") < (round + 1) * kPerRound) {
      ++mid_flow_kills;
    }
    connectors_[victim]->Signal(SIGKILL);
    connectors_[victim]->Wait();
    StartConnector(victim);
  }
  // How many land mid-flow depends on the machine; one is the least for the
  // test to mean something.
  EXPECT_GE(mid_flow_kills, 1) << "the changes flowed faster than the kills";
  ASSERT_TRUE(Eventually([&] {
    return nr.Count("SELECT COUNT(*) FROM outbox WHERE status IS NULL") == 0 &&
           mut.Count("SELECT COUNT(DISTINCT mutation_id) FROM applied") == kChanges;
  }, std::chrono::seconds(120)))
      << "published " << nr.Count("SELECT COUNT(*) FROM outbox WHERE status IS NOT NULL")
      << ", applied " << mut.Count("SELECT COUNT(DISTINCT mutation_id) FROM applied");
  EXPECT_EQ(nr.Count("SELECT COUNT(*) FROM outbox WHERE status NOT IN ('accepted', 'duplicate')"), 0)
      << nr.Text("SELECT error FROM outbox WHERE status NOT IN ('accepted', 'duplicate')");
  // Exactly once: as many applications as changes, each id once, all from nr.
  EXPECT_EQ(mut.Count("SELECT COUNT(*) FROM applied"), kChanges);
  EXPECT_EQ(mut.Count("SELECT COUNT(*) FROM applied WHERE source <> 'nr'"), 0);
  EXPECT_EQ(mut.Count("SELECT COUNT(*) FROM carrefour_unapplied"), 0);
}

TEST_F(ConnectorE2E, PublicationResumesWithoutLossAfterTheHubWasDown) {
  StartAll();
  DeclareFiles("mut-100", {kAnna});
  hub_.process->Signal(SIGTERM);
  ASSERT_EQ(hub_.process->Wait(), 0);

  Db nr = Open("nr");
  for (int i = 0; i < 20; ++i) {
    nr.Exec(fmt::format(
        "INSERT INTO outbox (data_type, niss, effective, data) VALUES ('person.address', '{}', "
        "'2024-10-01', '{{\"street\": \"Boulevard {}\"}}')",
        kAnna, i));
  }
  // The connector keeps trying while the hub is away; nothing is marked.
  // Positive barrier: its log says a publication failed (the outbox logs
  // the first failure of a streak; it had nothing to send before these rows).
  ASSERT_TRUE(connectors_["nr"]->WaitForLine([](const std::string& line) {
    return line.find("outbox: ") != std::string::npos && line.find("retrying with backoff") != std::string::npos;
  })) << "the outbox never tried to publish while the hub was down";
  EXPECT_EQ(nr.Count("SELECT COUNT(*) FROM outbox WHERE status IS NULL"), 20);

  StartHub();
  Db mut = Open("mut-100");
  ASSERT_TRUE(Eventually([&] {
    return nr.Count("SELECT COUNT(*) FROM outbox WHERE status = 'accepted'") == 20 &&
           mut.Text(fmt::format("SELECT street FROM address WHERE niss = '{}'", kAnna)) == "Boulevard 19";
  })) << "accepted " << nr.Count("SELECT COUNT(*) FROM outbox WHERE status = 'accepted'") << ", street "
      << mut.Text(fmt::format("SELECT street FROM address WHERE niss = '{}'", kAnna));
}

TEST_F(ConnectorE2E, CheckReportsStatementErrorsWithTheirLine) {
  std::ofstream(dir_ / "broken.toml") << Replace(R"(institution = "nr"
database = "sqlite:nr.db"

[tls]
cert = "{pki}/nr.crt"
key = "{pki}/nr.key"
ca = "{pki}/ca.crt"

[hub]
url = "https://127.0.0.1:1"

[provide]
listen = "127.0.0.1:0"

[[provide.data_type]]
id = "person.address"
query = "SELECT street FROM person_adress WHERE niss = :niss"
)",
                                              Values("nr"));
  auto [code, output] = testing::RunCommand(fmt::format(
      "{} connector --config {} --check 2>&1", testing::Env("CARREFOUR_BINARY"), (dir_ / "broken.toml").string()));
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("broken.toml:17: query for person.address"), std::string::npos) << output;
  EXPECT_NE(output.find("person_adress"), std::string::npos) << output;

  auto [ok_code, ok_output] = testing::RunCommand(fmt::format(
      "{} connector --config {} --check 2>&1", testing::Env("CARREFOUR_BINARY"), (dir_ / "nr.toml").string()));
  EXPECT_EQ(ok_code, 0) << ok_output;
}

// SIGHUP reloads instead of killing the connector (docs/connector.md): a
// broken configuration is refused and the running one stays; a changed one
// replaces it; with the file unchanged, the TLS files are reloaded in place,
// and a CRL that now lists the hub's certificate cuts the hub off.
TEST_F(ConnectorE2E, SighupReloadsConfigurationAndTlsFilesInsteadOfDying) {
  ASSERT_TRUE(pki::RenewCrl(pki_->dir).ok());
  std::string with_crl = Replace(testing::kNrConnector, Values("nr"));
  with_crl.replace(with_crl.find("[hub]"), 5,
                   fmt::format("crl = \"{}\"\n\n[hub]", pki::CrlPath(pki_->dir).string()));
  std::ofstream(dir_ / "nr.toml") << with_crl;
  StartAll();
  DeclareFiles("mut-100", {kAnna});
  auto hub = *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", hub_.api), "hub");
  auto consult = [&] {
    auto response = Client("mut-100")->PostSync(
        hub, "/v1/consultations",
        fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return std::string();
    return std::string(json::parse(response->body).at("results").at(0).at("status").as_string());
  };
  auto said = [&](const std::string& text, int times) {
    return testing::Logged(*connectors_["nr"], dir_ / "nr.log", text, times, std::chrono::seconds(60));
  };
  ASSERT_EQ(consult(), "ok");

  std::ofstream(dir_ / "nr.toml") << with_crl << "\nbogus = 1\n";
  connectors_["nr"]->Signal(SIGHUP);
  ASSERT_TRUE(said("reload refused", 1));
  EXPECT_EQ(consult(), "ok");

  std::ofstream(dir_ / "nr.toml") << with_crl << "\n# changed\n";
  connectors_["nr"]->Signal(SIGHUP);
  ASSERT_TRUE(said("configuration reloaded", 1));
  EXPECT_EQ(consult(), "ok");

  connectors_["nr"]->Signal(SIGHUP);
  ASSERT_TRUE(said("TLS files reloaded", 1));
  EXPECT_EQ(consult(), "ok");

  ASSERT_TRUE(pki::RevokeCertificates(pki_->dir, "hub").has_value());
  connectors_["nr"]->Signal(SIGHUP);
  ASSERT_TRUE(said("TLS files reloaded", 2));
  EXPECT_EQ(consult(), "error");
  // Only SIGTERM stops it.
  connectors_["nr"]->Signal(SIGTERM);
  EXPECT_EQ(connectors_["nr"]->Wait(), 0);
  // The shared PKI of this suite: the hub's certificate is good again.
  pki::IssueOptions reissue;
  reissue.name = "hub";
  reissue.hosts = {"127.0.0.1", "localhost"};
  reissue.force = true;
  ASSERT_TRUE(pki::IssueCertificate(pki_->dir, reissue).ok());
}

}  // namespace
}  // namespace carrefour
