// SPDX-License-Identifier: EUPL-1.2
// The directory's copy in memory in real hub processes (docs/architecture.md,
// "The directory in memory"): decisions come from memory, and a file closed
// through any hub is honoured by that hub's next consultation and by every
// other hub on the same PostgreSQL database within 1 s. Also on SQLite,
// where `carrefour directory import` writes the hub's file beside it.
//
// The network's providers are unreachable on purpose: a granted
// consultation is answered 503 (every provider failed), a refused one 403.
// That difference is all these tests need to see which decision was made.

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "store/testing/store_test_fixture.h"
#include "store/testing/test_database.h"
#include "tests/integration/hub_fixture.h"

namespace carrefour {
namespace {

using namespace std::chrono_literals;

class DirectoryCopyE2E : public testing::HubFixture {
 protected:
  // Anna's address through hub `hub`, as mut-100: 503 when granted (the
  // provider cannot be reached), 403 when refused.
  std::pair<int, std::string> Consult(size_t hub) {
    auto [status, body] = Post("mut-100", "/v1/consultations",
                               fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})",
                                           testing::kAnna),
                               hub);
    std::string code;
    if (status == 403) code = std::string(body.at("error").at("code").as_string());
    return {status, code};
  }

  double FromMemory(size_t hub) {
    const std::string metrics = AdminGet("/metrics", hub);
    const std::string needle = "carrefour_directory_copy_decisions_total{source=\"memory\"} ";
    const size_t at = metrics.find(needle);
    return at == std::string::npos ? -1 : std::stod(metrics.substr(at + needle.size()));
  }

  // Consults through `hub` until a decision came from memory (the copy has
  // loaded and caught up); every answer on the way must be `status`.
  void ExpectFromMemory(size_t hub, int status) {
    const double before = FromMemory(hub);
    const auto guard = std::chrono::steady_clock::now() + 60s;
    while (true) {
      EXPECT_EQ(Consult(hub).first, status) << "hub " << hub;
      if (FromMemory(hub) > before) return;
      ASSERT_LT(std::chrono::steady_clock::now(), guard) << "hub " << hub << " never decided from memory";
      std::this_thread::sleep_for(20ms);
    }
  }

  void Close(size_t hub) {
    auto [status, body] = Post(
        "mut-100", "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "close", "niss": "{}", "capacity": "insured", )"
                    R"("from": "2020-01-01", "to": "2021-12-31"}}]}})",
                    testing::kAnna),
        hub);
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body.at("results").at(0).at("status"), "ok") << body;
  }
};

TEST_F(DirectoryCopyE2E, AFileClosedThroughOneHubIsHonouredByTheOtherWithinASecond) {
  std::unique_ptr<store::testing::TestDatabase> database;
  store::testing::PostgresDatabaseOrSkip(&database);
  if (database == nullptr) return;
  StartHub(0, database->url());
  StartHub(1, database->url());
  Integrate("mut-100", "insured");  // through hub 0
  const auto integrated = std::chrono::steady_clock::now();
  ExpectFromMemory(0, 503);
  // Hub 1 learns of the file from the change log; before 1 s has passed it
  // may still refuse.
  std::this_thread::sleep_until(integrated + 1s);
  ExpectFromMemory(1, 503);

  Close(0);
  const auto closed = std::chrono::steady_clock::now();
  // Hub 0 wrote it: its very next decision honours it.
  EXPECT_EQ(Consult(0), (std::pair<int, std::string>{403, "not-integrated"}));
  // Hub 1: at the latest 1 s after the close was acknowledged, whether its
  // copy has caught up by then (a decision from memory) or not (from the
  // store).
  std::this_thread::sleep_until(closed + 1s);
  EXPECT_EQ(Consult(1), (std::pair<int, std::string>{403, "not-integrated"}));
  ExpectFromMemory(1, 403);

  // And the other way round: the file removed and declared again through
  // hub 1 reaches hub 0.
  for (const char* action : {"remove", "add"}) {
    auto [status, body] = Post(
        "mut-100", "/v1/directory/entries",
        fmt::format(R"({{"entries": [{{"action": "{}", "niss": "{}", "capacity": "insured", )"
                    R"("from": "2020-01-01", "to": null}}]}})",
                    action, testing::kAnna),
        1);
    ASSERT_EQ(status, 200) << body;
    ASSERT_EQ(body.at("results").at(0).at("status"), "ok") << body;
  }
  const auto reopened = std::chrono::steady_clock::now();
  EXPECT_EQ(Consult(1).first, 503);
  std::this_thread::sleep_until(reopened + 1s);
  EXPECT_EQ(Consult(0).first, 503);
  ExpectFromMemory(0, 503);
}

TEST_F(DirectoryCopyE2E, AnImportBesideARunningHubReachesItsCopy) {
  StartHub(0);
  ExpectFromMemory(0, 403);  // nobody has a file on Anna yet
  std::ofstream(dir_ / "files.csv") << "institution,niss,capacity,from,to\n"
                                    << "mut-100," << testing::kAnna << ",insured,2020-01-01,\n";
  const std::string command = fmt::format(
      "{} directory import --network {} --store sqlite:{} --file {} > {} 2>&1",
      testing::Env("CARREFOUR_BINARY"), (dir_ / "network.toml").string(),
      (dir_ / "data-0" / "hub.db").string(), (dir_ / "files.csv").string(),
      (dir_ / "import.log").string());
  ASSERT_EQ(std::system(command.c_str()), 0) << "see " << dir_ / "import.log";
  const auto imported = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(imported + 1s);
  EXPECT_EQ(Consult(0).first, 503) << "the imported file was not honoured after 1 s";
  ExpectFromMemory(0, 503);
}

}  // namespace
}  // namespace carrefour
