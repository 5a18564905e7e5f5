// SPDX-License-Identifier: EUPL-1.2
#include "connector/config.h"

#include <algorithm>
#include <fstream>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "connector/database.h"
#include "net/server.h"

namespace carrefour::connector {
namespace {

using network::Diagnostic;
using network::Diagnostics;

constexpr std::string_view kRootKeys[] = {"institution", "database", "tls",   "hub",
                                          "admin",       "provide",  "feed",  "outbox",
                                          "integrations"};
constexpr std::string_view kTlsKeys[] = {"cert", "key", "ca", "crl", "refuse_stale_crl"};
constexpr std::string_view kHubKeys[] = {"url", "timeout_ms", "retry_max_ms"};
constexpr std::string_view kAdminKeys[] = {"listen"};
constexpr std::string_view kProvideKeys[] = {"listen", "threads", "query_timeout_ms", "data_type"};
constexpr std::string_view kProvideRuleKeys[] = {"id", "query", "result"};
constexpr std::string_view kFeedKeys[] = {"wait_seconds", "limit", "apply"};
constexpr std::string_view kApplyKeys[] = {"data_type", "statement"};
constexpr std::string_view kOutboxKeys[] = {"select", "mark", "batch", "poll_ms"};
constexpr std::string_view kIntegrationKeys[] = {"select", "mark", "csv", "batch", "poll_ms"};

constexpr std::string_view kProvideParams[] = {"niss",      "from",        "to",
                                               "fields",    "requester",   "legal_basis",
                                               "request_id", "data_type"};
constexpr std::string_view kLimitParams[] = {"limit"};
constexpr std::string_view kOutboxMarkParams[] = {"id", "status", "error", "subscribers"};
constexpr std::string_view kIntegrationMarkParams[] = {"key", "status", "error"};

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::string Join(std::span<const std::string_view> values) {
  std::string out;
  for (std::string_view value : values) {
    if (!out.empty()) out += ", ";
    out += value;
  }
  return out;
}

// Reads the keys of one table, reporting unknown keys, wrong types and
// missing required keys at their lines.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string where, std::span<const std::string_view> keys,
              const std::string& source, Diagnostics& out)
      : table_(table), where_(std::move(where)), source_(source), out_(out) {
    for (auto&& [key, value] : table) {
      if (std::find(keys.begin(), keys.end(), key.str()) != keys.end()) continue;
      Error(static_cast<int>(key.source().begin.line),
            fmt::format("unknown key '{}' in {} (allowed keys: {})", key.str(), where_,
                        Join(keys)));
    }
  }

  int line() const { return LineOf(table_); }
  const std::string& where() const { return where_; }

  void Error(int line, std::string message) {
    out_.push_back(Diagnostic{source_, line, std::move(message)});
  }

  std::optional<std::string> String(std::string_view key, bool required) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (required) Error(line(), fmt::format("{} is missing required key '{}'", where_, key));
      return std::nullopt;
    }
    const auto* text = node->as_string();
    if (text == nullptr || text->get().empty()) {
      Error(LineOf(*node), fmt::format("'{}' in {} must be a non-empty string", key, where_));
      return std::nullopt;
    }
    return text->get();
  }

  std::optional<SqlText> Sql(std::string_view key, bool required,
                             std::span<const std::string_view> allowed_params) {
    std::optional<std::string> text = String(key, required);
    if (!text) return std::nullopt;
    SqlText out{*text, LineOf(*table_.get(key))};
    if (!allowed_params.empty()) {
      for (const std::string& name : ParameterNames(out.sql)) {
        if (std::find(allowed_params.begin(), allowed_params.end(), name) ==
            allowed_params.end()) {
          Error(out.line, fmt::format("'{}' in {} uses the parameter :{}; allowed here: {}", key,
                                      where_, name, Join(allowed_params)));
        }
      }
    }
    return out;
  }

  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      Error(LineOf(*node),
            fmt::format("'{}' in {} must be an integer from {} to {}", key, where_, min, max));
      return std::nullopt;
    }
    return value->get();
  }

  const toml::table* Table(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      Error(LineOf(*node), fmt::format("'{}' must be a table ([{}])", key, key));
      return nullptr;
    }
    return node->as_table();
  }

  // An array of tables ([[where.key]]); empty when absent or malformed.
  std::vector<const toml::table*> Tables(std::string_view key) {
    std::vector<const toml::table*> out;
    const toml::node* node = table_.get(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      Error(LineOf(*node), fmt::format("'{}' in {} must be an array of tables ([[...]])", key,
                                       where_));
      return out;
    }
    for (const toml::node& element : *array) out.push_back(element.as_table());
    return out;
  }

 private:
  const toml::table& table_;
  std::string where_;
  const std::string& source_;
  Diagnostics& out_;
};

