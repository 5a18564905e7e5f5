// SPDX-License-Identifier: EUPL-1.2
// POST /v1/directory/entries as the hub reads, applies and answers it
// (integration/entries.h), on both engines.

#include "integration/entries.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "integration/testing.h"

namespace carrefour::integration {
namespace {

using ::testing::HasSubstr;

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "mut-100"
type = "mutuality"
)";

Date Today() { return *Date::FromCivil(2024, 6, 1); }

class EntriesTest : public testing::NetworkStoreTest {
 protected:
  EntriesTest() : NetworkStoreTest(kNetwork) {}

  // Reads and applies `body` as mut-100: the answer, or the refusal.
  Result<std::string> Post(std::string_view body) {
    const network::Institution& caller = *definition_.FindInstitution("mut-100");
    Result<EntriesBatch> batch = ReadEntries(body, definition_, caller, Today());
    if (!batch) return Error(batch.error());
    Status applied = ApplyEntries(&*batch, store_->directory());
    if (!applied.ok()) return Error(applied);
    return WriteEntriesAnswer(*batch);
  }
};

TEST_P(EntriesTest, AppliesTheValidEntriesAndRejectsEachOtherOnItsOwn) {
  Result<std::string> answer = Post(R"({"entries": [
      {"action": "add", "niss": "85.07.30-033.28", "capacity": "insured", "from": "2024-01-01", "to": null},
      {"action": "add", "niss": "85073003328", "capacity": "employee", "from": "2024-01-01"},
      {"action": "close", "niss": "85073003328", "capacity": "insured", "from": "2019-01-01", "to": "2024-12-31"},
      {"action": "move", "niss": "85073003328", "capacity": "insured", "from": "2024-01-01"},
      "an entry",
      {"action": "add", "niss": "85073003328", "capacity": "insured", "from": "2024-02-30"}]})");
  ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
  boost::json::array results = boost::json::parse(*answer).at("results").as_array();
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].at("status"), "ok");
  const std::vector<std::string> codes = {"", "capacity-not-allowed", "not-found", "invalid-request",
                                          "invalid-request", "invalid-period"};
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].at("index").to_number<size_t>(), i);
    if (i == 0) continue;
    EXPECT_EQ(results[i].at("status"), "rejected") << i;
    EXPECT_EQ(results[i].at("error").at("code"), codes[i].c_str()) << i;
  }
  Result<std::vector<directory::Entry>> stored = store_->directory().EntriesOfPerson("85073003328");
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].institution, "mut-100");
  EXPECT_EQ((*stored)[0].period.from, *Date::FromCivil(2024, 1, 1));
}

TEST_P(EntriesTest, RefusesABatchItCannotReadWhole) {
  EXPECT_EQ(Post("{").error().code(), StatusCode::kInvalidJson);
  EXPECT_EQ(Post("[]").error().code(), StatusCode::kInvalidRequest);
  EXPECT_THAT(Post(R"({"entries": [], "more": 1})").error().message(), HasSubstr("'more'"));
  EXPECT_THAT(Post(R"({"entries": {}})").error().message(), HasSubstr("'entries' must be a list"));
  std::string big = R"({"entries": [)";
  for (size_t i = 0; i <= kMaxEntriesPerBatch; ++i) big += i == 0 ? "1" : ",1";
  big += "]}";
  EXPECT_THAT(Post(big).error().message(), HasSubstr("10001 entries in one batch; the limit is 10000"));
  Result<std::string> empty = Post(R"({"entries": []})");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, R"({"results":[]})");
}

INSTANTIATE_TEST_SUITE_P(Engines, EntriesTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::integration
