// SPDX-License-Identifier: EUPL-1.2
// End-to-end tests of the verifiable audit log (docs/api.md 6.1): real hub
// processes, each with its own data folder, on one store; proofs checked by
// an independent checker (tests/integration/audit_checker.py, written from
// RFC 6962 and the C2SP formats); tampering found on both engines.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

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

class AuditE2E : public testing::HubFixture {
 protected:
  std::unique_ptr<TestDatabase> Database(Engine engine) {
    Result<std::unique_ptr<TestDatabase>> database = TestDatabase::Create(engine);
    if (!database) {
      if (engine == Engine::kPostgres && !store::testing::InCi()) return nullptr;
      ADD_FAILURE() << database.error().ToString();  // CI must test both engines
      return nullptr;
    }
    return std::move(*database);
  }

  // `institution` declares an insured file on a number through `hub`.
  void Declare(size_t hub, const std::string& institution, const std::string& niss) {
    auto [status, body] = Post(
        institution, "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "insured", )"
                    R"("from": "2020-01-01"}}]}})",
                    niss),
        hub);
    ASSERT_EQ(status, 200) << body;
  }

  json::value AdminJson(const std::string& target, size_t hub) {
    std::string body = AdminGet(target, hub);
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    EXPECT_FALSE(ec) << target << ": " << body;
    return parsed;
  }

  std::pair<int, std::string> Cli(const std::string& args) {
    return testing::RunCommand(testing::Env("CARREFOUR_BINARY") + " " + args + " 2>&1");
  }

  // Runs the independent checker on `claim`; its output.
  std::pair<int, std::string> Check(const json::object& claim) {
    std::filesystem::path file = dir_ / "claim.json";
    std::ofstream(file) << json::serialize(claim);
    return testing::RunCommand(fmt::format("python3 {} {} 2>&1", testing::Env("CARREFOUR_SOURCE_DIR") + "/tests/integration/audit_checker.py",
                                           file.string()));
  }

  std::filesystem::path Data(size_t hub) const { return dir_ / fmt::format("data-{}", hub); }
};

