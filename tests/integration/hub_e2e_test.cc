// SPDX-License-Identifier: EUPL-1.2
// End to end: a real `carrefour hub` process, real provider servers, real
// mutual TLS on 127.0.0.1 with certificates made for the test.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "exchange/consultation.h"
#include "metrics/text.h"
#include "net/client.h"
#include "net/server.h"
#include "net/test_support.h"
#include "pki/testing.h"
#include "store/testing/store_test_fixture.h"
#include "tests/integration/process.h"
#include "core/testing/temp_dir.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Process;

// Numbers valid by docs/api.md section 1.
constexpr const char* kAnna = "85073003328";

// How each test provider behaves.
enum class Behaviour { kAnswer, kList, kSlow, kGarbage, kNoData };

class Provider {
 public:
  Provider(const fs::path& pki, const std::string& cert_name, Behaviour behaviour)
      : behaviour_(behaviour) {
    net::ServerOptions options;
    options.tls = net::TlsFiles{pki / (cert_name + ".crt"), pki / (cert_name + ".key"), pki / "ca.crt"};
    server_ = std::make_unique<net::Server>(options, [this](net::Request&& request, net::Responder respond) {
      {
        std::lock_guard lock(mu_);
        last_body_ = request.body;
        last_peer_ = request.peer;
        ++calls_;
      }
      switch (behaviour_) {
        case Behaviour::kAnswer:
          return respond(net::Response::Json(
              200, R"({"data": {"street": "Rue Haute 1", "postal_code": "1000", "municipality": "Bruxelles", "country": "BE", "secret": "must not leave the hub"}})"));
        case Behaviour::kList:
          return respond(net::Response::Json(
              200, R"({"data": [{"quarter": "2024Q1", "gross": 3100.5, "employer": "ACME", "extra": 1}, {"quarter": "2024Q2", "gross": 3200, "employer": "ACME"}]})"));
        case Behaviour::kNoData:
          return respond(net::Response::Json(404, R"({"error": {"code": "no-data"}})"));
        case Behaviour::kGarbage:
          return respond(net::Response::Text(200, "this is not json"));
        case Behaviour::kSlow:
          // Answers long after the hub's provider timeout (500 ms in these tests).
          std::thread([respond] {
            std::this_thread::sleep_for(std::chrono::seconds(3));
            respond(net::Response::Json(200, R"({"data": {}})"));
          }).detach();
          return;
      }
    });
    Status started = server_->Start();
    if (!started.ok()) std::abort();
  }
  uint16_t port() const { return server_->port(); }
  std::string last_body() {
    std::lock_guard lock(mu_);
    return last_body_;
  }
  std::string last_peer() {
    std::lock_guard lock(mu_);
    return last_peer_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  Behaviour behaviour_;
  std::unique_ptr<net::Server> server_;
  std::mutex mu_;
  std::string last_body_, last_peer_;
  int calls_ = 0;
};

class HubE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New(
        {"hub", "nr", "onss", "onss-slow", "onss-garbage", "onss-rogue", "onss-down", "mut-100",
         "mut-200", "outsider"});
    other_ = pki::TestPki::New({"mut-100"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
    pki::TestPki::Delete(other_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-hub-e2e");
    fs::create_directories(dir_);
    nr_ = std::make_unique<Provider>(pki_->dir, "nr", Behaviour::kAnswer);
    onss_ = std::make_unique<Provider>(pki_->dir, "onss", Behaviour::kList);
    slow_ = std::make_unique<Provider>(pki_->dir, "onss-slow", Behaviour::kSlow);
    garbage_ = std::make_unique<Provider>(pki_->dir, "onss-garbage", Behaviour::kGarbage);
    // Listens at onss-rogue's endpoint but presents onss's certificate.
    rogue_ = std::make_unique<Provider>(pki_->dir, "onss", Behaviour::kList);
    WriteNetwork();
    StartHub();
    client_ = Client("mut-100");
  }

  void TearDown() override {
    hub_.reset();
    fs::remove_all(dir_);
  }

  void WriteNetwork() {
    std::ofstream out(dir_ / "network.toml");
    out << fmt::format(R"(
[[institution_type]]
id = "national-register"
capacities = ["registered"]

[[institution_type]]
id = "collector"
capacities = ["employee"]

[[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution]]
id = "nr"
type = "national-register"
name = "National Register"
endpoint = "https://127.0.0.1:{}"

[[institution]]
id = "onss"
type = "collector"
name = "Contribution collector"
endpoint = "https://127.0.0.1:{}"

[[institution]]
id = "onss-slow"
type = "collector"
name = "A slow collector"
endpoint = "https://127.0.0.1:{}"

[[institution]]
id = "onss-garbage"
type = "collector"
name = "A broken collector"
endpoint = "https://127.0.0.1:{}"

[[institution]]
id = "onss-rogue"
type = "collector"
name = "A collector whose endpoint presents another's certificate"
endpoint = "https://127.0.0.1:{}"

[[institution]]
id = "onss-down"
type = "collector"
name = "A collector that is down"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Health insurer 100"

[[institution]]
id = "mut-200"
type = "mutuality"
name = "Health insurer 200"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country"]

[[data_type]]
id = "employment.wages"
fields = ["quarter", "gross", "employer"]

[[data_type]]
id = "nobody.holds"
fields = ["x"]

[[data_type]]
id = "not.granted"
fields = ["y"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[availability]]
data_type = "employment.wages"
provider_type = "collector"
capacity = "employee"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code", "municipality"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[authorization]]
data_type = "employment.wages"
requester_type = "mutuality"
capacity = "insured"
fields = ["quarter", "gross"]
legal_basis = "ISC/24/002"
from = 2020-01-01

[[authorization]]
data_type = "nobody.holds"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/003"
from = 2020-01-01
)",
                       nr_->port(), onss_->port(), slow_->port(), garbage_->port(), rogue_->port());
  }

  void StartHub(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testing::Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(),
         "--data", (dir_ / "data").string(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
         "--cert", (pki_->dir / "hub.crt").string(), "--key", (pki_->dir / "hub.key").string(),
         "--ca", (pki_->dir / "ca.crt").string()};
    if (std::find(extra.begin(), extra.end(), "--provider-timeout-ms") == extra.end()) {
      argv.insert(argv.end(), {"--provider-timeout-ms", "500"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    hub_ = Process::Start(argv, (dir_ / "hub.log").string());
    std::optional<std::string> line = hub_->WaitForLine(
        [](const std::string& l) { return l.find("API on") != std::string::npos; });
    ASSERT_TRUE(line) << "the hub did not start; its log:\n" << Log();
    std::smatch match;
    ASSERT_TRUE(std::regex_search(*line, match, std::regex(R"(port (\d+)\), admin on .* \(port (\d+)\))")))
        << *line;
    api_port_ = static_cast<uint16_t>(std::stoi(match[1]));
    admin_port_ = static_cast<uint16_t>(std::stoi(match[2]));
  }

  std::string Log() {
    std::ifstream in(dir_ / "hub.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static std::unique_ptr<net::Client> Client(const std::string& name, const pki::TestPki* pki = nullptr) {
    const fs::path& base = (pki ? pki : pki_)->dir;
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{base / (name + ".crt"), base / (name + ".key"), base / "ca.crt"},
         .timeout = std::chrono::milliseconds(10000)});
    if (!client) std::abort();
    return std::move(*client);
  }

  net::Endpoint Api() const { return *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", api_port_), "hub"); }
  net::Endpoint Admin() const { return *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", admin_port_)); }

  // POST to the hub's API as `client`; status and parsed body.
  std::pair<int, json::value> Post(net::Client& client, const std::string& target, const std::string& body) {
    Result<net::ClientResponse> response = client.PostSync(Api(), target, body);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    boost::system::error_code ec;
    json::value parsed = json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    return {response->status, parsed};
  }

  std::pair<int, json::value> AdminGet(const std::string& target, std::string method = "GET",
                                       std::string token = "") {
    auto client = net::Client::Create({});
    net::ClientRequest request;
    request.method = std::move(method);
    request.target = target;
    if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    Result<net::ClientResponse> response = (*client)->SendSync(Admin(), request);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    boost::system::error_code ec;
    json::value parsed = json::parse(response->body, ec);
    return {response->status, ec ? json::value(response->body) : parsed};
  }

  void Integrate(const std::string& institution, const std::string& niss, const std::string& capacity,
                 const std::string& from = "2020-01-01") {
    auto client = Client(institution);
    auto [status, body] = Post(*client, "/v1/directory/entries",
                               fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "{}", "from": "{}", "to": null}}]}})",
                                           niss, capacity, from));
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body.at("results").at(0).at("status"), "ok") << body;
  }

  std::pair<int, json::value> Consult(const std::string& data_type, const std::string& niss,
                                      const std::string& extra = "") {
    return Post(*client_, "/v1/consultations",
                fmt::format(R"({{"data_type": "{}", "niss": "{}"{}}})", data_type, niss, extra));
  }

  void BatchScenario(const std::string& store_url);

  static std::string ErrorCode(const json::value& body) {
    return std::string(body.at("error").at("code").as_string());
  }

  static inline pki::TestPki* pki_ = nullptr;
  static inline pki::TestPki* other_ = nullptr;
  fs::path dir_;
  std::unique_ptr<Provider> nr_, onss_, slow_, garbage_, rogue_;
  std::unique_ptr<Process> hub_;
  uint16_t api_port_ = 0, admin_port_ = 0;
  std::unique_ptr<net::Client> client_;
};

