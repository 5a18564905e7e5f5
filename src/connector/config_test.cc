// SPDX-License-Identifier: EUPL-1.2
#include "connector/config.h"

#include <gtest/gtest.h>

namespace carrefour::connector {
namespace {

constexpr const char* kGood = R"toml(institution = "mut-100"
database = "sqlite:mut-100.db"

[tls]
cert = "pki/mut-100.crt"
key = "pki/mut-100.key"
ca = "pki/ca.crt"

[hub]
url = "https://127.0.0.1:8443"

[provide]
listen = "127.0.0.1:9103"

[[provide.data_type]]
id = "person.insurance"
result = "object"
query = "SELECT since FROM member WHERE niss = :niss AND since <= COALESCE(:to, '9999-12-31')"

[feed]
wait_seconds = 20

[[feed.apply]]
data_type = "person.address"
statement = "UPDATE member SET street = :street WHERE niss = :niss"

[outbox]
select = "SELECT id, data_type, niss, effective, data FROM outbox WHERE sent_at IS NULL LIMIT :limit"
mark = "UPDATE outbox SET status = :status, error = :error WHERE id = :id"

[integrations]
csv = "files.csv"
)toml";

TEST(ConnectorConfig, ReadsAFullConfiguration) {
  auto config = ParseConfigWithDiagnostics(kGood, "/etc/carrefour/mut-100.toml");
  ASSERT_TRUE(config) << config.error().front().ToString();
  EXPECT_EQ(config->institution, "mut-100");
  EXPECT_EQ(config->database, "sqlite:/etc/carrefour/mut-100.db");
  EXPECT_EQ(config->cert, "/etc/carrefour/pki/mut-100.crt");
  ASSERT_EQ(config->provide.size(), 1u);
  EXPECT_EQ(config->provide[0].shape, ResultShape::kObject);
  EXPECT_EQ(config->provide[0].query.line, 18);
  ASSERT_TRUE(config->feed);
  EXPECT_EQ(config->feed->wait_seconds, 20);
  EXPECT_EQ(config->feed->apply.at(0).data_type, "person.address");
  ASSERT_TRUE(config->outbox);
  EXPECT_EQ(config->outbox->batch, 1000u);
  ASSERT_TRUE(config->integrations);
  EXPECT_EQ(*config->integrations->csv, "/etc/carrefour/files.csv");
}

TEST(ConnectorConfig, ReportsEveryProblemWithItsLine) {
  constexpr const char* kBad = R"(institution = "mut-100"
databse = "sqlite:x.db"

[tls]
cert = "a"
key = "b"
ca = "c"

[hub]
url = "http://127.0.0.1:8443"

[provide]
listen = "127.0.0.1"

[[provide.data_type]]
id = "person.insurance"
result = "table"
query = "SELECT * FROM member WHERE niss = :niss AND x = :nope"

[outbox]
select = "SELECT 1"
)";
  auto config = ParseConfigWithDiagnostics(kBad, "bad.toml");
  ASSERT_FALSE(config);
  std::string all;
  for (const auto& d : config.error()) all += d.ToString() + "\n";
  EXPECT_NE(all.find("bad.toml:2: unknown key 'databse'"), std::string::npos) << all;
  EXPECT_NE(all.find("missing required key 'database'"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.toml:10: 'url' in [hub] must start with https://"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.toml:13: 'listen' in [provide] must be HOST:PORT"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.toml:17: 'result'"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.toml:18: 'query' in [[provide.data_type]] uses the parameter :nope"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("missing required key 'mark'"), std::string::npos) << all;
}

TEST(ConnectorConfig, SyntaxErrorsAndEmptyConfigurations) {
  auto broken = ParseConfigWithDiagnostics("institution = \n", "x.toml");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().front().line, 1);

  auto idle = ParseConfigWithDiagnostics(R"(institution = "a"
database = "sqlite:a.db"
[tls]
cert = "a"
key = "b"
ca = "c"
[hub]
url = "https://h:1"
)",
                                         "idle.toml");
  ASSERT_FALSE(idle);
  EXPECT_NE(idle.error().front().message.find("nothing to do"), std::string::npos);
}

TEST(ConnectorConfig, UnreadableFile) {
  auto missing = LoadConfig("/nonexistent/connector.toml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace carrefour::connector
