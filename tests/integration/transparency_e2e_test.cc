// SPDX-License-Identifier: EUPL-1.2
// End-to-end tests of the citizens' transparency view (docs/api.md 4.6): a real
// hub process on SQLite and on PostgreSQL, a citizen portal (mydata) reading
// a person's view over mutual TLS; the answer compared with what was done,
// its leaf hashes checked by the independent checker
// (tests/integration/audit_checker.py) against the checkpoint it carries, and
// by `carrefour transparency verify`.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <tuple>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "store/testing/store_test_fixture.h"
#include "store/testing/test_database.h"
#include "tests/integration/hub_fixture.h"

namespace carrefour {
namespace {

namespace json = boost::json;
using store::testing::Engine;
using store::testing::TestDatabase;
using testing::kAnna;
using testing::kBruno;

// The mutations network, with a citizen portal allowed to read views.
const std::string kPortalNetwork = std::string(testing::kMutationsNetwork) + R"(
[[institution_type]]
id = "citizen-portal"
capacities = []

[[institution]]
id = "mydata"
type = "citizen-portal"
name = "MyData portal"

[[transparency_access]]
requester = "mydata"
legal_basis = "ISC/22/050"
from = 2022-01-01
)";

class TransparencyE2E : public testing::HubFixture, public ::testing::WithParamInterface<Engine> {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New(
        {"hub", "nr", "mut-100", "mut-200", "mut-300", "cpas", "fund", "mydata"});
  }

  void SetUp() override {
    HubFixture::SetUp();
    std::ofstream(dir_ / "network.toml") << kPortalNetwork;
    if (GetParam() == Engine::kPostgres) {
      Result<std::unique_ptr<TestDatabase>> database = TestDatabase::Create(Engine::kPostgres);
      if (!database) {
        if (!store::testing::InCi()) GTEST_SKIP() << "no PostgreSQL cluster ($CARREFOUR_TEST_POSTGRES)";
        FAIL() << database.error().ToString();  // CI must test both engines
      }
      database_ = std::move(*database);
    }
    StartHub(0, database_ ? database_->url() : "");
  }

  void Declare(const std::string& institution, const std::string& capacity, const std::string& niss) {
    auto [status, body] = Post(
        institution, "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "{}", "from": "2020-01-01"}}]}})",
                    niss, capacity));
    ASSERT_EQ(status, 200) << body;
  }

  // A consultation of person.address; its HTTP status.
  int Consult(const std::string& as, const std::string& niss) {
    auto [status, body] =
        Post(as, "/v1/consultations", fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", niss));
    return status;
  }

  std::pair<int, std::string> View(const std::string& as, const std::string& query) {
    Result<net::ClientResponse> response = Client(as)->GetSync(Api(), "/v1/transparency" + query);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, ""};
    return {response->status, response->body};
  }

  std::pair<int, std::string> Run(const std::string& command) {
    return testing::RunCommand(command + " 2>&1");
  }

  std::unique_ptr<TestDatabase> database_;
};