TEST_F(HubE2E, IntegrationThenConsultationReturnsOnlyAuthorizedFields) {
  Integrate("mut-100", "85.07.30-033.28", "insured");
  auto [status, body] = Consult("person.address", kAnna);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_EQ(body.at("niss"), kAnna);
  EXPECT_EQ(body.at("legal_basis"), "ISC/24/001");
  EXPECT_EQ(body.at("data_type"), "person.address");
  EXPECT_TRUE(body.at("request_id").is_string());
  const json::array& results = body.at("results").as_array();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].at("provider"), "nr");
  EXPECT_EQ(results[0].at("status"), "ok");
  json::object expected{{"street", "Rue Haute 1"}, {"postal_code", "1000"}, {"municipality", "Bruxelles"}};
  EXPECT_EQ(results[0].at("data"), expected);  // country (not authorized) and secret stripped

  // The provider was asked by the hub, for the authorized fields, with the legal basis.
  EXPECT_EQ(nr_->last_peer(), "hub");
  json::value provide = json::parse(nr_->last_body());
  EXPECT_EQ(provide.at("requester"), "mut-100");
  EXPECT_EQ(provide.at("legal_basis"), "ISC/24/001");
  EXPECT_EQ(provide.at("niss"), kAnna);
  EXPECT_EQ(provide.at("fields"), (json::array{"street", "postal_code", "municipality"}));

  // The caller sees its own entries.
  auto entries = client_->GetSync(Api(), std::string("/v1/directory/entries?niss=") + kAnna);
  ASSERT_TRUE(entries);
  EXPECT_EQ(json::parse(entries->body).at("entries").as_array().size(), 1u);
}

