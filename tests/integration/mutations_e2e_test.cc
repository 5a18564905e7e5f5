// End to end: mutations (SPEC.md section 4.3) through real `carrefour hub`
// processes over real mutual TLS; with PostgreSQL, two hubs on one database.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "net/client.h"
#include "pki/testing.h"
#include "store/testing/test_database.h"
#include "tests/integration/process.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Process;

constexpr const char* kAnna = "85073003328";
constexpr const char* kAnnaNew = "90010100123";

// Who is entitled to Anna's move: mut-100 only (a file, subscribed,
// authorized). mut-200 has no file, mut-300's file is closed, cpas is not
// subscribed, fund's authorization has expired, nr is the source.
constexpr const char* kNetwork = R"(
[[institution_type]]
id = "national-register"
capacities = []

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution_type]]
id = "social-welfare-centre"
capacities = ["beneficiary"]

[[institution_type]]
id = "family-allowance-fund"
capacities = ["child-beneficiary"]

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

[[institution]]
id = "cpas"
type = "social-welfare-centre"
name = "Welfare centre"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "fund"
type = "family-allowance-fund"
name = "Allowance fund"
endpoint = "https://127.0.0.1:1"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country", "since"]

[[data_type]]
id = "person.niss-replaced"
fields = ["new_niss"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[availability]]
data_type = "person.niss-replaced"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code", "municipality"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[authorization]]
data_type = "person.niss-replaced"
requester_type = "mutuality"
capacity = "insured"
fields = ["new_niss"]
legal_basis = "ISC/24/002"
from = 2020-01-01

[[authorization]]
data_type = "person.address"
requester_type = "social-welfare-centre"
capacity = "beneficiary"
fields = ["street"]
legal_basis = "ISC/24/003"
from = 2020-01-01

[[authorization]]
data_type = "person.address"
requester_type = "family-allowance-fund"
capacity = "child-beneficiary"
fields = ["street"]
legal_basis = "ISC/24/004"
from = 2020-01-01
to = 2021-12-31

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"

[[subscription]]
institution_type = "mutuality"
data_type = "person.niss-replaced"
capacity = "insured"

[[subscription]]
institution_type = "family-allowance-fund"
data_type = "person.address"
capacity = "child-beneficiary"
)";

struct Feed {
  int status = 0;
  std::vector<json::object> mutations;
  std::string next;
  json::value body;
};

