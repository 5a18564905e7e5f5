// SPDX-License-Identifier: EUPL-1.2
// docs/connector.md's full example works as written: its tables (the ```sql
// block) are created, its configuration (the ```toml block) is loaded and
// every statement is compiled against them, then a provide query, an apply
// statement and the outbox select run with real values.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connector/config.h"
#include "connector/connector.h"
#include "connector/database.h"
#include "pki/testing.h"

namespace carrefour::connector {
namespace {

namespace fs = std::filesystem;

// The first fenced block of `language` in `markdown`.
std::string Block(const std::string& markdown, const std::string& language) {
  const std::string fence = "```" + language + "\n";
  size_t start = markdown.find(fence);
  if (start == std::string::npos) return {};
  start += fence.size();
  size_t end = markdown.find("```", start);
  return markdown.substr(start, end - start);
}

TEST(ConnectorDocs, TheExampleWorksAsWritten) {
  const char* source = std::getenv("CARREFOUR_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "CARREFOUR_SOURCE_DIR is not set (run through ctest)";
  std::ifstream in(fs::path(source) / "docs" / "connector.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string toml = Block(text.str(), "toml");
  const std::string sql = Block(text.str(), "sql");
  ASSERT_FALSE(toml.empty());
  ASSERT_FALSE(sql.empty());

  // Where the example says: mut-100.db and pki/ next to the configuration.
  pki::TestPki pki = pki::TestPki::Create({"mut-100"});
  const fs::path dir = pki.dir.parent_path() / (pki.dir.filename().string() + "-docs");
  fs::create_directories(dir);
  fs::create_symlink(pki.dir, dir / "pki");
  std::ofstream(dir / "mut-100.db").close();
  {
    auto db = Database::Open("sqlite:" + (dir / "mut-100.db").string());
    ASSERT_TRUE(db) << db.error().ToString();
    auto session = (*db)->Connect();
    ASSERT_TRUE(session);
    size_t start = 0;
    for (size_t end; (end = sql.find(';', start)) != std::string::npos; start = end + 1) {
      auto created = (*session)->Execute(sql.substr(start, end - start), {});
      ASSERT_TRUE(created) << created.error().ToString();
    }
  }
  std::ofstream(dir / "connector.toml") << toml;

  Result<ConnectorConfig> config = LoadConfig(dir / "connector.toml");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->institution, "mut-100");
  ConnectorConfig copy = *config;
  Result<std::unique_ptr<Connector>> connector = Connector::Create(std::move(copy));
  ASSERT_TRUE(connector) << connector.error().message();

  // The statements do what the page says, on values.
  auto db = Database::Open(config->database);
  ASSERT_TRUE(db);
  auto session = (*db)->Connect();
  ASSERT_TRUE(session);
  ASSERT_TRUE((*session)->Execute(
      "INSERT INTO membership VALUES ('85073003328', '2020-01-01', NULL, 'in-order', '85073003328')", {}));
  auto answer = (*session)->Execute(config->provide.at(0).query.sql,
                                    {{"niss", std::string("85073003328")},
                                     {"from", std::string("2024-01-01")},
                                     {"to", SqlValue{}}});
  ASSERT_TRUE(answer) << answer.error().ToString();
  ASSERT_EQ(answer->rows.size(), 1u);
  auto applied = (*session)->Execute(config->feed->apply.at(0).statement.sql,
                                     {{"niss", std::string("85073003328")},
                                      {"street", std::string("Rue Neuve 1")},
                                      {"postal_code", std::string("5000")},
                                      {"municipality", std::string("Namur")},
                                      {"effective", std::string("2024-05-01")}});
  ASSERT_TRUE(applied) << applied.error().ToString();
  ASSERT_TRUE((*session)->Execute(
      "INSERT INTO carrefour_outbox (data_type, niss, effective, data) VALUES "
      "('health.insurance', '85073003328', '2024-05-01', '{}')", {}));
  auto pending = (*session)->Execute(config->outbox->select.sql, {{"limit", int64_t{10}}});
  ASSERT_TRUE(pending) << pending.error().ToString();
  EXPECT_EQ(pending->rows.size(), 1u);

  connector->reset();
  fs::remove_all(dir);
  fs::remove_all(pki.dir);
}

}  // namespace
}  // namespace carrefour::connector