TEST_F(HubE2E, EachRefusalHasItsCode) {
  Integrate("mut-100", kAnna, "insured", "2023-01-01");
  struct Row {
    std::string body;
    int status;
    std::string code;
  };
  const std::vector<Row> rows = {
      {R"({"data_type": "person.address", "niss": "12345678901"})", 400, "invalid-niss"},
      {R"({"data_type": "person.address", "niss": "82010100149"})", 403, "not-integrated"},
      {fmt::format(R"({{"data_type": "not.granted", "niss": "{}"}})", kAnna), 403, "not-authorized"},
      {fmt::format(R"({{"data_type": "no.such.type", "niss": "{}"}})", kAnna), 404, "unknown-data-type"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "period": {{"from": "2024-02-01", "to": "2024-01-01"}}}})", kAnna), 400, "invalid-period"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "period": {{"from": "2021-01-01", "to": "2021-12-31"}}}})", kAnna), 403, "not-integrated"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "capacity": "dependent"}})", kAnna), 403, "not-integrated"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "fields": ["salary"]}})", kAnna), 400, "invalid-request"},
      {fmt::format(R"({{"data_type": "person.address", "niss": {}}})", 85073003328LL), 400, "invalid-request"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "colour": "red"}})", kAnna), 400, "invalid-request"},
      {R"({"data_type": "person.address", "niss": )", 400, "invalid-json"},
      {R"([1, 2, 3])", 400, "invalid-request"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.body);
    auto [status, body] = Post(*client_, "/v1/consultations", row.body);
    EXPECT_EQ(status, row.status) << body;
    EXPECT_EQ(ErrorCode(body), row.code) << body;
    EXPECT_FALSE(body.at("error").at("message").as_string().empty());
  }
  // Refusals are audited and visible in the person's transparency view.
  auto [status, view] = AdminGet(std::string("/v1/admin/transparency?niss=") + kAnna);
  ASSERT_EQ(status, 200) << view;
  std::set<std::string> codes;
  for (const json::value& item : view.at("consultations").as_array()) {
    if (item.at("outcome") == "refused") codes.insert(std::string(item.at("code").as_string()));
  }
  EXPECT_TRUE(codes.count("not-authorized"));
  EXPECT_TRUE(codes.count("not-integrated"));
}

TEST_F(HubE2E, ProviderFailuresGivePartialOrUnavailableAndNeverHurtOthers) {
  const std::string both = "82010100149";  // onss (ok) and onss-down
  Integrate("mut-100", both, "insured");
  Integrate("onss", both, "employee");
  Integrate("onss-down", both, "employee");
  auto [status, body] = Consult("employment.wages", both);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body.at("status"), "partial");
  std::map<std::string, json::value> by_provider;
  for (const json::value& result : body.at("results").as_array()) {
    by_provider[std::string(result.at("provider").as_string())] = result;
  }
  EXPECT_EQ(by_provider.at("onss").at("status"), "ok");
  EXPECT_EQ(by_provider.at("onss").at("data"),
            (json::array{json::object{{"quarter", "2024Q1"}, {"gross", 3100.5}},
                         json::object{{"quarter", "2024Q2"}, {"gross", 3200}}}));
  EXPECT_EQ(by_provider.at("onss-down").at("status"), "error");
  EXPECT_EQ(by_provider.at("onss-down").at("error").at("code"), "unavailable");

  struct Row {
    std::string provider;
    std::string niss;
    std::string code;
    std::string message_part;
  };
  const std::vector<Row> rows = {
      {"onss-slow", "82010100248", "timeout", "onss-slow did not answer in time"},
      {"onss-garbage", "82010100347", "unavailable", "not JSON"},
      {"onss-rogue", "82010100446", "unavailable", "could not prove its identity"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.provider);
    Integrate("mut-100", row.niss, "insured");
    Integrate(row.provider, row.niss, "employee");
    auto [code, answer] = Consult("employment.wages", row.niss);
    EXPECT_EQ(code, 503) << answer;
    EXPECT_EQ(answer.at("status"), "unavailable");
    EXPECT_EQ(answer.at("error").at("code"), "unavailable");
    const json::value& result = answer.at("results").at(0);
    EXPECT_EQ(result.at("provider").as_string(), row.provider);
    EXPECT_EQ(result.at("error").at("code").as_string(), row.code) << result;
    const std::string message(result.at("error").at("message").as_string());
    EXPECT_NE(message.find(row.message_part), std::string::npos) << result;
    // The network's internals stay in the hub's log.
    for (const char* internal : {"127.0.0.1", "CN=", "certificate", "ssl", "SSL"}) {
      EXPECT_EQ(message.find(internal), std::string::npos) << internal << ": " << result;
    }
  }
  EXPECT_EQ(rogue_->calls(), 0);  // never trusted with the request body
  EXPECT_EQ(std::string(by_provider.at("onss-down").at("error").at("message").as_string()).find("127.0.0.1"),
            std::string::npos)
      << by_provider.at("onss-down");

  // Meanwhile, the healthy path still works.
  Integrate("mut-100", kAnna, "insured");
  EXPECT_EQ(Consult("person.address", kAnna).second.at("status"), "ok");

  // /metrics, read with a parser of the exposition format, counts each
  // provider's calls by outcome, and requests by method and route.
  auto [metrics_status, metrics_text] = AdminGet("/metrics");
  ASSERT_EQ(metrics_status, 200);
  Result<std::vector<metrics::ParsedSample>> samples = metrics::ParseText(metrics_text.as_string());
  ASSERT_TRUE(samples) << samples.error().ToString();
  auto calls = [&](const char* provider, const char* outcome) {
    return metrics::Sum(*samples, "carrefour_provider_calls_total", {{"provider", provider}, {"outcome", outcome}});
  };
  EXPECT_EQ(calls("onss", "ok"), 1);
  EXPECT_EQ(calls("onss", "error"), 0);
  EXPECT_EQ(calls("onss-down", "error"), 1);
  EXPECT_EQ(calls("onss-slow", "error"), 1);
  EXPECT_EQ(calls("onss-garbage", "error"), 1);
  EXPECT_EQ(calls("onss-rogue", "error"), 1);
  EXPECT_EQ(calls("nr", "ok"), 1);
  const metrics::Labels consultations = {{"method", "POST"}, {"route", "/v1/consultations"}};
  metrics::Labels answered = consultations;
  answered.emplace_back("status", "200");
  metrics::Labels unavailable = consultations;
  unavailable.emplace_back("status", "503");
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_requests_total", answered), 2);
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_requests_total", unavailable), 3);
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_request_duration_seconds_count", consultations), 5);
  metrics::Labels all_buckets = consultations;
  all_buckets.emplace_back("le", "+Inf");
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_request_duration_seconds_bucket", all_buckets), 5);
  // Every group commit of the audit log has its duration (each answer above
  // waited for one).
  const double commits = metrics::Sum(*samples, "carrefour_audit_commits_total", {});
  EXPECT_GE(commits, 1);
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_audit_commit_duration_seconds_count", {}), commits);
  EXPECT_EQ(metrics::Sum(*samples, "carrefour_audit_commit_duration_seconds_bucket", {{"le", "+Inf"}}), commits);
  EXPECT_GT(metrics::Sum(*samples, "carrefour_audit_commit_duration_seconds_sum", {}), 0);
}

