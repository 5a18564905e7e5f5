// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support for end-to-end tests of mutations (docs/api.md section 4.3): a
// test network, a PKI for everybody in it, real `carrefour hub` processes
// (started, stopped cleanly, killed), and clients calling them over real
// mutual TLS. Test code: failures are gtest failures, or abort.
//
//   class MyTest : public testing::HubFixture {};
//   TEST_F(MyTest, X) { StartHub(0); Integrate("mut-100", "insured");
//                       Post("nr", "/v1/mutations", Batch({Move("m1")})); }

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "net/client.h"
#include "pki/testing.h"
#include "tests/integration/helpers.h"
#include "tests/integration/process.h"
#include "core/testing/temp_dir.h"

namespace carrefour::testing {

// Anna's new number (valid by docs/api.md section 1), after a replacement.
inline constexpr const char* kAnnaNew = "90010100123";

// nr is the authentic source of addresses and identity replacements.
// Mutualities (insured) are subscribed to both and authorized for three
// address fields; the welfare centre (beneficiary) is authorized for the
// street but not subscribed; the fund (child-beneficiary) is subscribed but
// its authorization ended in 2021. Who is entitled to a mutation thus
// depends on the entries each test declares.
inline constexpr const char* kMutationsNetwork = R"(
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

// A feed read's answer.
struct Feed {
  int status = 0;
  std::vector<boost::json::object> mutations;
  std::string next;
  boost::json::value body;
};

// Parses a feed answer; false (with a gtest failure) when it is not one.
inline bool ParseFeed(int status, const std::string& body, Feed* feed) {
  feed->status = status;
  boost::system::error_code ec;
  feed->body = boost::json::parse(body, ec);
  EXPECT_FALSE(ec) << body;
  if (ec || status != 200) return !ec;
  for (const boost::json::value& item : feed->body.at("mutations").as_array()) {
    feed->mutations.push_back(item.as_object());
  }
  feed->next = std::string(feed->body.at("next").as_string());
  return true;
}

class HubFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New({"hub", "nr", "mut-100", "mut-200", "mut-300", "cpas", "fund"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-hub-test");
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "network.toml") << kMutationsNetwork;
  }
  void TearDown() override {
    hubs_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Starts hub number `n` (its own data folder, kept across restarts) with
  // `extra` flags; returns its API port (a new one at each start).
  uint16_t StartHub(size_t n, const std::string& store_url = "",
                    const std::vector<std::string>& extra = {}) {
    if (hubs_.size() <= n) hubs_.resize(n + 1);
    std::vector<std::string> argv = {
        Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(),
        "--data", (dir_ / fmt::format("data-{}", n)).string(), "--listen", "127.0.0.1:0",
        "--admin", "127.0.0.1:0", "--cert", (pki_->dir / "hub.crt").string(), "--key",
        (pki_->dir / "hub.key").string(), "--ca", (pki_->dir / "ca.crt").string(), "--node",
        fmt::format("hub-{}", n)};
    if (!store_url.empty()) {
      argv.push_back("--store");
      argv.push_back(store_url);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    hubs_[n].process = Process::Start(argv, (dir_ / fmt::format("hub-{}.log", n)).string());
    std::optional<std::string> line = hubs_[n].process->WaitForLine(
        [](const std::string& l) { return l.find("API on") != std::string::npos; });
    EXPECT_TRUE(line) << "the hub did not start; see " << (dir_ / fmt::format("hub-{}.log", n));
    if (!line) return 0;
    std::smatch match;
    EXPECT_TRUE(std::regex_search(*line, match,
                                  std::regex(R"(port (\d+)\), admin on .* \(port (\d+)\))")));
    hubs_[n].api = static_cast<uint16_t>(std::stoi(match[1]));
    hubs_[n].admin = static_cast<uint16_t>(std::stoi(match[2]));
    return hubs_[n].api;
  }

  // SIGTERM: drains and stops; exit code 0.
  void StopHub(size_t n) {
    hubs_[n].process->Signal(SIGTERM);
    EXPECT_EQ(hubs_[n].process->Wait(), 0);
    hubs_[n].process.reset();
  }

  // SIGKILL: no chance to flush or answer anything (a crash).
  void KillHub(size_t n) {
    hubs_[n].process->Signal(SIGKILL);
    EXPECT_EQ(hubs_[n].process->Wait(), 128 + SIGKILL);
    hubs_[n].process.reset();
  }

  // A client as `name`; its default timeout leaves room for the longest
  // long poll.
  static std::unique_ptr<net::Client> Client(
      const std::string& name, std::chrono::milliseconds timeout = std::chrono::milliseconds(120000)) {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / (name + ".crt"), pki_->dir / (name + ".key"),
                              pki_->dir / "ca.crt"},
         .timeout = timeout});
    if (!client) std::abort();
    return std::move(*client);
  }

  static net::Endpoint ApiAt(uint16_t port) {
    return *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", port), "hub");
  }
  net::Endpoint Api(size_t n = 0) const { return ApiAt(hubs_[n].api); }

  std::pair<int, boost::json::value> Post(const std::string& as, const std::string& target,
                                          const std::string& body, size_t hub = 0) {
    Result<net::ClientResponse> response = Client(as)->PostSync(Api(hub), target, body);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(response->body, ec);
    EXPECT_FALSE(ec) << response->body;
    return {response->status, parsed};
  }

  Feed Read(const std::string& as, const std::string& query, size_t hub = 0) {
    Feed feed;
    Result<net::ClientResponse> response =
        Client(as)->GetSync(Api(hub), "/v1/mutations/feed?" + query);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return feed;
    ParseFeed(response->status, response->body, &feed);
    return feed;
  }

  // "" when the call fails. Generous timeout: verifying a long audit chain
  // takes a while.
  std::string AdminGet(const std::string& target, size_t hub = 0) {
    auto client = net::Client::Create({.timeout = std::chrono::seconds(60)});
    Result<net::ClientResponse> response = (*client)->GetSync(
        *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", hubs_[hub].admin)), target);
    return response ? response->body : std::string();
  }

  // Polls hub `hub`'s /metrics until it contains `needle`. False after
  // `guard`, which only keeps a broken test from hanging (the caller fails
  // with a message instead of waiting for CTest's timeout).
  bool WaitForMetric(const std::string& needle, size_t hub = 0,
                     std::chrono::seconds guard = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (AdminGet("/metrics", hub).find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // `institution` declares a file of `capacity` on `niss` from 2020-01-01.
  void Integrate(const std::string& institution, const std::string& capacity,
                 const std::string& to = "null", const std::string& niss = kAnna) {
    auto [status, body] = Post(
        institution, "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "{}", )"
                    R"("from": "2020-01-01", "to": {}}}]}})",
                    niss, capacity, to));
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body.at("results").at(0).at("status"), "ok") << body;
  }

  // An address change of `niss`, as one item of a batch.
  static std::string Move(const std::string& id, const std::string& extra_fields = "",
                          const std::string& niss = kAnna) {
    return fmt::format(
        R"({{"id": "{}", "data_type": "person.address", "niss": "{}", "effective": "2024-05-01", )"
        R"("data": {{"street": "Rue Neuve 1", "postal_code": "5000", "municipality": "Namur", )"
        R"("country": "BE"{}}}}})",
        id, niss, extra_fields);
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
  std::filesystem::path dir_;
  std::vector<Hub> hubs_;
};

}  // namespace carrefour::testing