class MutationsE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new pki::TestPki(
        pki::TestPki::Create({"hub", "nr", "mut-100", "mut-200", "mut-300", "cpas", "fund"}));
  }
  static void TearDownTestSuite() {
    fs::remove_all(pki_->dir);
    delete pki_;
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("carrefour-mutations-e2e-{}-{}", getpid(), counter_++);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "network.toml") << kNetwork;
  }
  void TearDown() override {
    hubs_.clear();
    fs::remove_all(dir_);
  }

  // Starts hub number `n` (its own data folder); returns its API port.
  uint16_t StartHub(size_t n, const std::string& store_url = "") {
    if (hubs_.size() <= n) hubs_.resize(n + 1);
    std::vector<std::string> argv = {
        testing::Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(),
        "--data", (dir_ / fmt::format("data-{}", n)).string(), "--listen", "127.0.0.1:0",
        "--admin", "127.0.0.1:0", "--cert", (pki_->dir / "hub.crt").string(), "--key",
        (pki_->dir / "hub.key").string(), "--ca", (pki_->dir / "ca.crt").string(), "--node",
        fmt::format("hub-{}", n)};
    if (!store_url.empty()) {
      argv.push_back("--store");
      argv.push_back(store_url);
    }
    hubs_[n].process = Process::Start(argv, (dir_ / fmt::format("hub-{}.log", n)).string());
    std::optional<std::string> line = hubs_[n].process->WaitForLine(
        [](const std::string& l) { return l.find("API on") != std::string::npos; });
    EXPECT_TRUE(line) << "the hub did not start";
    if (!line) return 0;
    std::smatch match;
    EXPECT_TRUE(std::regex_search(*line, match,
                                  std::regex(R"(port (\d+)\), admin on .* \(port (\d+)\))")));
    hubs_[n].api = static_cast<uint16_t>(std::stoi(match[1]));
    hubs_[n].admin = static_cast<uint16_t>(std::stoi(match[2]));
    return hubs_[n].api;
  }

  void StopHub(size_t n) {
    hubs_[n].process->Signal(SIGTERM);
    EXPECT_EQ(hubs_[n].process->Wait(), 0);
    hubs_[n].process.reset();
  }

  // A client as `name`; its timeout leaves room for the longest long poll.
  static std::unique_ptr<net::Client> Client(const std::string& name) {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / (name + ".crt"), pki_->dir / (name + ".key"),
                              pki_->dir / "ca.crt"},
         .timeout = std::chrono::milliseconds(120000)});
    if (!client) std::abort();
    return std::move(*client);
  }

  net::Endpoint Api(size_t n = 0) const {
    return *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", hubs_[n].api), "hub");
  }

  std::pair<int, json::value> Post(const std::string& as, const std::string& target,
                                   const std::string& body, size_t hub = 0) {
    Result<net::ClientResponse> response = Client(as)->PostSync(Api(hub), target, body);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    boost::system::error_code ec;
    json::value parsed = json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    return {response->status, parsed};
  }

  Feed Read(const std::string& as, const std::string& query, size_t hub = 0) {
    Feed feed;
    Result<net::ClientResponse> response =
        Client(as)->GetSync(Api(hub), "/v1/mutations/feed?" + query);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return feed;
    feed.status = response->status;
    boost::system::error_code ec;
    feed.body = json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    if (ec || feed.status != 200) return feed;
    for (const json::value& item : feed.body.at("mutations").as_array()) {
      feed.mutations.push_back(item.as_object());
    }
    feed.next = std::string(feed.body.at("next").as_string());
    return feed;
  }

  std::string AdminGet(const std::string& target, size_t hub = 0) {
    auto client = net::Client::Create({});
    Result<net::ClientResponse> response = (*client)->GetSync(
        *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", hubs_[hub].admin)), target);
    return response ? response->body : std::string();
  }

  void Integrate(const std::string& institution, const std::string& capacity,
                 const std::string& to = "null") {
    auto [status, body] = Post(
        institution, "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "{}", )"
                    R"("from": "2020-01-01", "to": {}}}]}})",
                    kAnna, capacity, to));
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body.at("results").at(0).at("status"), "ok") << body;
  }

  void IntegrateEveryone() {
    Integrate("mut-100", "insured");
    Integrate("mut-300", "insured", R"("2021-01-01")");
    Integrate("cpas", "beneficiary");
    Integrate("fund", "child-beneficiary");
  }

  static std::string Move(const std::string& id, const std::string& extra_fields = "") {
    return fmt::format(
        R"({{"id": "{}", "data_type": "person.address", "niss": "{}", "effective": "2024-05-01", )"
        R"("data": {{"street": "Rue Neuve 1", "postal_code": "5000", "municipality": "Namur", )"
        R"("country": "BE"{}}}}})",
        id, kAnna, extra_fields);
  }
  static std::string Batch(const std::vector<std::string>& items) {
    std::string out = R"({"mutations": [)";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + "]}";
  }

  struct Hub {
    std::unique_ptr<Process> process;
    uint16_t api = 0, admin = 0;
  };
  static inline pki::TestPki* pki_ = nullptr;
  static inline int counter_ = 0;
  fs::path dir_;
  std::vector<Hub> hubs_;
};

TEST_F(MutationsE2E, AMoveReachesExactlyTheEntitledInstitutionsWithTheirFields) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("move-1")}));
  ASSERT_EQ(status, 202) << body;
  EXPECT_EQ(body.at("results").at(0).at("status"), "accepted") << body;
  EXPECT_EQ(body.at("results").at(0).at("subscribers"), 1) << body;

  Feed mutuality = Read("mut-100", "after=0");
  ASSERT_EQ(mutuality.status, 200) << mutuality.body;
  ASSERT_EQ(mutuality.mutations.size(), 1u) << mutuality.body;
  const json::object& move = mutuality.mutations[0];
  EXPECT_EQ(move.at("id"), "move-1");
  EXPECT_EQ(move.at("source"), "nr");
  EXPECT_EQ(move.at("data_type"), "person.address");
  EXPECT_EQ(move.at("niss"), kAnna);
  EXPECT_EQ(move.at("effective"), "2024-05-01");
  EXPECT_EQ(json::serialize(move.at("data")),
            R"({"street":"Rue Neuve 1","postal_code":"5000","municipality":"Namur"})");
  EXPECT_TRUE(move.at("cursor").is_string());
  EXPECT_EQ(mutuality.next, std::string(move.at("cursor").as_string()));

  for (const char* other : {"mut-200", "mut-300", "cpas", "fund", "nr"}) {
    SCOPED_TRACE(other);
    Feed feed = Read(other, "after=0");
    EXPECT_EQ(feed.status, 200) << feed.body;
    EXPECT_TRUE(feed.mutations.empty()) << feed.body;
    EXPECT_EQ(feed.next, "0");
  }
  std::string audit = AdminGet("/v1/admin/audit?requester=nr");
  EXPECT_NE(audit.find("\"mutation\""), std::string::npos) << audit;
  audit = AdminGet("/v1/admin/audit?requester=mut-100");
  EXPECT_NE(audit.find("\"feed-read\""), std::string::npos) << audit;
}