TEST_F(HubE2E, NoProviderOrAllNoDataMeansNoDataInNetwork) {
  Integrate("mut-100", kAnna, "insured");
  auto [status, body] = Consult("nobody.holds", kAnna);
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body.at("status"), "no-data-in-network");
  EXPECT_TRUE(body.at("results").as_array().empty());
}

// docs/api.md section 4.5: each item of a batch answered as if it had come alone
// (same status, same fields as the single consultation), each audited, the
// limit enforced whole. Run on the engine of `store_url` ("" = SQLite in the
// data folder).
void HubE2E::BatchScenario(const std::string& store_url) {
  if (!store_url.empty()) {
    hub_.reset();
    StartHub({"--store", store_url});
  }
  const std::string both = "82010100149";  // onss (ok) and onss-down: partial
  Integrate("mut-100", kAnna, "insured");
  Integrate("mut-100", both, "insured");
  Integrate("onss", both, "employee");
  Integrate("onss-down", both, "employee");
  const std::vector<std::string> items = {
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna),
      fmt::format(R"({{"data_type": "employment.wages", "niss": "{}"}})", both),
      R"({"data_type": "person.address", "niss": "82010100248"})",  // not-integrated
      R"({"data_type": "person.address", "niss": "12345678901"})",  // invalid-niss
      fmt::format(R"({{"data_type": "no.such.type", "niss": "{}"}})", kAnna),
      fmt::format(R"({{"data_type": "nobody.holds", "niss": "{}"}})", kAnna),
      fmt::format(R"({{"data_type": "person.address", "niss": "{}", "fields": ["street"]}})", kAnna),
      fmt::format(R"({{"data_type": "person.address", "niss": "{}", "colour": "red"}})", kAnna),
      "42",
  };
  auto consultations = [&](const std::string& query) {
    auto [status, audit] = AdminGet("/v1/admin/audit?kind=consultation&limit=10000&requester=mut-100" + query);
    EXPECT_EQ(status, 200) << audit;
    return audit.at("records").as_array();
  };
  const size_t before = consultations("").size();
  std::string batch = R"({"consultations": [)";
  for (size_t i = 0; i < items.size(); ++i) batch += (i ? ", " : "") + items[i];
  batch += "]}";
  auto [status, body] = Post(*client_, "/v1/consultations/batch", batch);
  ASSERT_EQ(status, 200) << body;
  const json::array& results = body.at("results").as_array();
  ASSERT_EQ(results.size(), items.size()) << body;
  // Every item's record was durable before the answer left.
  const json::array records = consultations("");
  EXPECT_EQ(records.size(), before + items.size());
  std::set<std::string> audited;
  for (const json::value& record : records) audited.insert(std::string(record.at("request_id").as_string()));

  std::set<int> statuses;
  for (size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE(items[i]);
    json::object item = results[i].as_object();
    EXPECT_EQ(item.at("index"), i);
    auto [alone_status, alone] = Post(*client_, "/v1/consultations", items[i]);
    EXPECT_EQ(item.at("http_status"), alone_status) << item;
    statuses.insert(alone_status);
    item.erase("index");
    item.erase("http_status");
    json::object expected = alone.as_object();
    if (expected.contains("request_id")) {
      ASSERT_TRUE(item.contains("request_id")) << item;
      EXPECT_TRUE(audited.count(std::string(item.at("request_id").as_string()))) << item;
      EXPECT_NE(item.at("request_id"), expected.at("request_id"));  // one record each
      item.erase("request_id");
      expected.erase("request_id");
    }
    EXPECT_EQ(item, expected);
  }
  EXPECT_EQ(statuses, (std::set<int>{200, 400, 403, 404}));  // the mix is really mixed
  EXPECT_EQ(results[1].at("status"), "partial");

  // The limit: 1000 items pass, each answered and audited; 1001 are refused
  // whole. (A data type nobody provides: a thousand provider calls would
  // test the provider timeout of a loaded machine, not the batch.)
  std::string full = R"({"consultations": [)";
  const std::string one = items[5];
  for (size_t i = 0; i < exchange::kMaxConsultationsPerBatch; ++i) full += (i ? "," : "") + one;
  auto [full_status, full_body] = Post(*client_, "/v1/consultations/batch", full + "]}");
  ASSERT_EQ(full_status, 200);
  std::set<std::string> ids;
  for (const json::value& item : full_body.at("results").as_array()) {
    EXPECT_EQ(item.at("http_status"), 200) << item;
    EXPECT_EQ(item.at("status"), "no-data-in-network") << item;
    ids.insert(std::string(item.at("request_id").as_string()));
  }
  EXPECT_EQ(ids.size(), exchange::kMaxConsultationsPerBatch);
  const size_t after_full = consultations("").size();
  EXPECT_EQ(after_full, before + 2 * items.size() + exchange::kMaxConsultationsPerBatch);
  auto [over_status, over] = Post(*client_, "/v1/consultations/batch", full + "," + one + "]}");
  EXPECT_EQ(over_status, 400) << over;
  EXPECT_EQ(ErrorCode(over), "invalid-request");
  EXPECT_NE(std::string(over.at("error").at("message").as_string()).find("1000"), std::string::npos) << over;
  for (const char* wrong : {R"({"consultations": 3})", R"({"items": []})", "[]", "{"}) {
    SCOPED_TRACE(wrong);
    auto [code, refusal] = Post(*client_, "/v1/consultations/batch", wrong);
    EXPECT_EQ(code, 400) << refusal;
  }
  // An empty batch is an empty answer.
  auto [empty_status, empty] = Post(*client_, "/v1/consultations/batch", R"({"consultations": []})");
  EXPECT_EQ(empty_status, 200);
  EXPECT_EQ(empty, (json::object{{"results", json::array{}}}));
  hub_.reset();  // before the database goes
}