TEST_P(TransparencyE2E, TheViewIsExactlyWhatWasDoneAndItsLeavesAreInTheCheckpoint) {
  Declare("mut-100", "insured", kAnna);
  Declare("cpas", "beneficiary", kAnna);
  Declare("fund", "child-beneficiary", kAnna);
  Declare("mut-100", "insured", kBruno);

  // Granted (the providers are unreachable: 503, still carried out) and
  // refused consultations of Anna's data, and one of Bruno's.
  EXPECT_EQ(Consult("mut-100", kAnna), 503);
  EXPECT_EQ(Consult("cpas", kAnna), 503);
  EXPECT_EQ(Consult("mut-100", kAnna), 503);
  EXPECT_EQ(Consult("fund", kAnna), 403);     // its authorization ended in 2021
  EXPECT_EQ(Consult("mut-200", kAnna), 403);  // no file on Anna
  EXPECT_EQ(Consult("mut-100", kBruno), 503);
  const std::multiset<std::tuple<std::string, std::string, std::string, std::string, std::string>> made = {
      {"mut-100", "Mutuality 100", "ISC/24/001", "answered", ""},
      {"mut-100", "Mutuality 100", "ISC/24/001", "answered", ""},
      {"cpas", "Welfare centre", "ISC/24/003", "answered", ""},
      {"fund", "Allowance fund", "", "refused", "not-authorized"},
      {"mut-200", "Mutuality 200", "", "refused", "not-integrated"},
  };

  // Nobody but the portal; a bad number; no number. Each call audited.
  auto [forbidden, forbidden_body] = View("mut-100", std::string("?niss=") + kAnna);
  EXPECT_EQ(forbidden, 403);
  EXPECT_NE(forbidden_body.find("\"not-authorized\""), std::string::npos) << forbidden_body;
  auto [bad, bad_body] = View("mydata", "?niss=85073003329");
  EXPECT_EQ(bad, 400);
  EXPECT_NE(bad_body.find("\"invalid-niss\""), std::string::npos) << bad_body;
  auto [missing, missing_body] = View("mydata", "");
  EXPECT_EQ(missing, 400);
  EXPECT_NE(missing_body.find("\"invalid-request\""), std::string::npos) << missing_body;

  auto [status, text] = View("mydata", "?niss=85.07.30-033.28");
  ASSERT_EQ(status, 200) << text;
  json::object view = json::parse(text).as_object();
  EXPECT_EQ(view.at("niss"), kAnna);

  std::multiset<std::tuple<std::string, std::string, std::string, std::string, std::string>> shown;
  for (const json::value& item : view.at("consultations").as_array()) {
    EXPECT_EQ(item.at("data_type"), "person.address") << item;
    EXPECT_TRUE(item.at("time").as_string().ends_with("Z")) << item;
    const json::value* code = item.as_object().if_contains("code");
    shown.emplace(std::string(item.at("requester").as_string()),
                  std::string(item.at("requester_name").as_string()),
                  std::string(item.at("legal_basis").as_string()), std::string(item.at("outcome").as_string()),
                  code != nullptr ? std::string(code->as_string()) : std::string());
  }
  EXPECT_EQ(shown, made) << text;

  // Who would receive a change about Anna today: the mutuality, for both
  // data types it subscribed to; not the fund (authorization ended), not
  // the welfare centre (not subscribed).
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> subscriptions;
  for (const json::value& item : view.at("subscriptions").as_array()) {
    subscriptions.emplace(std::string(item.at("institution").as_string()),
                          std::string(item.at("institution_name").as_string()),
                          std::string(item.at("data_type").as_string()), std::string(item.at("capacity").as_string()),
                          std::string(item.at("legal_basis").as_string()));
  }
  EXPECT_EQ(subscriptions,
            (std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>>{
                {"mut-100", "Mutuality 100", "person.address", "insured", "ISC/24/001"},
                {"mut-100", "Mutuality 100", "person.niss-replaced", "insured", "ISC/24/002"}}))
      << text;

  // Every index and leaf hash is the audit log's, and the independent
  // checker finds each leaf in the tree of the checkpoint the answer holds.
  const std::string key_line = AdminGet("/v1/admin/audit/key");
  const std::string key = key_line.substr(0, key_line.find('\n'));
  json::value records = json::parse(AdminGet(std::string("/v1/admin/audit?kind=consultation&niss=") + kAnna));
  std::set<std::pair<int64_t, std::string>> logged, listed;
  for (const json::value& record : records.at("records").as_array()) {
    logged.emplace(record.at("index").as_int64(), std::string(record.at("leaf_hash").as_string()));
  }
  json::array inclusion;
  for (const json::value& item : view.at("consultations").as_array()) {
    listed.emplace(item.at("index").as_int64(), std::string(item.at("leaf_hash").as_string()));
    inclusion.push_back(json::object{{"index", item.at("index")},
                                     {"tree_size", item.at("tree_size")},
                                     {"leaf_hash", item.at("leaf_hash")},
                                     {"proof", item.at("inclusion_proof")}});
  }
  EXPECT_EQ(listed, logged);
  json::object claim{{"verifier_key", key},
                     {"checkpoint", view.at("checkpoint")},
                     {"origin", "carrefour/hub-0"},
                     {"inclusion", inclusion}};
  const std::filesystem::path claim_file = dir_ / "claim.json";
  std::ofstream(claim_file) << json::serialize(claim);
  const std::string checker =
      testing::Env("CARREFOUR_SOURCE_DIR") + "/tests/integration/audit_checker.py";
  auto [checked, checker_output] = Run(fmt::format("python3 {} {}", checker, claim_file.string()));
  EXPECT_EQ(checked, 0) << checker_output;
  EXPECT_EQ(checker_output, "ok\n");

  // The same answer, saved, verifies offline with the node's key...
  const std::filesystem::path saved = dir_ / "view.json";
  std::ofstream(saved) << text;
  const std::string binary = testing::Env("CARREFOUR_BINARY");
  auto [verified, verify_output] =
      Run(fmt::format("{} transparency verify {} --key '{}'", binary, saved.string(), key));
  EXPECT_EQ(verified, 0) << verify_output;
  EXPECT_NE(verify_output.find("verified: 5 consultation(s)"), std::string::npos) << verify_output;
  EXPECT_NE(verify_output.find("the list complete in the person index of 1 node(s)"), std::string::npos)
      << verify_output;
  // The independent checker agrees, completeness included.
  auto [whole, whole_output] =
      Run(fmt::format("python3 {} --transparency {} '{}'", checker, saved.string(), key));
  EXPECT_EQ(whole, 0) << whole_output;
  EXPECT_EQ(whole_output, "ok\n");

  // A consultation dropped from the answer: every remaining one is still in
  // the log, but the signed person index shows the list incomplete.
  json::object dropped = view;
  dropped["consultations"].as_array().erase(dropped["consultations"].as_array().begin() + 2);
  const std::filesystem::path dropped_file = dir_ / "dropped.json";
  std::ofstream(dropped_file) << json::serialize(dropped);
  auto [incomplete, incomplete_output] =
      Run(fmt::format("{} transparency verify {} --key '{}'", binary, dropped_file.string(), key));
  EXPECT_EQ(incomplete, 1) << incomplete_output;
  EXPECT_NE(incomplete_output.find("node hub-0: the answer lists 4 record(s) of the person in its log, its "
                                   "signed person index holds 5: a record was left out"),
            std::string::npos)
      << incomplete_output;
  auto [checker_incomplete, checker_incomplete_output] =
      Run(fmt::format("python3 {} --transparency {} '{}'", checker, dropped_file.string(), key));
  EXPECT_EQ(checker_incomplete, 1) << checker_incomplete_output;
  EXPECT_NE(checker_incomplete_output.find("node hub-0: the records listed are not all"), std::string::npos)
      << checker_incomplete_output;

  // ...and not with a leaf hash that is not the log's, nor without the key.
  json::object tampered = view;
  json::object& first = tampered["consultations"].as_array()[0].as_object();
  std::string leaf(first.at("leaf_hash").as_string());
  leaf[0] = leaf[0] == '0' ? '1' : '0';
  first["leaf_hash"] = leaf;
  std::ofstream(saved, std::ios::trunc) << json::serialize(tampered);
  auto [rejected, rejected_output] =
      Run(fmt::format("{} transparency verify {} --key '{}'", binary, saved.string(), key));
  EXPECT_EQ(rejected, 1) << rejected_output;
  EXPECT_NE(rejected_output.find("consultation 0 (index"), std::string::npos) << rejected_output;
  EXPECT_NE(rejected_output.find("is not in the checkpoint's tree"), std::string::npos) << rejected_output;
  claim["inclusion"].as_array()[0].as_object()["leaf_hash"] = leaf;
  std::ofstream(claim_file, std::ios::trunc) << json::serialize(claim);
  auto [refused, refused_output] = Run(fmt::format("python3 {} {}", checker, claim_file.string()));
  EXPECT_EQ(refused, 1) << refused_output;

  // Every call was audited, the refused ones with their code.
  json::value reads = json::parse(AdminGet("/v1/admin/audit?kind=transparency"));
  std::multiset<std::pair<std::string, std::string>> audited;
  for (const json::value& record : reads.at("records").as_array()) {
    audited.emplace(std::string(record.at("requester").as_string()), std::string(record.at("outcome").as_string()));
  }
  EXPECT_EQ(audited, (std::multiset<std::pair<std::string, std::string>>{{"mut-100", "not-authorized"},
                                                                         {"mydata", "invalid-niss"},
                                                                         {"mydata", "invalid-request"},
                                                                         {"mydata", "ok"}}))
      << reads;

  // A second read lists the same consultations (reading is not consulting),
  // and so does the admin view that the console's person page shows (their
  // proofs are against later checkpoints: the reads were audited meanwhile).
  auto entries = [](const json::value& answer) {
    std::multiset<std::string> out;
    for (const json::value& item : answer.at("consultations").as_array()) {
      json::object copy = item.as_object();
      copy.erase("tree_size");
      copy.erase("inclusion_proof");
      out.insert(json::serialize(copy));
    }
    return out;
  };
  auto [again, again_text] = View("mydata", std::string("?niss=") + kAnna);
  ASSERT_EQ(again, 200);
  EXPECT_EQ(entries(json::parse(again_text)), entries(view));
  json::value admin = json::parse(AdminGet(std::string("/v1/admin/transparency?niss=") + kAnna));
  EXPECT_EQ(entries(admin), entries(view));
  EXPECT_EQ(admin.at("subscriptions"), view.at("subscriptions"));
}