TEST_F(MutationsE2E, RefusalsDuplicatesAndTheBatchLimit) {
  StartHub(0);
  IntegrateEveryone();
  struct Row {
    std::string name;
    std::string as;
    std::string item;
    std::string status;
    std::string code;
  };
  const Row rows[] = {
      {"first", "nr", Move("m1"), "accepted", ""},
      {"same id again", "nr", Move("m1"), "duplicate", ""},
      {"not a source", "mut-100", Move("m2"), "rejected", "not-a-source"},
      {"unknown field", "nr", Move("m3", R"(, "shoe_size": 42)"), "rejected", "invalid-request"},
      {"bad niss", "nr",
       R"({"id": "m4", "data_type": "person.address", "niss": "85073003329", "effective": "2024-05-01", "data": {}})",
       "rejected", "invalid-niss"},
      {"unknown data type", "nr",
       R"({"id": "m5", "data_type": "person.shoe", "niss": "85073003328", "effective": "2024-05-01", "data": {}})",
       "rejected", "unknown-data-type"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto [status, body] = Post(row.as, "/v1/mutations", Batch({row.item}));
    ASSERT_EQ(status, 202) << body;
    const json::value& result = body.at("results").at(0);
    EXPECT_EQ(result.at("status"), row.status.c_str()) << body;
    if (!row.code.empty()) {
      EXPECT_EQ(result.at("error").at("code"), row.code.c_str()) << body;
    }
    if (row.name == "unknown field") {
      EXPECT_NE(json::serialize(result).find("shoe_size"), std::string::npos) << body;
    }
  }
  std::vector<std::string> items;
  for (int i = 0; i < 1001; ++i) items.push_back(Move(fmt::format("big-{}", i)));
  auto [status, body] = Post("nr", "/v1/mutations", Batch(items));
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(body.at("error").at("code"), "invalid-request") << body;
  EXPECT_EQ(Read("mut-100", "after=0").mutations.size(), 1u);
}

// The read waits up to 60 s; had it not been woken by the publication, it
// would have come back empty after the whole wait.
TEST_F(MutationsE2E, ALongPollIsAnsweredWhenAMutationArrives) {
  StartHub(0);
  IntegrateEveryone();
  std::future<Feed> waiting =
      std::async(std::launch::async, [this] { return Read("mut-100", "after=0&wait=60"); });
  // Publish once the read is waiting (the hub's gauge says so).
  while (AdminGet("/metrics").find("carrefour_feed_waiting 1") == std::string::npos) {
    std::this_thread::yield();
  }
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("m1")}));
  ASSERT_EQ(status, 202) << body;
  Feed feed = waiting.get();
  ASSERT_EQ(feed.status, 200) << feed.body;
  ASSERT_EQ(feed.mutations.size(), 1u) << feed.body;
  EXPECT_EQ(feed.mutations[0].at("id"), "m1");
}

TEST_F(MutationsE2E, UnacknowledgedSurviveARestartAndAcknowledgedAreNotRedelivered) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post("nr", "/v1/mutations", Batch({Move("m1"), Move("m2"), Move("m3")}));
  ASSERT_EQ(status, 202) << body;
  Feed first = Read("mut-100", "after=0&limit=2");
  ASSERT_EQ(first.mutations.size(), 2u);
  EXPECT_EQ(Read("mut-100", "after=0&limit=2").mutations.size(), 2u);  // not acknowledged

  StopHub(0);
  StartHub(0);
  Feed again = Read("mut-100", "after=0");
  ASSERT_EQ(again.mutations.size(), 3u) << again.body;
  Feed rest = Read("mut-100", "after=" + first.next);
  ASSERT_EQ(rest.mutations.size(), 1u) << rest.body;
  EXPECT_EQ(rest.mutations[0].at("id"), "m3");
  Feed after_ack = Read("mut-100", "after=0");
  ASSERT_EQ(after_ack.mutations.size(), 1u) << after_ack.body;
  EXPECT_EQ(after_ack.mutations[0].at("id"), "m3");
  std::string metrics = AdminGet("/metrics");
  EXPECT_NE(metrics.find("carrefour_feed_backlog{subscriber=\"mut-100\"} 1"), std::string::npos)
      << metrics;
}