TEST_F(HubE2E, BatchConsultationsAreEachAnsweredAsIfAloneOnSqlite) { BatchScenario(""); }

TEST_F(HubE2E, BatchConsultationsAreEachAnsweredAsIfAloneOnPostgresql) {
  std::unique_ptr<store::testing::TestDatabase> database;
  store::testing::PostgresDatabaseOrSkip(&database);
  if (database == nullptr) return;
  BatchScenario(database->url());
}

TEST_F(HubE2E, CallersWithoutAValidNetworkCertificateAreRefused) {
  // No certificate at all (a raw TLS client that offers none): the
  // handshake fails and nothing is answered. The same raw client with a
  // network certificate is answered: the refusal is the certificate's.
  {
    const std::string request =
        "POST /v1/consultations HTTP/1.1\r\nHost: hub\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    const std::string before = AdminGet("/metrics").second.as_string().c_str();
    net::testing::RawTlsClient anonymous(pki_->dir / "ca.crt", std::nullopt);
    std::optional<std::string> refused = anonymous.Exchange(api_port_, request);
    EXPECT_FALSE(refused.has_value() && !refused->empty()) << *refused;
    net::testing::RawTlsClient member(pki_->dir / "ca.crt",
                                      net::TlsFiles{pki_->dir / "mut-100.crt", pki_->dir / "mut-100.key", pki_->dir / "ca.crt"});
    std::optional<std::string> answered = member.Exchange(api_port_, request);
    ASSERT_TRUE(answered.has_value());
    EXPECT_TRUE(answered->starts_with("HTTP/1.1 400")) << *answered;
    const std::string after = AdminGet("/metrics").second.as_string().c_str();
    auto failures = [](const std::string& metrics) {
      size_t at = metrics.find("\ncarrefour_handshake_failures_total ");
      const size_t name = std::string_view("\ncarrefour_handshake_failures_total ").size();
      return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + name));
    };
    EXPECT_GE(failures(before), 0) << before;
    EXPECT_EQ(failures(after), failures(before) + 1) << after;
  }
  // A certificate from another CA: the handshake fails.
  {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{other_->dir / "mut-100.crt", other_->dir / "mut-100.key", pki_->dir / "ca.crt"}});
    ASSERT_TRUE(client);
    auto response = (*client)->PostSync(Api(), "/v1/consultations", "{}");
    EXPECT_FALSE(response) << response->body;
  }
  // A valid certificate whose CN is not in the definition.
  {
    auto client = Client("outsider");
    auto [status, body] = Post(*client, "/v1/consultations", "{}");
    EXPECT_EQ(status, 403);
    EXPECT_EQ(ErrorCode(body), "unknown-institution");
  }
}

TEST_F(HubE2E, OversizedAndMalformedBodies) {
  std::string huge = R"({"entries": [)" + std::string(9 << 20, ' ') + "]}";
  auto response = client_->PostSync(Api(), "/v1/directory/entries", huge);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("body-too-large"), std::string::npos);

  struct Row {
    std::string body;
    std::string code;
  };
  const std::vector<Row> rows = {
      {"not json", "invalid-json"},
      {R"({"entries": 3})", "invalid-request"},
      {R"({"entries": [], "extra": 1})", "invalid-request"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.body);
    auto [status, body] = Post(*client_, "/v1/directory/entries", row.body);
    EXPECT_EQ(status, 400);
    EXPECT_EQ(ErrorCode(body), row.code);
  }
  // Too many entries: refused whole.
  std::string many = R"({"entries": [)";
  for (int i = 0; i < 10001; ++i) {
    many += std::string(i ? "," : "") +
            R"({"action": "add", "niss": "85073003328", "capacity": "insured", "from": "2020-01-01"})";
  }
  many += "]}";
  auto [status, body] = Post(*client_, "/v1/directory/entries", many);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(ErrorCode(body), "invalid-request");

  // Per-entry rejections in one batch, the rest applied.
  auto [mixed_status, mixed] = Post(*client_, "/v1/directory/entries", R"({"entries": [
      {"action": "add", "niss": "85073003328", "capacity": "insured", "from": "2020-01-01"},
      {"action": "add", "niss": "85073003329", "capacity": "insured", "from": "2020-01-01"},
      {"action": "add", "niss": "85073003328", "capacity": "employee", "from": "2020-01-01"},
      {"action": "close", "niss": "85073003328", "capacity": "dependent", "from": "2020-01-01", "to": "2021-01-01"},
      {"action": "fly", "niss": "85073003328", "capacity": "insured", "from": "2020-01-01"}]})");
  ASSERT_EQ(mixed_status, 200) << mixed;
  const json::array& results = mixed.at("results").as_array();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].at("status"), "ok");
  EXPECT_EQ(results[1].at("error").at("code"), "invalid-niss");
  EXPECT_EQ(results[2].at("error").at("code"), "capacity-not-allowed");
  EXPECT_EQ(results[3].at("error").at("code"), "not-found");
  EXPECT_EQ(results[4].at("error").at("code"), "invalid-request");
}