// Issue 20: hubs on separate machines (their own data folders) sharing one
// PostgreSQL database each check every node's log, with nothing but the
// store, and none calls another's intact log tampered. The proofs any hub
// gives about another node verify with the independent checker.
TEST_F(AuditE2E, HubsWithSeparateDataFoldersVerifyEachOtherOnPostgresql) {
  std::unique_ptr<TestDatabase> database = Database(Engine::kPostgres);
  if (!database) GTEST_SKIP() << "no PostgreSQL cluster ($CARREFOUR_TEST_POSTGRES)";
  for (size_t hub = 0; hub < 3; ++hub) StartHub(hub, database->url());
  Declare(1, "mut-100", testing::kAnna);
  const std::string early_checkpoint = AdminGet("/v1/admin/audit/checkpoint?node=hub-1", 0);
  for (size_t hub = 0; hub < 3; ++hub) {
    Declare(hub, "mut-200", testing::kAnna);
    Declare(hub, "mut-300", testing::kBruno);
  }
  Declare(1, "cpas", testing::kBruno);

  for (size_t hub = 0; hub < 3; ++hub) {
    SCOPED_TRACE(hub);
    json::value verify = AdminJson("/v1/admin/audit/verify", hub);
    EXPECT_EQ(verify.at("ok"), true) << verify;
    EXPECT_EQ(verify.at("verdict"), "intact") << verify;
    EXPECT_EQ(verify.at("chains").as_array().size(), 3u) << verify;
    EXPECT_EQ(verify.at("records"), 8) << verify;
  }
  auto [code, output] = Cli("audit verify --store '" + database->url() + "'");
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("intact: 8 records in 3 chain(s)"), std::string::npos) << output;
  // Without the data folders' kept checkpoints a cut tail cannot be seen: said, not implied.
  EXPECT_NE(output.find("the end of each log was not checked"), std::string::npos) << output;

  // Hub 0 answers for hub-1's log: its checkpoint, its key, a proof for
  // each of its records, and consistency with an earlier checkpoint.
  const std::string checkpoint = AdminGet("/v1/admin/audit/checkpoint?node=hub-1", 0);
  const std::string key = AdminGet("/v1/admin/audit/key?node=hub-1", 0);
  EXPECT_EQ(key, AdminGet("/v1/admin/audit/key", 1));
  EXPECT_EQ(checkpoint.rfind("carrefour/hub-1\n4\n", 0), 0u) << checkpoint;
  json::object claim{{"verifier_key", key.substr(0, key.find('\n'))},
                     {"checkpoint", checkpoint},
                     {"origin", "carrefour/hub-1"}};
  json::array inclusion;
  json::value records = AdminJson("/v1/admin/audit?limit=100", 2);
  std::set<int64_t> indexes;
  for (const json::value& record : records.at("records").as_array()) {
    if (record.at("node") != "hub-1") continue;
    int64_t index = record.at("index").as_int64();
    indexes.insert(index);
    json::value proof = AdminJson(fmt::format("/v1/admin/audit/proof?node=hub-1&index={}&size=4", index), 0);
    EXPECT_EQ(proof.at("leaf_hash"), record.at("leaf_hash")) << proof;
    inclusion.push_back(proof);
  }
  EXPECT_EQ(indexes, (std::set<int64_t>{0, 1, 2, 3}));
  claim["inclusion"] = std::move(inclusion);
  json::value consistency = AdminJson("/v1/admin/audit/consistency?node=hub-1&from=1&to=4", 0);
  consistency.as_object()["old_checkpoint"] = early_checkpoint;
  claim["consistency"] = json::array{consistency};
  auto [checked, checker_output] = Check(claim);
  EXPECT_EQ(checked, 0) << checker_output;
  EXPECT_EQ(checker_output, "ok\n");

  // The checker is not a yes-machine: a proof for another leaf fails.
  claim["inclusion"].as_array()[0].as_object()["leaf_hash"] =
      claim["inclusion"].as_array()[1].at("leaf_hash");
  auto [refused, refused_output] = Check(claim);
  EXPECT_EQ(refused, 1) << refused_output;

  // One changed byte in hub-1's log, behind the hubs' back: every hub and
  // the command name the record.
  ASSERT_TRUE(database->Execute("ALTER TABLE audit_record DISABLE TRIGGER USER").ok());
  ASSERT_TRUE(database
                  ->Execute("UPDATE audit_record SET requester = 'mut-101' "
                            "WHERE node = 'hub-1' AND seq = 3")
                  .ok());
  for (size_t hub = 0; hub < 3; ++hub) {
    json::value verify = AdminJson("/v1/admin/audit/verify", hub);
    EXPECT_EQ(verify.at("verdict"), "broken") << verify;
    EXPECT_EQ(std::string(verify.at("first_bad").as_string()).rfind("node hub-1, record 3:", 0), 0u)
        << verify;
  }
  auto [bad, bad_output] = Cli("audit verify --store '" + database->url() + "'");
  EXPECT_EQ(bad, 1) << bad_output;
  EXPECT_NE(bad_output.find("BROKEN: node hub-1, record 3"), std::string::npos) << bad_output;
  hubs_.clear();  // the hubs close their connections before the database is dropped
}

// Issue 22: what used to fool the verifier, on both engines.
class AuditTamperE2E : public AuditE2E, public ::testing::WithParamInterface<Engine> {};

