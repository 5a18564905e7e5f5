// SPDX-License-Identifier: EUPL-1.2
// End to end: the BIS register (docs/api.md 4.4, docs/bis.md) through a real
// `carrefour hub` process over real mutual TLS: creation and who may do it,
// duplicates and force, person.identity of a BIS number answered by the hub
// under the usual decision and audit, identity changes delivered as
// mutations, and the administrator's view (listener and command line).

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <set>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "store/testing/store_test_fixture.h"
#include "tests/integration/hub_fixture.h"

namespace carrefour {
namespace {

namespace json = boost::json;

// cpas (a welfare centre) may create BIS numbers; mut-100 may not, but may
// consult person.identity of its insured and is told of identity changes.
// nr also provides person.identity, for its own numbers: its connector is
// not running here, so its part of an answer is an error.
constexpr const char* kBisNetwork = R"toml(
[[institution_type]]
id = "bis-register"

[[institution_type]]
id = "national-register"

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution_type]]
id = "social-welfare-centre"
capacities = ["beneficiary"]

[[institution]]
id = "bis"
type = "bis-register"
name = "BIS register (kept by the hub)"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-100"
type = "mutuality"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "cpas"
type = "social-welfare-centre"
endpoint = "https://127.0.0.1:1"

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]

[[data_type]]
id = "person.niss-replaced"
fields = ["new_niss"]

[[availability]]
data_type = "person.identity"
provider_type = "bis-register"

[[availability]]
data_type = "person.identity"
provider_type = "national-register"

[[availability]]
data_type = "person.niss-replaced"
provider_type = "bis-register"

[[authorization]]
data_type = "person.identity"
requester_type = "mutuality"
capacity = "insured"
fields = ["last_name", "first_names", "birth_date"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[authorization]]
data_type = "person.identity"
requester_type = "social-welfare-centre"
capacity = "beneficiary"
legal_basis = "ISC/18/201"
from = 2018-06-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.identity"
capacity = "insured"

[bis_register]
institution = "bis"

[[bis_authorization]]
requester_type = "social-welfare-centre"
legal_basis = "ISC/18/203"
from = 2018-06-01
)toml";

constexpr const char* kAnnaIdentity =
    R"({"last_name": "Kowalczyk", "first_names": "Anna Maria", "birth_date": "1979-10-12", "sex": "f", "nationality": "PL"})";
constexpr const char* kLookAlike =
    R"({"last_name": "KOWALCZYK", "first_names": "Anna", "birth_date": "1979-12-10", "sex": "f", "nationality": "PL")";

class BisE2E : public testing::HubFixture {
 protected:
  void SetUp() override {
    HubFixture::SetUp();
    std::ofstream(dir_ / "network.toml") << kBisNetwork;
  }

  std::string CreateAnna() {
    auto [status, body] = Post("cpas", "/v1/bis", kAnnaIdentity);
    EXPECT_EQ(status, 201) << body;
    return status == 201 ? std::string(body.at("niss").as_string()) : std::string();
  }
};

TEST_F(BisE2E, PersonIdentityOfABisNumberIsAnsweredByTheHub) {
  StartHub(0);
  auto [refused, refusal] = Post("mut-100", "/v1/bis", kAnnaIdentity);
  EXPECT_EQ(refused, 403) << refusal;
  EXPECT_EQ(refusal.at("error").at("code"), "not-authorized");

  const std::string niss = CreateAnna();
  ASSERT_EQ(niss.size(), 11u);
  EXPECT_EQ(niss.substr(0, 4), "7950");  // 1979, October + 40: a BIS number, sex known

  // The same rules as any data type: no file, no data.
  const std::string ask = fmt::format(R"({{"data_type": "person.identity", "niss": "{}"}})", niss);
  auto [not_integrated, why] = Post("mut-100", "/v1/consultations", ask);
  EXPECT_EQ(not_integrated, 403) << why;
  EXPECT_EQ(why.at("error").at("code"), "not-integrated");

  Integrate("mut-100", "insured", "null", niss);
  auto [status, answer] = Post("mut-100", "/v1/consultations", ask);
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer.at("legal_basis"), "ISC/24/001");
  EXPECT_EQ(answer.at("status"), "partial") << answer;  // nr's connector is not running
  bool answered_by_the_hub = false;
  for (const json::value& result : answer.at("results").as_array()) {
    if (result.at("provider") != "bis") continue;
    answered_by_the_hub = true;
    EXPECT_EQ(result.at("status"), "ok") << answer;
    // Only the authorized fields.
    EXPECT_EQ(json::serialize(result.at("data")),
              R"({"last_name":"Kowalczyk","first_names":"Anna Maria","birth_date":"1979-10-12"})");
  }
  EXPECT_TRUE(answered_by_the_hub) << answer;

  std::string audit = AdminGet(fmt::format("/v1/admin/audit?niss={}", niss));
  EXPECT_NE(audit.find("bis:ok"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\"kind\":\"bis\""), std::string::npos) << audit;
}