TEST_F(MutationsE2E, AnIdentityReplacementMovesTheFilesAndIsDelivered) {
  StartHub(0);
  IntegrateEveryone();
  auto [status, body] = Post(
      "nr", "/v1/mutations",
      Batch({fmt::format(R"({{"id": "r1", "data_type": "person.niss-replaced", "niss": "{}", )"
                         R"("effective": "2024-05-01", "data": {{"new_niss": "{}"}}}})",
                         kAnna, kAnnaNew)}));
  ASSERT_EQ(status, 202) << body;
  ASSERT_EQ(body.at("results").at(0).at("status"), "accepted") << body;
  Feed feed = Read("mut-100", "after=0");
  ASSERT_EQ(feed.mutations.size(), 1u) << feed.body;
  EXPECT_EQ(feed.mutations[0].at("data").at("new_niss"), kAnnaNew);

  Result<net::ClientResponse> entries = Client("mut-100")->GetSync(
      Api(), fmt::format("/v1/directory/entries?niss={}", kAnnaNew));
  ASSERT_TRUE(entries);
  EXPECT_NE(entries->body.find("insured"), std::string::npos) << entries->body;
  auto [refused, refusal] = Post(
      "mut-100", "/v1/consultations",
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  EXPECT_EQ(refused, 403) << refusal;
  EXPECT_NE(json::serialize(refusal).find(
                fmt::format("this number was replaced by {} on 2024-05-01", kAnnaNew)),
            std::string::npos)
      << refusal;
}

// Two hub processes on one PostgreSQL database: sources publish through
// both, a subscriber reads through one of them; every accepted mutation is
// delivered once, in cursor order.
TEST_F(MutationsE2E, TwoHubsOnPostgresqlLoseAndDuplicateNothing) {
  Result<std::unique_ptr<store::testing::TestDatabase>> database =
      store::testing::TestDatabase::Create(store::testing::Engine::kPostgres);
  if (!database) {
    const char* ci = getenv("CI");
    if (ci == nullptr || *ci == '\0') GTEST_SKIP() << database.error().message();
    FAIL() << database.error().ToString();
  }
  StartHub(0, (*database)->url());
  StartHub(1, (*database)->url());
  IntegrateEveryone();

  // A reader waiting on hub 1 is woken by a publication through hub 0.
  std::future<Feed> waiting =
      std::async(std::launch::async, [this] { return Read("mut-100", "after=0&wait=60", 1); });
  while (AdminGet("/metrics", 1).find("carrefour_feed_waiting 1") == std::string::npos) {
    std::this_thread::yield();
  }
  ASSERT_EQ(Post("nr", "/v1/mutations", Batch({Move("first")}), 0).first, 202);
  Feed woken = waiting.get();
  ASSERT_EQ(woken.mutations.size(), 1u) << woken.body;

  constexpr int kBatches = 10;
  constexpr int kPerBatch = 50;
  std::atomic<int> finished{0};
  auto publish = [&](size_t hub) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::string> items;
      for (int i = 0; i < kPerBatch; ++i) items.push_back(Move(fmt::format("h{}-{}-{}", hub, b, i)));
      for (;;) {  // a 503 (contention) is retried, as a source would
        auto [status, body] = Post("nr", "/v1/mutations", Batch(items), hub);
        if (status == 503) continue;
        ASSERT_EQ(status, 202) << body;
        break;
      }
    }
    ++finished;
  };
  std::thread a(publish, 0), b(publish, 1);
  std::set<std::string> ids{"first"};
  std::string after = woken.next;
  int64_t last_cursor = std::stoll(after);
  const size_t expected = 1 + 2 * kBatches * kPerBatch;
  while (ids.size() < expected) {
    const bool all_published = finished == 2;
    Feed feed = Read("mut-100", fmt::format("after={}&limit=100&wait={}", after, all_published ? 0 : 10), 1);
    ASSERT_EQ(feed.status, 200) << feed.body;
    for (const json::object& item : feed.mutations) {
      int64_t cursor = std::stoll(std::string(item.at("cursor").as_string()));
      EXPECT_GT(cursor, last_cursor);
      last_cursor = cursor;
      EXPECT_TRUE(ids.insert(std::string(item.at("id").as_string())).second)
          << "delivered twice: " << item.at("id");
    }
    after = feed.next;
    // Everything published and an empty read: whatever is missing is lost.
    if (feed.mutations.empty() && all_published) break;
  }
  a.join();
  b.join();
  EXPECT_EQ(ids.size(), expected);
  EXPECT_TRUE(Read("mut-100", "after=" + after, 0).mutations.empty());
  hubs_.clear();  // the hubs close their connections before the database is dropped
}

}  // namespace
}  // namespace carrefour