TEST_F(HubE2E, AuditVerifyPassesThenFailsAfterOneByteChanges) {
  Integrate("mut-100", kAnna, "insured");
  for (int i = 0; i < 5; ++i) Consult("person.address", kAnna);
  auto [status, verify] = AdminGet("/v1/admin/audit/verify");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(verify.at("ok"), true);
  EXPECT_EQ(verify.at("records"), 6);

  hub_->Signal(SIGTERM);
  EXPECT_EQ(hub_->Wait(), 0);
  const std::string binary = testing::Env("CARREFOUR_BINARY");
  auto [ok_code, ok_output] = testing::RunCommand(binary + " audit verify --data " + (dir_ / "data").string());
  EXPECT_EQ(ok_code, 0) << ok_output;
  EXPECT_NE(ok_output.find("intact: 6 records"), std::string::npos) << ok_output;
  EXPECT_EQ(ok_output.find("was not checked"), std::string::npos) << ok_output;

  // The schema refuses changes to the log...
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "data" / "hub.db").c_str(), &db), SQLITE_OK);
  const char* tamper = "UPDATE audit_record SET requester = 'mut-101' WHERE seq = 4";
  EXPECT_NE(sqlite3_exec(db, tamper, nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_record WHERE seq = 4", nullptr, nullptr, nullptr), SQLITE_OK);
  // ...so someone with the file in hand drops the guard and changes one
  // byte of one record, behind the hub's back.
  ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER audit_record_no_update", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, tamper, nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  auto [bad_code, bad_output] = testing::RunCommand(binary + " audit verify --data " + (dir_ / "data").string());
  EXPECT_EQ(bad_code, 1) << bad_output;
  EXPECT_NE(bad_output.find("record 4"), std::string::npos) << bad_output;
}

TEST_F(HubE2E, KilledUnderLoadEveryAnsweredConsultationIsAudited) {
  Integrate("mut-100", kAnna, "insured");
  std::mutex mu;
  std::vector<std::string> answered;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      auto client = Client("mut-100");
      const std::string body = fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna);
      while (!stop) {
        auto response = client->PostSync(Api(), "/v1/consultations", body);
        if (!response) continue;  // the hub is gone: keep trying until told to stop
        if (response->status != 200) continue;
        std::lock_guard lock(mu);
        answered.push_back(std::string(json::parse(response->body).at("request_id").as_string()));
      }
    });
  }
  // Kill once a fair number has been answered (not a timing assumption: we
  // wait for the count; the guard only keeps a broken hub from hanging the
  // test).
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (answered.size() >= 200) break;
    }
    if (std::chrono::steady_clock::now() >= guard) {
      stop = true;
      for (std::thread& thread : load) thread.join();
      FAIL() << "fewer than 200 consultations answered in 120 s; the hub's log:\n" << Log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  hub_->Signal(SIGKILL);
  hub_->Wait();
  stop = true;
  for (std::thread& thread : load) thread.join();

  StartHub();
  auto [status, verify] = AdminGet("/v1/admin/audit/verify");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(verify.at("ok"), true) << verify;
  auto [audit_status, audit] = AdminGet(std::string("/v1/admin/audit?limit=10000&niss=") + kAnna);
  ASSERT_EQ(audit_status, 200);
  std::set<std::string> recorded;
  for (const json::value& record : audit.at("records").as_array()) {
    recorded.insert(std::string(record.at("request_id").as_string()));
  }
  for (const std::string& id : answered) EXPECT_TRUE(recorded.count(id)) << id;
}

TEST_F(HubE2E, ReloadTakesAValidDefinitionAndKeepsTheOldOneWhenBroken) {
  Integrate("mut-100", kAnna, "insured");
  EXPECT_EQ(ErrorCode(Consult("not.granted", kAnna).second), "not-authorized");

  // A new authorization, taken on reload.
  {
    std::ofstream out(dir_ / "network.toml", std::ios::app);
    out << "\n[[authorization]]\ndata_type = \"not.granted\"\nrequester = \"mut-100\"\n"
           "capacity = \"insured\"\nlegal_basis = \"ISC/26/999\"\nfrom = 2020-01-01\n";
  }
  auto [reloaded, answer] = AdminGet("/v1/admin/reload", "POST");
  ASSERT_EQ(reloaded, 200) << answer;
  auto [granted, body] = Consult("not.granted", kAnna);
  EXPECT_EQ(granted, 200) << body;
  EXPECT_EQ(body.at("legal_basis"), "ISC/26/999");

  // A broken definition is refused with its file:line, and the old one stays.
  {
    std::ofstream out(dir_ / "network.toml", std::ios::app);
    out << "\n[[institution]]\nid = \"mut-900\"\ntype = \"no-such-type\"\n";
  }
  auto [refused, error] = AdminGet("/v1/admin/reload", "POST");
  EXPECT_EQ(refused, 400) << error;
  EXPECT_NE(std::string(error.at("error").at("message").as_string()).find("network.toml:"),
            std::string::npos) << error;
  EXPECT_EQ(Consult("not.granted", kAnna).first, 200);

  // SIGHUP takes the same path.
  hub_->Signal(SIGHUP);
  // Until the hub has handled the signal (no timing assumption; the guard
  // only keeps a hub that ignores it from hanging the test).
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto [status, metrics] = AdminGet("/metrics");
    if (metrics.as_string().find("carrefour_reload_failures_total 2") != std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), guard) << "SIGHUP was not handled:\n" << metrics.as_string();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Consult("not.granted", kAnna).first, 200);
  auto [status, metrics] = AdminGet("/metrics");
  EXPECT_NE(metrics.as_string().find("carrefour_reloads_total 1"), std::string::npos);
  EXPECT_NE(metrics.as_string().find(
                R"(carrefour_requests_total{method="POST",route="/v1/consultations",status="200"})"),
            std::string::npos);
}