TEST_F(BisE2E, ALookAlikeIsRefusedUnlessForcedAndOnlyTheAdminSeesIdentities) {
  StartHub(0);
  const std::string first = CreateAnna();
  auto [conflict, candidates] = Post("cpas", "/v1/bis", std::string(kLookAlike) + "}");
  ASSERT_EQ(conflict, 409) << candidates;
  EXPECT_EQ(candidates.at("error").at("code"), "possible-duplicate");
  EXPECT_EQ(candidates.at("candidates").at(0).at("niss"), first.c_str()) << candidates;
  EXPECT_FALSE(candidates.at("candidates").at(0).as_object().contains("first_names"));

  auto [created, forced] = Post("cpas", "/v1/bis", std::string(kLookAlike) + R"(, "force": true})");
  ASSERT_EQ(created, 201) << forced;
  EXPECT_EQ(forced.at("forced"), true);
  const std::string second(forced.at("niss").as_string());

  // The API holds no read of identities; the admin listener does.
  Result<net::ClientResponse> read = Client("cpas")->GetSync(Api(), "/v1/bis/" + first);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 400) << read->body;
  json::value person = json::parse(AdminGet("/v1/admin/bis?niss=" + first));
  EXPECT_EQ(person.at("last_name"), "Kowalczyk") << person;
  EXPECT_EQ(person.at("created_by"), "cpas");
  json::value found = json::parse(AdminGet("/v1/admin/bis?q=kowalczyk,%20anna"));
  EXPECT_EQ(found.at("persons").as_array().size(), 2u) << found;
  std::string audit = AdminGet("/v1/admin/audit?requester=cpas");
  EXPECT_NE(audit.find("forced=true candidates=" + first), std::string::npos) << audit;

  // The same search from the command line, on the hub's own database.
  auto [exit_code, output] = testing::RunCommand(fmt::format(
      "{} bis search --data {} --name 'Kowalczyk, Anna' 2>/dev/null", testing::Env("CARREFOUR_BINARY"),
      (dir_ / "data-0").string()));
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find(first), std::string::npos) << output;
  EXPECT_NE(output.find(second), std::string::npos) << output;
  EXPECT_NE(output.find("(forced)"), std::string::npos) << output;
}

TEST_F(BisE2E, AnIdentityChangeReachesTheSubscriberAsAMutation) {
  StartHub(0);
  const std::string niss = CreateAnna();
  Integrate("mut-100", "insured", "null", niss);
  net::ClientRequest put;
  put.method = "PUT";
  put.target = "/v1/bis/" + niss;
  put.body =
      R"({"last_name": "Kowalczyk-Nowak", "first_names": "Anna Maria", "birth_date": "1979-10-12", "sex": "f", "nationality": "PL"})";
  Result<net::ClientResponse> changed = Client("cpas")->SendSync(Api(), put);
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->status, 200) << changed->body;
  EXPECT_NE(changed->body.find("\"status\":\"accepted\""), std::string::npos) << changed->body;

  testing::Feed feed = Read("mut-100", "after=0");
  ASSERT_EQ(feed.mutations.size(), 1u) << feed.body;
  EXPECT_EQ(feed.mutations[0].at("source"), "bis");
  EXPECT_EQ(feed.mutations[0].at("data_type"), "person.identity");
  EXPECT_EQ(feed.mutations[0].at("data").at("last_name"), "Kowalczyk-Nowak");
  EXPECT_FALSE(feed.mutations[0].at("data").as_object().contains("nationality"));
}

// Two hub processes on one PostgreSQL database create at the same time:
// every number is distinct and valid, and one person created through both
// at once gets one number (the other creation sees it: 409).
TEST_F(BisE2E, TwoHubsOnPostgresqlNeverGiveANumberTwice) {
  std::unique_ptr<store::testing::TestDatabase> database;
  store::testing::PostgresDatabaseOrSkip(&database);
  if (database == nullptr) return;
  StartHub(0, database->url());
  StartHub(1, database->url());
  constexpr int kEach = 60;
  auto create = [&](size_t hub) {
    std::vector<std::string> numbers;
    for (int i = 0; i < kEach; ++i) {
      // Names differ by a letter or two and share the birth date: force
      // them through, this is about numbers.
      std::string name = fmt::format("Hub{}{}{}", hub == 0 ? "a" : "b", static_cast<char>('a' + i / 26),
                                     static_cast<char>('a' + i % 26));
      auto [status, body] = Post(
          "cpas", "/v1/bis",
          fmt::format(R"({{"last_name": "{}", "birth_date": "1990-03-15", "sex": "m", "force": true}})",
                      name),
          hub);
      EXPECT_EQ(status, 201) << body;
      if (status == 201) numbers.emplace_back(body.at("niss").as_string());
    }
    return numbers;
  };
  std::future<std::vector<std::string>> first = std::async(std::launch::async, create, 0);
  std::future<std::vector<std::string>> second = std::async(std::launch::async, create, 1);
  std::set<std::string> all;
  for (std::future<std::vector<std::string>>* numbers : {&first, &second}) {
    for (const std::string& niss : numbers->get()) {
      EXPECT_TRUE(all.insert(niss).second) << niss << " given twice";
      EXPECT_EQ(niss.substr(0, 6), "904315") << niss;  // 1990, March + 40, the 15th
    }
  }
  EXPECT_EQ(all.size(), size_t{2 * kEach});

  std::future<std::pair<int, json::value>> on_zero =
      std::async(std::launch::async, [&] { return Post("cpas", "/v1/bis", kAnnaIdentity, 0); });
  std::pair<int, json::value> on_one = Post("cpas", "/v1/bis", kAnnaIdentity, 1);
  std::multiset<int> statuses = {on_zero.get().first, on_one.first};
  EXPECT_EQ(statuses, (std::multiset<int>{201, 409}));
}

}  // namespace
}  // namespace carrefour
