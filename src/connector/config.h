// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A connector's configuration (TOML; docs/connector.md has the full example).
// Everything an institution needs to join the network is here: who it is,
// where its database is, and the SQL that answers, applies, publishes and
// declares. Loading checks the file's shape with FILE:LINE messages like the
// network definition; CheckStatements() then checks each statement against
// the database itself.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/result.h"
#include "network/loader.h"

namespace carrefour::connector {

// A statement with where it was written, for messages.
struct SqlText {
  std::string sql;
  int line = 0;
};

// How a data type's rows become the provide answer (docs/api.md section 5).
enum class ResultShape {
  kList,    // every row, as a list of objects (the default)
  kObject,  // the first row as one object
};

struct ProvideRule {
  std::string data_type;
  SqlText query;  // parameters: niss, from, to, fields, requester, legal_basis, request_id, data_type
  ResultShape shape = ResultShape::kList;
};

struct ApplyRule {
  std::string data_type;
  // Parameters: niss, effective, source, id, data_type, data (the JSON text),
  // cursor, and every field of the mutation's data by name.
  SqlText statement;
};

struct OutboxConfig {
  // Rows to publish: columns id, data_type, niss, effective, and either
  // `data` (a JSON object as text) or one column per field. Parameter: limit.
  SqlText select;
  // Run once per row the hub answered: id, status (accepted, duplicate,
  // rejected), error (the code and message, or NULL), subscribers.
  SqlText mark;
  size_t batch = 1000;
  std::chrono::milliseconds poll{500};
};

struct IntegrationsConfig {
  // Table mode: columns key, action, niss, capacity, from, to; parameter limit.
  std::optional<SqlText> select;
  // Table mode: key, status (ok, rejected), error.
  std::optional<SqlText> mark;
  // CSV mode: action,niss,capacity,from,to per line (a header line optional);
  // results are appended to `csv` + ".results".
  std::optional<std::filesystem::path> csv;
  size_t batch = 10000;
  std::chrono::milliseconds poll{1000};
};

struct FeedConfig {
  std::vector<ApplyRule> apply;
  int wait_seconds = 30;
  int limit = 500;
  // Mutations of data types with no apply rule: recorded in
  // carrefour_unapplied (true) or a configuration error at start (false is
  // not offered: the hub decides what it sends, the connector never drops).
};

struct ConnectorConfig {
  std::filesystem::path source;  // the configuration file
  std::string institution;       // its certificate's CN
  std::string database;          // sqlite:PATH | postgresql://...

  // TLS identity (paths relative to the configuration file's folder).
  std::filesystem::path cert, key, ca;
  // Optional CRL (PEM, signed by the network CA; `carrefour pki revoke`
  // writes it): a hub certificate listed there is refused, both when the
  // hub calls and when the connector calls it. refuse_stale_crl: refuse
  // every handshake while the CRL is past its next-update.
  std::filesystem::path crl;
  bool refuse_stale_crl = false;

  std::string hub_url;  // https://host:port
  std::chrono::milliseconds hub_timeout{10000};
  std::chrono::milliseconds retry_max{30000};  // backoff ceiling when the hub is down

  // The provide endpoint; empty listen = the connector provides nothing.
  std::string provide_listen;
  int provide_threads = 4;
  std::chrono::milliseconds query_timeout{1500};
  std::vector<ProvideRule> provide;

  std::optional<FeedConfig> feed;
  std::optional<OutboxConfig> outbox;
  std::optional<IntegrationsConfig> integrations;

  std::string admin_listen = "127.0.0.1:0";  // "" disables it
};

// Reads and checks the shape of a configuration file. Every problem is
// reported as a network::Diagnostic ("FILE:LINE: message").
tl::expected<ConnectorConfig, network::Diagnostics> LoadConfigWithDiagnostics(
    const std::filesystem::path& file);
tl::expected<ConnectorConfig, network::Diagnostics> ParseConfigWithDiagnostics(
    std::string_view toml_text, const std::filesystem::path& source);

// The same, as one Status (invalid-request) with a line per problem.
Result<ConnectorConfig> LoadConfig(const std::filesystem::path& file);

}  // namespace carrefour::connector