std::filesystem::path Resolve(const std::filesystem::path& base, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : (base / p).lexically_normal();
}

bool ValidAddress(std::string_view address) {
  return net::ParseListenAddress(address, "").has_value();
}

// What each section's reader needs besides its table: where its problems go
// and the folder that relative paths start from.
struct SectionContext {
  const std::string& source;
  Diagnostics& problems;
  const std::filesystem::path& base;
};

void ReadTls(const toml::table& tls, const SectionContext& in, ConnectorConfig& config) {
  TableReader reader(tls, "[tls]", kTlsKeys, in.source, in.problems);
  if (auto v = reader.String("cert", true)) config.cert = Resolve(in.base, *v);
  if (auto v = reader.String("key", true)) config.key = Resolve(in.base, *v);
  if (auto v = reader.String("ca", true)) config.ca = Resolve(in.base, *v);
  if (auto v = reader.String("crl", false)) config.crl = Resolve(in.base, *v);
  if (const toml::node* refuse = tls.get("refuse_stale_crl")) {
    if (const auto* flag = refuse->as_boolean()) {
      config.refuse_stale_crl = flag->get();
    } else {
      reader.Error(LineOf(*refuse), "'refuse_stale_crl' in [tls] must be true or false");
    }
  }
}

void ReadHub(const toml::table& hub, const SectionContext& in, ConnectorConfig& config) {
  TableReader reader(hub, "[hub]", kHubKeys, in.source, in.problems);
  if (auto url = reader.String("url", true)) {
    if (!url->starts_with("https://")) {
      reader.Error(LineOf(*hub.get("url")), "'url' in [hub] must start with https://");
    }
    config.hub_url = *url;
  }
  if (auto ms = reader.Integer("timeout_ms", 100, 600000)) config.hub_timeout = std::chrono::milliseconds(*ms);
  if (auto ms = reader.Integer("retry_max_ms", 100, 3600000)) config.retry_max = std::chrono::milliseconds(*ms);
}

void ReadAdmin(const toml::table& admin, const SectionContext& in, ConnectorConfig& config) {
  TableReader reader(admin, "[admin]", kAdminKeys, in.source, in.problems);
  const toml::node* listen = admin.get("listen");
  if (listen != nullptr && listen->is_string()) {
    config.admin_listen = listen->as_string()->get();
    if (!config.admin_listen.empty() && !ValidAddress(config.admin_listen)) {
      reader.Error(LineOf(*listen), "'listen' in [admin] must be HOST:PORT (or \"\" for none)");
    }
  } else if (listen != nullptr) {
    reader.Error(LineOf(*listen), "'listen' in [admin] must be a string");
  }
}

