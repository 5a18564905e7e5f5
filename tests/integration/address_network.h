// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support: the small network of the connector, fault and scale-out
// tests, and its institutions' connectors. The national register (nr)
// provides person.address from its own SQLite database and publishes moves
// from its outbox table; the mutualities (mut-100, mut-200) declare their
// files from a member table and apply the moves they are entitled to.
//
// The texts carry `{name}` placeholders (testing::Replace):
//   {nr_port}       the national register's provide port
//   {dir}           the folder of the institutions' databases
//   {pki}           the folder of the certificates (pki::TestPki)
//   {hub_port}      where the connectors reach the hub (or its load balancer)
//   {retry_max_ms}  the connectors' backoff ceiling while the hub is down
//   {admin}         the connectors' admin listener ("" disables it)
//   {id}, {apply}, {feed_wait}, {feed_limit}, {batch}   (mutualities)

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/helpers.h"
#include "tests/integration/process.h"

namespace carrefour::testing {

inline constexpr const char* kAddressNetwork = R"(
[[institution_type]]
id = "national-register"
capacities = []

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National register"
endpoint = "https://127.0.0.1:{nr_port}"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Mutuality 100"

[[institution]]
id = "mut-200"
type = "mutuality"
name = "Mutuality 200"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "since"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code", "municipality", "since"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
)";

// The national register's tables: addresses (provided) and its outbox of
// moves (published).
inline constexpr const char* kNrSchema = R"(
CREATE TABLE person_address (niss TEXT, street TEXT, postal_code TEXT, municipality TEXT,
                             since TEXT, until TEXT);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, data_type TEXT, niss TEXT, effective TEXT,
                     data TEXT, status TEXT, error TEXT, subscribers INTEGER);
)";

inline constexpr const char* kNrConnector = R"(institution = "nr"
database = "sqlite:{dir}/nr.db"

[tls]
cert = "{pki}/nr.crt"
key = "{pki}/nr.key"
ca = "{pki}/ca.crt"

[hub]
url = "https://127.0.0.1:{hub_port}"
timeout_ms = 10000
retry_max_ms = {retry_max_ms}

[admin]
listen = "{admin}"

[provide]
listen = "127.0.0.1:{nr_port}"

[[provide.data_type]]
id = "person.address"
query = """
SELECT street, postal_code, municipality, since FROM person_address
 WHERE niss = :niss AND since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(until, '9999-12-31') >= :from
 ORDER BY since"""

[outbox]
select = "SELECT id, data_type, niss, effective, data FROM outbox WHERE status IS NULL ORDER BY id LIMIT :limit"
mark = "UPDATE outbox SET status = :status, error = :error, subscribers = :subscribers WHERE id = :id"
batch = 50
poll_ms = 50
)";

// A mutuality's tables: the files it declares (member), the addresses it
// keeps, and every application of a move (applied: twice would show as two
// rows).
inline constexpr const char* kMutualitySchema = R"(
CREATE TABLE member (seq INTEGER PRIMARY KEY, niss TEXT, from_date TEXT, status TEXT, error TEXT);
CREATE TABLE address (niss TEXT PRIMARY KEY, street TEXT, postal_code TEXT, municipality TEXT);
CREATE TABLE applied (mutation_id TEXT, source TEXT, niss TEXT);
)";

// Its [integrations] section comes last: a test may cut it off and write
// another.
inline constexpr const char* kMutualityConnector = R"(institution = "{id}"
database = "sqlite:{dir}/{id}.db"

[tls]
cert = "{pki}/{id}.crt"
key = "{pki}/{id}.key"
ca = "{pki}/ca.crt"

[hub]
url = "https://127.0.0.1:{hub_port}"
timeout_ms = 10000
retry_max_ms = {retry_max_ms}

[admin]
listen = "{admin}"

[feed]
wait_seconds = {feed_wait}
limit = {feed_limit}

[[feed.apply]]
data_type = "person.address"
statement = """{apply}"""

[integrations]
select = """SELECT seq AS key, 'add' AS action, niss, 'insured' AS capacity,
  from_date AS "from", NULL AS "to" FROM member WHERE status IS NULL ORDER BY seq LIMIT :limit"""
mark = "UPDATE member SET status = :status, error = :error WHERE seq = :key"
batch = {batch}
poll_ms = 50
)";

// Apply statements for kMutualityConnector's {apply}: keep the address, or
// record each application.
inline constexpr const char* kApplyAddress = R"(
INSERT INTO address (niss, street, postal_code, municipality)
VALUES (:niss, :street, :postal_code, :municipality)
ON CONFLICT (niss) DO UPDATE SET street = excluded.street, postal_code = excluded.postal_code,
  municipality = excluded.municipality;
)";
inline constexpr const char* kApplyCounting =
    "INSERT INTO applied (mutation_id, source, niss) VALUES (:id, :source, :niss)";

// Starts `carrefour connector --config DIR/ID.toml` (stderr to DIR/ID.log)
// and waits for its start line. With `admin_port`, reads the admin
// listener's port from that line.
inline void StartConnectorProcess(const std::filesystem::path& dir, const std::string& id,
                                  std::unique_ptr<Process>* process,
                                  uint16_t* admin_port = nullptr) {
  *process = Process::Start({Env("CARREFOUR_BINARY"), "connector", "--config",
                             (dir / (id + ".toml")).string()},
                            (dir / (id + ".log")).string());
  std::optional<std::string> line = (*process)->WaitForLine(
      [](const std::string& l) { return l.find("carrefour connector") != std::string::npos; });
  ASSERT_TRUE(line) << "connector " << id << " did not start; see " << (dir / (id + ".log"));
  if (admin_port == nullptr) return;
  std::smatch port;
  ASSERT_TRUE(std::regex_search(*line, port, std::regex(R"(admin on http://\S+ \(port (\d+)\))")))
      << *line;
  *admin_port = static_cast<uint16_t>(std::stoi(port[1]));
}

}  // namespace carrefour::testing