// SIGTERM, SIGINT and SIGHUP are taken by the hub's main thread with sigwait;
// a thread that does not block them (the logger's worker and flusher were
// such threads) would take a SIGTERM sent during start-up with the default
// action and the hub would die with status 143 instead of draining. Every
// thread of the running hub must block all three.
TEST_F(HubE2E, EveryThreadBlocksTheSignalsTheHubWaitsFor) {
  const fs::path tasks = fs::path("/proc") / std::to_string(hub_->pid()) / "task";
  int threads = 0;
  for (const fs::directory_entry& task : fs::directory_iterator(tasks)) {
    // The main thread is the one in sigwait, which unblocks what it waits for.
    if (task.path().filename() == std::to_string(hub_->pid())) continue;
    std::ifstream status(task.path() / "status");
    std::string line;
    std::string name;
    uint64_t blocked = 0;
    bool found = false;
    while (std::getline(status, line)) {
      if (line.rfind("Name:", 0) == 0) name = line.substr(5);
      if (line.rfind("SigBlk:", 0) == 0) {
        blocked = std::stoull(line.substr(7), nullptr, 16);
        found = true;
      }
    }
    ASSERT_TRUE(found) << task.path();
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
      EXPECT_TRUE(blocked & (uint64_t{1} << (signal - 1)))
          << "thread " << task.path().filename() << " (" << name << ") does not block signal " << signal;
    }
    ++threads;
  }
  EXPECT_GT(threads, 2);  // server loops, audit writer, logger...
}