// Two hub processes on one PostgreSQL database: each writes its own log, and
// either answers with the records of both, each proved against its own
// node's checkpoint; the answer verifies with both nodes' keys, not with one.
TEST_P(TransparencyE2E, RecordsOfEveryNodeAreListedAndProvedAgainstTheirNodesCheckpoint) {
  if (GetParam() != Engine::kPostgres) GTEST_SKIP() << "several hubs share a PostgreSQL database";
  StartHub(1, database_->url());
  Declare("mut-100", "insured", kAnna);
  EXPECT_EQ(Consult("mut-100", kAnna), 503);  // through hub 0
  auto [status1, body1] = Post("mut-200", "/v1/consultations",
                               fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna), 1);
  EXPECT_EQ(status1, 403) << body1;  // through hub 1: not-integrated

  auto [status, text] = View("mydata", std::string("?niss=") + kAnna);
  ASSERT_EQ(status, 200) << text;
  json::object view = json::parse(text).as_object();
  std::set<std::pair<std::string, std::string>> shown;
  for (const json::value& item : view.at("consultations").as_array()) {
    shown.emplace(std::string(item.at("node").as_string()), std::string(item.at("requester").as_string()));
  }
  EXPECT_EQ(shown, (std::set<std::pair<std::string, std::string>>{{"hub-0", "mut-100"}, {"hub-1", "mut-200"}}));
  EXPECT_EQ(view.at("checkpoints").as_object().size(), 2u) << text;

  auto key_of = [this](size_t hub) {
    std::string key = AdminGet("/v1/admin/audit/key", hub);
    return key.substr(0, key.find('\n'));
  };
  const std::filesystem::path saved = dir_ / "view.json";
  std::ofstream(saved) << text;
  const std::string binary = testing::Env("CARREFOUR_BINARY");
  auto [both, both_output] = Run(fmt::format("{} transparency verify {} --key '{}' --key '{}'", binary,
                                             saved.string(), key_of(0), key_of(1)));
  EXPECT_EQ(both, 0) << both_output;
  EXPECT_NE(both_output.find("verified: 2 consultation(s) included in 2 signed checkpoint(s), the list complete "
                             "in the person index of 2 node(s)"),
            std::string::npos)
      << both_output;
  const std::string checker =
      testing::Env("CARREFOUR_SOURCE_DIR") + "/tests/integration/audit_checker.py";
  auto [checked, checked_output] =
      Run(fmt::format("python3 {} --transparency {} '{}' '{}'", checker, saved.string(), key_of(0), key_of(1)));
  EXPECT_EQ(checked, 0) << checked_output;
  // Hub 1's consultation left out: its node's index shows it.
  json::object dropped = view;
  json::array& list = dropped["consultations"].as_array();
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->at("node") == "hub-1") {
      list.erase(it);
      break;
    }
  }
  std::ofstream(saved, std::ios::trunc) << json::serialize(dropped);
  auto [incomplete, incomplete_output] = Run(fmt::format("{} transparency verify {} --key '{}' --key '{}'", binary,
                                                         saved.string(), key_of(0), key_of(1)));
  EXPECT_EQ(incomplete, 1) << incomplete_output;
  EXPECT_NE(incomplete_output.find("node hub-1: the answer lists 0 record(s) of the person in its log, its signed "
                                   "person index holds 1: a record was left out"),
            std::string::npos)
      << incomplete_output;
  std::ofstream(saved, std::ios::trunc) << text;
  auto [one, one_output] =
      Run(fmt::format("{} transparency verify {} --key '{}'", binary, saved.string(), key_of(0)));
  EXPECT_EQ(one, 1) << one_output;
  EXPECT_NE(one_output.find("checkpoint of node hub-1: no key given for carrefour/hub-1"), std::string::npos)
      << one_output;
}

INSTANTIATE_TEST_SUITE_P(Engines, TransparencyE2E, ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param_info) {
                           return param_info.param == Engine::kSqlite ? "Sqlite" : "Postgresql";
                         });

}  // namespace
}  // namespace carrefour