// One [[provide.data_type]], added to `rules` when its id and query read.
void ReadProvideRule(const toml::table& table, const SectionContext& in,
                     std::vector<ProvideRule>& rules) {
  TableReader rule_reader(table, "[[provide.data_type]]", kProvideRuleKeys, in.source, in.problems);
  ProvideRule rule;
  auto id = rule_reader.String("id", true);
  auto query = rule_reader.Sql("query", true, kProvideParams);
  if (auto shape = rule_reader.String("result", false)) {
    if (*shape == "object") {
      rule.shape = ResultShape::kObject;
    } else if (*shape != "list") {
      rule_reader.Error(LineOf(*table.get("result")),
                        "'result' in [[provide.data_type]] must be \"list\" or \"object\"");
    }
  }
  if (!id || !query) return;
  for (const ProvideRule& other : rules) {
    if (other.data_type == *id) {
      rule_reader.Error(rule_reader.line(),
                        fmt::format("data type '{}' is provided twice (also line {})", *id,
                                    other.query.line));
    }
  }
  rule.data_type = *id;
  rule.query = *query;
  rules.push_back(std::move(rule));
}

void ReadProvide(const toml::table& provide, const SectionContext& in, ConnectorConfig& config) {
  TableReader reader(provide, "[provide]", kProvideKeys, in.source, in.problems);
  if (auto listen = reader.String("listen", true)) {
    if (!ValidAddress(*listen)) {
      reader.Error(LineOf(*provide.get("listen")), "'listen' in [provide] must be HOST:PORT");
    }
    config.provide_listen = *listen;
  }
  if (auto threads = reader.Integer("threads", 1, 256)) config.provide_threads = static_cast<int>(*threads);
  if (auto ms = reader.Integer("query_timeout_ms", 10, 600000)) config.query_timeout = std::chrono::milliseconds(*ms);
  for (const toml::table* table : reader.Tables("data_type")) {
    ReadProvideRule(*table, in, config.provide);
  }
  if (config.provide.empty()) {
    reader.Error(reader.line(), "[provide] has no [[provide.data_type]]: nothing to answer");
  }
}

// One [[feed.apply]], added to `rules` when its data type and statement read.
void ReadApplyRule(const toml::table& table, const SectionContext& in,
                   std::vector<ApplyRule>& rules) {
  TableReader rule_reader(table, "[[feed.apply]]", kApplyKeys, in.source, in.problems);
  auto data_type = rule_reader.String("data_type", true);
  auto statement = rule_reader.Sql("statement", true, {});
  if (!data_type || !statement) return;
  for (const ApplyRule& other : rules) {
    if (other.data_type == *data_type) {
      rule_reader.Error(rule_reader.line(),
                        fmt::format("data type '{}' has two apply statements (also line {})",
                                    *data_type, other.statement.line));
    }
  }
  rules.push_back(ApplyRule{*data_type, *statement});
}

FeedConfig ReadFeed(const toml::table& feed, const SectionContext& in) {
  TableReader reader(feed, "[feed]", kFeedKeys, in.source, in.problems);
  FeedConfig out;
  if (auto wait = reader.Integer("wait_seconds", 0, 60)) out.wait_seconds = static_cast<int>(*wait);
  if (auto limit = reader.Integer("limit", 1, 1000)) out.limit = static_cast<int>(*limit);
  for (const toml::table* table : reader.Tables("apply")) ReadApplyRule(*table, in, out.apply);
  return out;
}

// The outbox, when both its statements read.
std::optional<OutboxConfig> ReadOutbox(const toml::table& outbox, const SectionContext& in) {
  TableReader reader(outbox, "[outbox]", kOutboxKeys, in.source, in.problems);
  OutboxConfig out;
  auto select = reader.Sql("select", true, kLimitParams);
  auto mark = reader.Sql("mark", true, kOutboxMarkParams);
  if (auto batch = reader.Integer("batch", 1, 1000)) out.batch = static_cast<size_t>(*batch);
  if (auto ms = reader.Integer("poll_ms", 10, 3600000)) out.poll = std::chrono::milliseconds(*ms);
  if (!select || !mark) return std::nullopt;
  out.select = *select;
  out.mark = *mark;
  return out;
}