// /readyz says 200 while the hub serves, and 503 once it is stopping: after
// SIGTERM, while a consultation in flight drains (the admin listener stops
// last). The consultation still gets its answer.
TEST_F(HubE2E, ReadyzAnswers503WhileTheHubStops) {
  hub_->Signal(SIGTERM);
  ASSERT_EQ(hub_->Wait(), 0);
  StartHub({"--provider-timeout-ms", "20000"});  // onss-slow answers after 3 s
  const std::string slow = "82010100248";
  Integrate("mut-100", slow, "insured");
  Integrate("onss-slow", slow, "employee");
  EXPECT_EQ(AdminGet("/readyz").first, 200);

  const int calls = slow_->calls();
  std::future<std::pair<int, json::value>> consultation =
      std::async(std::launch::async, [&] { return Consult("employment.wages", slow); });
  // Positive barrier: the call has reached the provider, so it is in flight.
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (slow_->calls() == calls) {
    ASSERT_LT(std::chrono::steady_clock::now(), guard) << "the consultation never reached onss-slow";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  hub_->Signal(SIGTERM);
  auto admin = net::Client::Create({.timeout = std::chrono::milliseconds(5000)});
  ASSERT_TRUE(admin);
  int readyz = 0;
  std::string last;
  while (readyz != 503) {
    Result<net::ClientResponse> response = (*admin)->GetSync(Admin(), "/readyz");
    ASSERT_TRUE(response) << "the admin listener went away before /readyz said 503: "
                          << response.error().ToString() << " (last: " << last << ")";
    readyz = response->status;
    last = fmt::format("{} {}", response->status, response->body);
    ASSERT_LT(std::chrono::steady_clock::now(), guard) << "still " << last;
    if (readyz != 503) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(readyz, 503);
  auto [status, body] = consultation.get();
  EXPECT_EQ(status, 200) << body;
  EXPECT_EQ(hub_->Wait(), 0);
}

TEST_F(HubE2E, AdminEndpointsNeedTheTokenWhenOneIsConfigured) {
  hub_->Signal(SIGTERM);
  ASSERT_EQ(hub_->Wait(), 0);
  StartHub({"--admin-token", "s3cret"});
  EXPECT_EQ(AdminGet("/healthz").first, 200);
  EXPECT_EQ(AdminGet("/readyz").first, 200);
  for (std::string target : {"/metrics", "/v1/admin/network", "/v1/admin/audit/verify"}) {
    SCOPED_TRACE(target);
    auto [refused, error] = AdminGet(target);
    EXPECT_EQ(refused, 403);
    EXPECT_EQ(AdminGet(target, "GET", "wrong").first, 403);
    EXPECT_EQ(AdminGet(target, "GET", "s3cret").first, 200);
  }
  auto [status, network] = AdminGet("/v1/admin/network", "GET", "s3cret");
  EXPECT_EQ(network.at("institutions").as_array().size(), 8u);
}

// The data folder holds the directory, the audit and BIS identities: the
// hub's user only, whatever the umask it was started with; and a private
// key that others may read is refused.
TEST_F(HubE2E, DataIsPrivateWhateverTheUmaskAndLooseKeysAreRefused) {
  hub_->Signal(SIGTERM);
  ASSERT_EQ(hub_->Wait(), 0);
  fs::remove_all(dir_ / "data");
  const mode_t previous = ::umask(022);
  StartHub();
  ::umask(previous);
  Integrate("mut-100", kAnna, "insured");  // the database is written
  auto mode = [](const fs::path& path) { return fs::status(path).permissions() & fs::perms::all; };
  const fs::perms owner_rw = fs::perms::owner_read | fs::perms::owner_write;
  EXPECT_EQ(mode(dir_ / "data"), fs::perms::owner_all);
  std::vector<std::string> files = {"hub.db", "hub.db-wal", "hub.db-shm"};
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_ / "data")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("audit-") && name.ends_with(".key")) files.push_back(name);
  }
  ASSERT_EQ(files.size(), 4u) << "the node's audit signing key (audit-<node>.key) is missing";
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(fs::exists(dir_ / "data" / file));
    EXPECT_EQ(mode(dir_ / "data" / file), owner_rw);
  }

  hub_->Signal(SIGTERM);
  ASSERT_EQ(hub_->Wait(), 0);
  fs::copy_file(pki_->dir / "hub.key", dir_ / "loose.key");
  fs::permissions(dir_ / "loose.key", owner_rw | fs::perms::group_read | fs::perms::others_read);
  auto loose = Process::Start(
      {testing::Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(),
       "--data", (dir_ / "data").string(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
       "--cert", (pki_->dir / "hub.crt").string(), "--key", (dir_ / "loose.key").string(), "--ca",
       (pki_->dir / "ca.crt").string()},
      (dir_ / "loose.log").string());
  // A hub that accepted the key would serve on: a deadline, not a hang.
  EXPECT_EQ(loose->WaitFor(std::chrono::seconds(60)), std::optional<int>(1)) << "the hub did not refuse the key";
  std::ifstream in(dir_ / "loose.log");
  const std::string log(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(log.find("accessible to group or others"), std::string::npos) << log;
  StartHub();  // for TearDown's sake, with its own key
}

// Who among the hub's staff looked at whom: every admin read naming a
// person leaves a record, as BIS look-ups do.
TEST_F(HubE2E, AdminReadsNamingAPersonAreAudited) {
  const std::vector<std::string> reads = {"/v1/admin/directory", "/v1/admin/person",
                                          "/v1/admin/transparency", "/v1/admin/audit"};
  for (const std::string& path : reads) {
    auto [status, body] = AdminGet(fmt::format("{}?niss={}", path, kAnna));
    EXPECT_EQ(status, 200) << path << " " << body;
  }
  auto [status, audit] = AdminGet(fmt::format("/v1/admin/audit?niss={}&kind=admin", kAnna));
  ASSERT_EQ(status, 200) << audit;
  std::set<std::string> traced;
  for (const json::value& record : audit.at("records").as_array()) {
    EXPECT_EQ(record.at("requester"), "admin");
    traced.insert(std::string(record.at("reason").as_string()));
  }
  for (const std::string& path : reads) {
    EXPECT_TRUE(traced.contains("admin read of " + path)) << path << " " << audit;
  }
}

// Methods are the caller's choice: an odd one must not become a label of its
// own (hundreds of them made /metrics grow by megabytes).
TEST_F(HubE2E, OddMethodsShareOneMetricsLabel) {
  for (const char* method : {"PROPFIND", "PURGE", "MKCOL", "LOCK", "UNLOCK", "REPORT"}) {
    net::ClientRequest request;
    request.method = method;
    request.target = "/v1/consultations";
    Result<net::ClientResponse> response = client_->SendSync(Api(), request);
    ASSERT_TRUE(response) << response.error().ToString();
  }
  auto [status, metrics] = AdminGet("/metrics");
  const std::string text(metrics.as_string());
  for (const char* method : {"PROPFIND", "PURGE", "MKCOL", "LOCK", "REPORT"}) {
    EXPECT_EQ(text.find(method), std::string::npos) << method;
  }
  EXPECT_NE(text.find(R"(carrefour_requests_total{method="other",route="other",status="400"} 6)"),
            std::string::npos)
      << text;
}

// The admin listener is plain HTTP on the hub's machine: a page that the
// operator opens in a browser must be able neither to read it through DNS
// rebinding nor to make it act by a cross-site request.
TEST_F(HubE2E, AdminRefusesForeignHostsAndCrossSiteChangesAndIsNeverCached) {
  auto raw = [&](const std::string& request) {
    net::testing::RawSocket socket(admin_port_);
    EXPECT_TRUE(socket.Send(request));
    return socket.ReadUntilClosed();
  };
  const std::string own = fmt::format("127.0.0.1:{}", admin_port_);
  std::string rebound = raw(fmt::format(
      "GET /v1/admin/directory?niss={} HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
      kAnna, admin_port_));
  EXPECT_TRUE(rebound.starts_with("HTTP/1.1 403")) << rebound;
  std::string own_page = raw(fmt::format(
      "GET /v1/admin/network HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", own));
  EXPECT_TRUE(own_page.starts_with("HTTP/1.1 200")) << own_page;
  EXPECT_NE(own_page.find("Cache-Control: no-store\r\n"), std::string::npos) << own_page;
  EXPECT_NE(own_page.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos) << own_page;

  for (const std::string& headers :
       {fmt::format("Host: {}\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\n", own),
        fmt::format("Host: {}\r\nContent-Type: text/plain\r\n", own)}) {
    SCOPED_TRACE(headers);
    std::string forged = raw(fmt::format(
        "POST /v1/admin/reload HTTP/1.1\r\n{}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}", headers));
    EXPECT_TRUE(forged.starts_with("HTTP/1.1 403")) << forged;
    EXPECT_NE(forged.find("Cache-Control: no-store"), std::string::npos) << forged;
  }
  auto [status, metrics] = AdminGet("/metrics");
  EXPECT_NE(metrics.as_string().find("carrefour_reloads_total 0"), std::string::npos);
  EXPECT_EQ(AdminGet("/v1/admin/reload", "POST").first, 200);  // the hub's own client still may
}

}  // namespace
}  // namespace carrefour