TEST_P(AuditTamperE2E, VerificationCannotBeFooled) {
  std::unique_ptr<TestDatabase> database = Database(GetParam());
  if (!database) GTEST_SKIP() << "no PostgreSQL cluster ($CARREFOUR_TEST_POSTGRES)";
  const bool postgres = GetParam() == Engine::kPostgres;
  StartHub(0, database->url());
  for (const char* institution : {"mut-100", "mut-200", "mut-300", "cpas", "fund"}) {
    Declare(0, institution, testing::kAnna);
  }
  StopHub(0);
  const std::string verify = fmt::format("audit verify --store '{}'", database->url());
  // With the data folder too: the node's key file says it must be there,
  // its kept checkpoint what the store must extend.
  const std::string verify_data = verify + fmt::format(" --data '{}'", Data(0).string());
  auto [intact, intact_output] = Cli(verify_data);
  ASSERT_EQ(intact, 0) << intact_output;

  // Checkpoints and keys are append-only, like the records.
  EXPECT_FALSE(database->Execute("DELETE FROM audit_tree_head WHERE tree_size = 5").ok());
  EXPECT_FALSE(database->Execute("UPDATE audit_tree_head SET root = '' WHERE tree_size = 5").ok());
  EXPECT_FALSE(database->Execute("DELETE FROM audit_node_key").ok());
  if (postgres) {
    EXPECT_FALSE(database->Execute("TRUNCATE audit_tree_head").ok());
  }

  auto disable = [&](const std::string& table) {
    if (postgres) {
      ASSERT_TRUE(database->Execute("ALTER TABLE " + table + " DISABLE TRIGGER USER").ok());
    } else {
      ASSERT_TRUE(database->Execute("DROP TRIGGER IF EXISTS " + table + "_no_delete").ok());
      ASSERT_TRUE(database->Execute("DROP TRIGGER IF EXISTS " + table + "_no_update").ok());
    }
  };
  disable("audit_record");
  disable("audit_tree_head");
  disable("audit_node_key");

  // Records on a node that has no checkpoint at all (another node's log,
  // its checkpoints and key removed).
  StartHub(1, database->url());
  Declare(1, "mut-100", testing::kBruno);
  StopHub(1);
  ASSERT_TRUE(database->Execute("DELETE FROM audit_tree_head WHERE node = 'hub-1'").ok());
  ASSERT_TRUE(database->Execute("DELETE FROM audit_node_key WHERE node = 'hub-1'").ok());
  auto [forged, forged_output] = Cli(verify);
  EXPECT_EQ(forged, 1) << forged_output;
  EXPECT_NE(forged_output.find("node hub-1, record 1: not covered by any checkpoint"), std::string::npos)
      << forged_output;
  ASSERT_TRUE(database->Execute("DELETE FROM audit_record WHERE node = 'hub-1'").ok());

  // The tail cut together with its checkpoints: an old, valid state
  // replayed. The store alone cannot tell; the checkpoint the node kept in
  // its data folder can, and the node refuses to start on it.
  ASSERT_TRUE(database->Execute("DELETE FROM audit_record WHERE node = 'hub-0' AND seq > 3").ok());
  ASSERT_TRUE(database->Execute("DELETE FROM audit_tree_head WHERE node = 'hub-0' AND tree_size > 3").ok());
  auto [cut, cut_output] = Cli(verify_data);
  EXPECT_EQ(cut, 1) << cut_output;
  EXPECT_NE(cut_output.find("a checkpoint seen before covers 5"), std::string::npos) << cut_output;
  auto [cut_alone, cut_alone_output] = Cli(verify);
  EXPECT_EQ(cut_alone, 0) << cut_alone_output;  // nothing in the store itself says so
  EXPECT_EQ(Cli("hub --network " + (dir_ / "network.toml").string() + " --data " + Data(0).string() +
                " --store '" + database->url() + "' --node hub-0 --listen 127.0.0.1:0 --admin ''")
                .first,
            1);
  auto [cut_again, cut_again_output] = Cli(verify);
  EXPECT_EQ(cut_again, 0) << cut_again_output;  // the refused start wrote nothing

  // Without a node's published key nothing proves its checkpoints genuine:
  // "not verifiable", and a non-zero exit.
  ASSERT_TRUE(database->Execute("DELETE FROM audit_node_key").ok());
  auto [keyless, keyless_output] = Cli(verify);
  EXPECT_EQ(keyless, 1) << keyless_output;
  EXPECT_NE(keyless_output.find("NOT VERIFIABLE"), std::string::npos) << keyless_output;
  EXPECT_NE(keyless_output.find("node hub-0: no published key"), std::string::npos) << keyless_output;
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditTamperE2E,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& param_info) {
                           return std::string(store::testing::EngineName(param_info.param));
                         });

}  // namespace
}  // namespace carrefour
