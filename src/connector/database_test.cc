// SPDX-License-Identifier: EUPL-1.2
// The connector's SQL layer on both engines: named parameters bound (never
// spliced), values typed, savepoints, timeouts, clean errors.

#include "connector/database.h"

#include <gtest/gtest.h>

#include <fstream>

#include "store/testing/store_test_fixture.h"

namespace carrefour::connector {
namespace {

TEST(ParameterNames, SkipsStringsCommentsAndCasts) {
  EXPECT_EQ(ParameterNames("SELECT a FROM t WHERE n = :niss AND d <= :to AND d >= :from "
                           "AND n = :niss"),
            (std::vector<std::string>{"niss", "to", "from"}));
  EXPECT_EQ(ParameterNames("SELECT ':not', \":nor\", x::text -- :comment\n FROM t /* :x */ "
                           "WHERE y = :yes"),
            (std::vector<std::string>{"yes"}));
  EXPECT_EQ(ParameterNames("SELECT $tag$ :inside $tag$, $1, 'it''s :q' WHERE a = :a"),
            (std::vector<std::string>{"a"}));
}

TEST(ToPositional, NumbersEachNameOnce) {
  auto [sql, names] = ToPositional("SELECT :b, :a::int, ':c', :b");
  EXPECT_EQ(sql, "SELECT $1, $2::int, ':c', $1");
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a"}));
}

TEST(DatabaseOpen, RefusesUnknownSchemesAndMissingFiles) {
  Result<std::unique_ptr<Database>> unknown = Database::Open("mysql://x");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kInvalidRequest);
  Result<std::unique_ptr<Database>> missing = Database::Open("sqlite:/nonexistent/x.db");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("does not exist"), std::string::npos);
}

class ConnectorDatabaseTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The connector never creates an institution's database: make the file.
    if (database().url().starts_with("sqlite:")) std::ofstream(database().url().substr(7));
    ASSERT_TRUE(database()
                    .Execute("CREATE TABLE address (niss TEXT, street TEXT, since TEXT, "
                             "floor BIGINT, ratio DOUBLE PRECISION)")
                    .ok());
    auto db = Database::Open(database().url());
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    auto session = db_->Connect();
    ASSERT_TRUE(session) << session.error().ToString();
    session_ = std::move(*session);
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<Session> session_;
};

TEST_P(ConnectorDatabaseTest, BindsNamedParametersAndTypesValues) {
  const char* insert =
      "INSERT INTO address (niss, street, since, floor, ratio) "
      "VALUES (:niss, :street, :since, :floor, :ratio)";
  ASSERT_TRUE(session_->Execute(insert, {{"niss", std::string("85073003328")},
                                         {"street", std::string("Rue Neuve 1'; DROP TABLE x; --")},
                                         {"since", std::string("2024-05-01")},
                                         {"floor", int64_t{3}},
                                         {"ratio", 0.5}}));
  // A parameter not given binds NULL.
  ASSERT_TRUE(session_->Execute(insert, {{"niss", std::string("90010100123")}}));

  auto rows = session_->Execute(
      "SELECT street, floor, ratio, since FROM address WHERE niss = :niss", {{"niss", std::string("85073003328")}});
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"street", "floor", "ratio", "since"}));
  EXPECT_EQ(std::get<std::string>(rows->rows[0][0]), "Rue Neuve 1'; DROP TABLE x; --");
  EXPECT_EQ(std::get<int64_t>(rows->rows[0][1]), 3);
  EXPECT_DOUBLE_EQ(std::get<double>(rows->rows[0][2]), 0.5);

  auto nulls = session_->Execute("SELECT street FROM address WHERE niss = :niss",
                                 {{"niss", std::string("90010100123")}});
  ASSERT_TRUE(nulls);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(nulls->rows.at(0).at(0)));
}

TEST_P(ConnectorDatabaseTest, SavepointUndoesOneStatementOnly) {
  ASSERT_TRUE(session_->Execute("CREATE TABLE once (k TEXT PRIMARY KEY)", {}));
  ASSERT_TRUE(session_->Begin().ok());
  ASSERT_TRUE(session_->Execute("INSERT INTO once (k) VALUES (:k)", {{"k", std::string("a")}}));
  ASSERT_TRUE(session_->Savepoint("s").ok());
  auto duplicate = session_->Execute("INSERT INTO once (k) VALUES (:k)", {{"k", std::string("a")}});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code(), StatusCode::kInternal);
  ASSERT_TRUE(session_->RollbackTo("s").ok());
  ASSERT_TRUE(session_->Release("s").ok());
  ASSERT_TRUE(session_->Execute("INSERT INTO once (k) VALUES (:k)", {{"k", std::string("b")}}));
  ASSERT_TRUE(session_->Commit().ok());
  auto count = session_->Execute("SELECT COUNT(*) AS n FROM once", {});
  ASSERT_TRUE(count);
  EXPECT_EQ(std::get<int64_t>(count->rows[0][0]), 2);
}

// A refused statement's message goes to the connector's log and to
// carrefour_unapplied: it must not quote the row (PostgreSQL's DETAIL line
// names the key's value, a national number).
TEST_P(ConnectorDatabaseTest, ConstraintErrorsDoNotQuoteTheRow) {
  ASSERT_TRUE(session_->Execute("CREATE TABLE person (niss TEXT PRIMARY KEY)", {}));
  ASSERT_TRUE(session_->Execute("INSERT INTO person (niss) VALUES (:niss)",
                                {{"niss", std::string("85073003328")}}));
  auto duplicate = session_->Execute("INSERT INTO person (niss) VALUES (:niss)",
                                     {{"niss", std::string("85073003328")}});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message().find("85073003328"), std::string::npos)
      << duplicate.error().ToString();
  EXPECT_EQ(duplicate.error().message().find("DETAIL"), std::string::npos)
      << duplicate.error().ToString();
}

TEST_P(ConnectorDatabaseTest, CheckReportsMissingTablesWithoutRunning) {
  EXPECT_TRUE(session_->Check("SELECT street FROM address WHERE niss = :niss").ok());
  Status missing = session_->Check("SELECT street FROM adress WHERE niss = :niss");
  EXPECT_EQ(missing.code(), StatusCode::kInvalidRequest);
  EXPECT_NE(missing.message().find("adress"), std::string::npos) << missing.message();
}

TEST_P(ConnectorDatabaseTest, LongQueryIsInterrupted) {
  const char* slow =
      GetParam() == store::testing::Engine::kSqlite
          ? "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
          : "SELECT pg_sleep(5)";
  auto result = session_->Execute(slow, {}, std::chrono::milliseconds(200));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), StatusCode::kTimeout) << result.error().ToString();
  // The session stays usable.
  EXPECT_TRUE(session_->Execute("SELECT 1 AS one", {}));
}

INSTANTIATE_TEST_SUITE_P(Engines, ConnectorDatabaseTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::connector