IntegrationsConfig ReadIntegrations(const toml::table& integrations, const SectionContext& in) {
  TableReader reader(integrations, "[integrations]", kIntegrationKeys, in.source, in.problems);
  IntegrationsConfig out;
  out.select = reader.Sql("select", false, kLimitParams);
  out.mark = reader.Sql("mark", false, kIntegrationMarkParams);
  if (auto csv = reader.String("csv", false)) out.csv = Resolve(in.base, *csv);
  if (auto batch = reader.Integer("batch", 1, 10000)) out.batch = static_cast<size_t>(*batch);
  if (auto ms = reader.Integer("poll_ms", 10, 3600000)) out.poll = std::chrono::milliseconds(*ms);
  const bool table_mode = integrations.contains("select") || integrations.contains("mark");
  if (table_mode && integrations.contains("csv")) {
    reader.Error(reader.line(), "[integrations] takes either select + mark or csv, not both");
  } else if (table_mode && !(integrations.contains("select") && integrations.contains("mark"))) {
    reader.Error(reader.line(), "[integrations] needs both 'select' and 'mark'");
  } else if (!table_mode && !integrations.contains("csv")) {
    reader.Error(reader.line(), "[integrations] needs 'select' and 'mark', or 'csv'");
  }
  return out;
}

}  // namespace

tl::expected<ConnectorConfig, Diagnostics> ParseConfigWithDiagnostics(
    std::string_view toml_text, const std::filesystem::path& source) {
  const std::string source_name = source.string();
  Diagnostics problems;
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    problems.push_back(Diagnostic{source_name, static_cast<int>(error.source().begin.line),
                                  std::string(error.description())});
    return tl::unexpected(std::move(problems));
  }
  const std::filesystem::path base = std::filesystem::absolute(source).parent_path();
  const SectionContext in{source_name, problems, base};

  ConnectorConfig config;
  config.source = source;
  TableReader top(root, "the configuration", kRootKeys, source_name, problems);
  if (auto id = top.String("institution", true)) config.institution = *id;
  if (auto database = top.String("database", true)) {
    // A relative SQLite path is relative to the configuration file.
    if (database->starts_with("sqlite:") && !database->starts_with("sqlite:/")) {
      config.database = "sqlite:" + Resolve(base, database->substr(7)).string();
    } else {
      config.database = *database;
    }
  }
  if (const toml::table* tls = top.Table("tls")) {
    ReadTls(*tls, in, config);
  } else {
    top.Error(0, "[tls] is missing: the connector needs its certificate, key and the network CA");
  }
  if (const toml::table* hub = top.Table("hub")) {
    ReadHub(*hub, in, config);
  } else {
    top.Error(0, "[hub] is missing: the connector needs the hub's url");
  }
  if (const toml::table* admin = top.Table("admin")) ReadAdmin(*admin, in, config);
  if (const toml::table* provide = top.Table("provide")) ReadProvide(*provide, in, config);
  if (const toml::table* feed = top.Table("feed")) config.feed = ReadFeed(*feed, in);
  if (const toml::table* outbox = top.Table("outbox")) config.outbox = ReadOutbox(*outbox, in);
  if (const toml::table* integrations = top.Table("integrations")) {
    config.integrations = ReadIntegrations(*integrations, in);
  }

  if (problems.empty() && config.provide_listen.empty() && !config.feed && !config.outbox &&
      !config.integrations) {
    top.Error(0, "nothing to do: configure at least one of [provide], [feed], [outbox], "
                 "[integrations]");
  }
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return tl::unexpected(std::move(problems));
  }
  return config;
}

tl::expected<ConnectorConfig, Diagnostics> LoadConfigWithDiagnostics(
    const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return tl::unexpected(Diagnostics{Diagnostic{file.string(), 0, "cannot be read"}});
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfigWithDiagnostics(text.str(), file);
}

Result<ConnectorConfig> LoadConfig(const std::filesystem::path& file) {
  auto config = LoadConfigWithDiagnostics(file);
  if (!config) return tl::unexpected(network::DiagnosticsToStatus(config.error()));
  return std::move(*config);
}

}  // namespace carrefour::connector
