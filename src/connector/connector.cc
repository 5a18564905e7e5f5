// SPDX-License-Identifier: EUPL-1.2
#include "connector/connector.h"

#include <signal.h>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "api/json.h"
#include "connector/internal/context.h"
#include "metrics/text.h"
#include "net/server.h"
#include "net/tls_files.h"
#include "net/worker_pool.h"

namespace carrefour::connector {
namespace json = boost::json;
using internal::Context;
using internal::Counters;

namespace internal {

std::optional<Result<net::ClientResponse>> Context::CallHub(net::ClientRequest request) {
  struct State {
    std::mutex mu;
    std::condition_variable done;
    std::optional<Result<net::ClientResponse>> result;
  };
  auto state = std::make_shared<State>();
  client.Send(hub, std::move(request), [state](Result<net::ClientResponse> response) {
    std::lock_guard lock(state->mu);
    state->result = std::move(response);
    state->done.notify_all();
  });
  std::unique_lock lock(state->mu);
  while (!state->result) {
    if (stop.stopped()) return std::nullopt;
    state->done.wait_for(lock, std::chrono::milliseconds(100));
  }
  return std::move(state->result);
}

SqlValue FromJson(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return std::monostate{};
    case json::kind::bool_: return value.get_bool();
    case json::kind::int64: return value.get_int64();
    case json::kind::uint64: return static_cast<int64_t>(value.get_uint64());
    case json::kind::double_: return value.get_double();
    case json::kind::string: return std::string(value.get_string());
    default: return api::Serialize(value);
  }
}

json::value ToJson(const SqlValue& value) {
  struct Visitor {
    json::value operator()(std::monostate) const { return nullptr; }
    json::value operator()(bool b) const { return b; }
    json::value operator()(int64_t i) const { return i; }
    json::value operator()(double d) const { return d; }
    json::value operator()(const std::string& s) const { return json::string(s); }
  };
  return std::visit(Visitor{}, value);
}

Result<std::optional<std::string>> ReadState(Session& session, const std::string& name) {
  CARREFOUR_ASSIGN_OR_RETURN(SqlRows rows, session.Execute(kReadState, {{"name", name}}));
  if (rows.rows.empty()) return std::optional<std::string>();
  const auto* text = std::get_if<std::string>(&rows.rows[0][0]);
  return std::optional<std::string>(text ? *text : DescribeValue(rows.rows[0][0]));
}

}  // namespace internal

namespace {

net::Response ErrorReply(StatusCode code, std::string message) {
  return net::ErrorResponse(Status(code, std::move(message)));
}

// A pool of sessions for the provide threads: a provide call takes one and
// gives it back; the pool grows to the number of threads.
class SessionPool {
 public:
  explicit SessionPool(Database& database) : database_(database) {}

  Result<std::unique_ptr<Session>> Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Session> session = std::move(idle_.back());
        idle_.pop_back();
        return session;
      }
    }
    return database_.Connect();
  }
  void Give(std::unique_ptr<Session> session) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(session));
  }

 private:
  Database& database_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Session>> idle_;
};

}  // namespace

net::TlsFiles TlsFilesOf(const ConnectorConfig& config) {
  return net::TlsFiles{.cert = config.cert, .key = config.key, .ca = config.ca,
                       .crl = config.crl, .refuse_stale_crl = config.refuse_stale_crl};
}

class Connector::Impl {
 public:
  Impl(ConnectorConfig config, std::unique_ptr<Database> database,
       std::unique_ptr<net::Client> client, net::Endpoint hub)
      : config_(std::move(config)),
        database_(std::move(database)),
        client_(std::move(client)),
        sessions_(*database_),
        context_{config_, *database_, *client_, std::move(hub), counters_, stop_} {}

  ~Impl() { Stop(); }

  Status Start() {
    if (!config_.provide_listen.empty()) {
      CARREFOUR_ASSIGN_OR_RETURN(auto address, net::ParseListenAddress(config_.provide_listen, "[provide] listen"));
      net::ServerOptions options;
      options.address = address.first;
      options.port = address.second;
      options.threads = 2;
      options.tls = TlsFilesOf(config_);
      options.max_body_bytes = 1 << 20;
      workers_ = std::make_unique<net::WorkerPool>(config_.provide_threads);
      provide_ = std::make_unique<net::Server>(
          options, [this](net::Request&& request, net::Responder respond) {
            HandleProvide(std::move(request), std::move(respond));
          });
      Status started = provide_->Start();
      if (!started.ok()) return started.WithContext("provide listener");
    }
    if (!config_.admin_listen.empty()) {
      CARREFOUR_ASSIGN_OR_RETURN(auto address, net::ParseListenAddress(config_.admin_listen, "[admin] listen"));
      net::ServerOptions options;
      options.address = address.first;
      options.port = address.second;
      options.threads = 1;
      admin_ = std::make_unique<net::Server>(
          options, [this](net::Request&& request, net::Responder respond) {
            respond(HandleAdmin(request));
          });
      Status started = admin_->Start();
      if (!started.ok()) return started.WithContext("admin listener");
    }
    if (config_.feed) loops_.emplace_back([this] { internal::RunFeed(context_); });
    if (config_.outbox) loops_.emplace_back([this] { internal::RunOutbox(context_); });
    if (config_.integrations) loops_.emplace_back([this] { internal::RunIntegrations(context_); });
    ready_ = true;
    return OkStatus();
  }

  void Stop() {
    stop_.Stop();
    for (std::thread& loop : loops_) {
      if (loop.joinable()) loop.join();
    }
    loops_.clear();
    if (provide_) provide_->Stop();
    if (workers_) workers_->Join();
    if (admin_) admin_->Stop();
  }

  // Both sides of the connector's TLS: the provide listener (the hub calls
  // in) and the client (it calls the hub). Checked on the listener first:
  // a broken file changes nothing.
  Status ReloadTls() {
    const net::TlsFiles files = TlsFilesOf(config_);
    if (provide_) CARREFOUR_RETURN_IF_ERROR(provide_->ReloadTls(files));
    return client_->ReloadTls(files);
  }

  uint16_t provide_port() const { return provide_ ? provide_->port() : 0; }
  uint16_t admin_port() const { return admin_ ? admin_->port() : 0; }

  ConnectorStats stats() const {
    const Counters& c = counters_;
    return ConnectorStats{c.provide_requests.load(), c.provide_answered.load(),
                          c.provide_no_data.load(),  c.provide_errors.load(),
                          c.feed_applied.load(),     c.feed_unapplied.load(),
                          c.outbox_accepted.load(),  c.outbox_rejected.load(),
                          c.integrations_ok.load(),  c.integrations_rejected.load(),
                          c.hub_failures.load()};
  }

 private:
  void HandleProvide(net::Request&& request, net::Responder respond) {
    ++counters_.provide_requests;
    // Only the hub calls a connector (docs/api.md section 5): an institution
    // asking directly would bypass every control the hub makes.
    if (request.peer != "hub") {
      ++counters_.provide_errors;
      spdlog::warn("provide: refused a caller that is not the hub (certificate CN={})",
                   request.peer);
      return respond(ErrorReply(StatusCode::kNotAuthorized,
                                "only the hub may call a connector"));
    }
    if (request.path != "/v1/provide") {
      ++counters_.provide_errors;
      return respond(ErrorReply(StatusCode::kNotFound, "no such endpoint: " + request.path));
    }
    if (request.method != "POST") {
      ++counters_.provide_errors;
      return respond(ErrorReply(StatusCode::kInvalidRequest, "use POST"));
    }
    // From the request's arrival (waiting for a worker included) to the answer.
    const auto received = std::chrono::steady_clock::now();
    workers_->Post([this, body = std::move(request.body), respond, received] {
      net::Response response = Provide(body);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
      {
        std::lock_guard lock(latency_mu_);
        provide_latency_.Observe(seconds);
      }
      respond(std::move(response));
    });
  }

  net::Response Provide(const std::string& body) {
    Result<json::object> parsed = api::ParseObject(body);
    if (!parsed) {
      ++counters_.provide_errors;
      return net::ErrorResponse(parsed.error());
    }
    const json::object& call = *parsed;
    Result<std::string> data_type = api::RequiredString(call, "data_type");
    Result<std::string> niss = api::RequiredString(call, "niss");
    if (!data_type || !niss) {
      ++counters_.provide_errors;
      return net::ErrorResponse(!data_type ? data_type.error() : niss.error());
    }
    const ProvideRule* rule = nullptr;
    for (const ProvideRule& candidate : config_.provide) {
      if (candidate.data_type == *data_type) rule = &candidate;
    }
    if (rule == nullptr) {
      ++counters_.provide_errors;
      return ErrorReply(StatusCode::kUnknownDataType,
                        fmt::format("this connector does not provide {}", *data_type));
    }

    SqlParams params = {{"niss", *niss}, {"data_type", *data_type}};
    std::vector<std::string> fields;
    if (const json::value* period = call.if_contains("period"); period && period->is_object()) {
      const json::object& p = period->get_object();
      if (const json::value* from = p.if_contains("from")) params.emplace_back("from", internal::FromJson(*from));
      if (const json::value* to = p.if_contains("to")) params.emplace_back("to", internal::FromJson(*to));
    }
    if (const json::value* list = call.if_contains("fields"); list && list->is_array()) {
      std::string joined;
      for (const json::value& field : list->get_array()) {
        if (!field.is_string()) continue;
        fields.emplace_back(field.get_string());
        joined += (joined.empty() ? "" : ",") + fields.back();
      }
      params.emplace_back("fields", joined);
    }
    for (std::string_view key : {"requester", "legal_basis", "request_id"}) {
      if (const json::value* value = call.if_contains(key)) {
        params.emplace_back(std::string(key), internal::FromJson(*value));
      }
    }

    Result<std::unique_ptr<Session>> session = sessions_.Take();
    if (!session) {
      ++counters_.provide_errors;
      spdlog::error("provide {}: {}", *data_type, session.error().ToString());
      return ErrorReply(StatusCode::kUnavailable, "the institution's database is unavailable");
    }
    Result<SqlRows> rows = (*session)->Execute(rule->query.sql, params, config_.query_timeout);
    if (rows || rows.error().code() != StatusCode::kUnavailable) sessions_.Give(std::move(*session));
    if (!rows) {
      ++counters_.provide_errors;
      // The details stay in this institution's log: the hub only needs to
      // know that this provider failed.
      spdlog::error("provide {} (query at {}:{}): {}", *data_type, config_.source.string(),
                    rule->query.line, rows.error().ToString());
      return rows.error().code() == StatusCode::kTimeout
                 ? ErrorReply(StatusCode::kTimeout, "the query took too long")
                 : ErrorReply(StatusCode::kInternal, "the query failed");
    }
    if (rows->rows.empty()) {
      ++counters_.provide_no_data;
      return ErrorReply(StatusCode::kNoData, "nothing held for this person and period");
    }
    auto to_object = [&](const std::vector<SqlValue>& row) {
      json::object object;
      for (size_t i = 0; i < rows->columns.size(); ++i) {
        const std::string& column = rows->columns[i];
        if (!fields.empty() && std::find(fields.begin(), fields.end(), column) == fields.end()) {
          continue;  // not asked for (or not authorized): never sent
        }
        object[column] = internal::ToJson(row[i]);
      }
      return object;
    };
    json::object answer;
    if (rule->shape == ResultShape::kObject) {
      answer["data"] = to_object(rows->rows.front());
    } else {
      json::array list;
      for (const auto& row : rows->rows) list.push_back(to_object(row));
      answer["data"] = std::move(list);
    }
    ++counters_.provide_answered;
    return net::Response::Json(200, api::Serialize(answer));
  }

  net::Response HandleAdmin(const net::Request& request) {
    if (request.path == "/healthz") return net::Response::Text(200, "ok\n");
    if (request.path == "/readyz") {
      return ready_ ? net::Response::Text(200, "ready\n") : net::Response::Text(503, "starting\n");
    }
    if (request.path == "/metrics") return net::Response::Text(200, Metrics());
    return ErrorReply(StatusCode::kNotFound, "no such endpoint: " + request.path);
  }

  std::string Metrics() const {
    ConnectorStats s = stats();
    metrics::TextWriter out;
    const std::string_view id = config_.institution;
    auto counter = [&](std::string_view name, std::string_view help, std::string_view outcome,
                       uint64_t value) {
      out.Family(name, "counter", help);
      metrics::Labels labels = {{"institution", id}};
      if (!outcome.empty()) labels.emplace_back("outcome", outcome);
      out.Sample(name, labels, static_cast<double>(value));
    };
    counter("carrefour_connector_provide_total", "Provide calls by outcome.", "answered", s.provide_answered);
    counter("carrefour_connector_provide_total", "", "no-data", s.provide_no_data);
    counter("carrefour_connector_provide_total", "", "error", s.provide_errors);
    counter("carrefour_connector_feed_total", "Mutations received from the feed.", "applied", s.feed_applied);
    counter("carrefour_connector_feed_total", "", "unapplied", s.feed_unapplied);
    counter("carrefour_connector_outbox_total", "Outbox rows the hub answered.", "accepted", s.outbox_accepted);
    counter("carrefour_connector_outbox_total", "", "rejected", s.outbox_rejected);
    counter("carrefour_connector_integrations_total", "Directory entries the hub answered.", "ok",
            s.integrations_ok);
    counter("carrefour_connector_integrations_total", "", "rejected", s.integrations_rejected);
    counter("carrefour_connector_hub_failures_total", "Calls to the hub that failed (retried).", "",
            s.hub_failures);
    // This institution's own certificate and the CA, read from the files in
    // use (a renewed certificate shows once reloaded), as the hub does.
    if (Result<net::TlsFacts> facts = net::InspectTlsFiles(TlsFilesOf(config_))) {
      const auto now = std::chrono::system_clock::now();
      auto until = [&](std::chrono::system_clock::time_point when) {
        return std::round(std::chrono::duration<double>(when - now).count());
      };
      out.Family("carrefour_certificate_expiry_seconds", "gauge",
                 "Seconds until the certificate expires (negative: expired).");
      out.Sample("carrefour_certificate_expiry_seconds", {{"institution", id}, {"certificate", "connector"}},
                 until(facts->cert_not_after));
      out.Sample("carrefour_certificate_expiry_seconds", {{"institution", id}, {"certificate", "ca"}},
                 until(facts->ca_not_after));
    }
    out.Family("carrefour_connector_provide_duration_seconds", "histogram",
               "Time from a provide call's arrival to its answer (queueing and the query included).");
    {
      std::lock_guard lock(latency_mu_);
      out.Write("carrefour_connector_provide_duration_seconds", {{"institution", id}}, provide_latency_);
    }
    out.Standard();
    return std::move(out).Text();
  }

  ConnectorConfig config_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<net::Client> client_;
  SessionPool sessions_;
  Counters counters_;
  mutable std::mutex latency_mu_;
  metrics::Histogram provide_latency_;
  internal::StopSignal stop_;
  Context context_;
  std::unique_ptr<net::WorkerPool> workers_;
  std::unique_ptr<net::Server> provide_;
  std::unique_ptr<net::Server> admin_;
  std::vector<std::thread> loops_;
  std::atomic<bool> ready_{false};
};

Result<std::unique_ptr<Connector>> Connector::Create(ConnectorConfig config) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Database> database, Database::Open(config.database));
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, database->Connect());
  for (const char* ddl : {internal::kStateTable, internal::kUnappliedTable}) {
    CARREFOUR_ASSIGN_OR_RETURN(SqlRows ignored, session->Execute(ddl, {}));
  }

  // Every statement is compiled against the database now, so that a typo in
  // a table or column name is a start-up error at its line.
  network::Diagnostics problems;
  auto check = [&](const SqlText& sql, std::string what) {
    Status status = session->Check(sql.sql);
    if (!status.ok()) {
      problems.push_back(network::Diagnostic{config.source.string(), sql.line,
                                             fmt::format("{}: {}", what, status.message())});
    }
  };
  for (const ProvideRule& rule : config.provide) check(rule.query, "query for " + rule.data_type);
  if (config.feed) {
    for (const ApplyRule& rule : config.feed->apply) {
      check(rule.statement, "apply statement for " + rule.data_type);
    }
  }
  if (config.outbox) {
    check(config.outbox->select, "outbox select");
    check(config.outbox->mark, "outbox mark");
  }
  if (config.integrations && config.integrations->select) {
    check(*config.integrations->select, "integrations select");
    check(*config.integrations->mark, "integrations mark");
  }
  if (!problems.empty()) return tl::unexpected(network::DiagnosticsToStatus(problems));

  CARREFOUR_ASSIGN_OR_RETURN(
      std::unique_ptr<net::Client> client,
      net::Client::Create({.tls = TlsFilesOf(config),
                           .threads = 1,
                           .timeout = config.hub_timeout}));
  CARREFOUR_ASSIGN_OR_RETURN(net::Endpoint hub, net::Endpoint::Parse(config.hub_url, "hub"));
  return std::unique_ptr<Connector>(new Connector(std::make_unique<Impl>(
      std::move(config), std::move(database), std::move(client), std::move(hub))));
}

Connector::Connector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connector::~Connector() = default;
Status Connector::Start() { return impl_->Start(); }
void Connector::Stop() { impl_->Stop(); }
Status Connector::ReloadTls() { return impl_->ReloadTls(); }
uint16_t Connector::provide_port() const { return impl_->provide_port(); }
uint16_t Connector::admin_port() const { return impl_->admin_port(); }
ConnectorStats Connector::stats() const { return impl_->stats(); }

namespace {

std::string ReadText(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// SIGHUP. Renewed certificates (or a new CRL) under unchanged paths are the
// common case: they are reloaded in place, nothing stops. A changed
// configuration is checked whole (file, database, statements) before the
// running connector is touched; only then is it stopped and the new one
// started. Should the new one fail to start (its port taken, say), the old
// configuration is started again.
void Reload(const std::filesystem::path& config_file, std::string* loaded_text,
            std::unique_ptr<Connector>* connector) {
  std::string text = ReadText(config_file);
  if (text == *loaded_text) {
    Status reloaded = (*connector)->ReloadTls();
    if (reloaded.ok()) {
      spdlog::info("carrefour connector: TLS files reloaded");
    } else {
      spdlog::error("carrefour connector: TLS reload refused, the previous files stay: {}",
                    reloaded.message());
    }
    return;
  }
  Result<ConnectorConfig> config = LoadConfig(config_file);
  Result<std::unique_ptr<Connector>> next =
      config ? Connector::Create(std::move(*config))
             : Result<std::unique_ptr<Connector>>(Error(config.error()));
  if (!next) {
    spdlog::error("carrefour connector: reload refused, the running configuration stays:\n{}",
                  next.error().message());
    return;
  }
  (*connector)->Stop();
  Status started = (*next)->Start();
  if (started.ok()) {
    *connector = std::move(*next);
    *loaded_text = std::move(text);
    spdlog::info("carrefour connector: configuration reloaded");
    return;
  }
  spdlog::error("carrefour connector: the new configuration did not start ({}); restarting the "
                "previous one",
                started.message());
  next->reset();
  auto previous = ParseConfigWithDiagnostics(*loaded_text, config_file);
  Result<std::unique_ptr<Connector>> again =
      previous ? Connector::Create(std::move(*previous))
               : Result<std::unique_ptr<Connector>>(Error(Internal("the previous file changed")));
  if (again && (*again)->Start().ok()) {
    *connector = std::move(*again);
  } else {
    spdlog::critical("carrefour connector: the previous configuration did not restart either");
  }
}

}  // namespace

int RunConnector(const std::filesystem::path& config_file, bool check_only) {
  Result<ConnectorConfig> config = LoadConfig(config_file);
  if (!config) {
    std::cerr << config.error().message() << "\n";
    return 1;
  }
  const std::string institution = config->institution;
  const std::string provide_address = config->provide_listen;
  const std::string admin_address = config->admin_listen;
  Result<std::unique_ptr<Connector>> connector = Connector::Create(std::move(*config));
  if (!connector) {
    std::cerr << "carrefour connector: " << connector.error().message() << "\n";
    return 1;
  }
  if (check_only) {
    std::cout << config_file.string() << ": configuration valid for " << institution << "\n";
    return 0;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::string loaded_text = ReadText(config_file);

  Status started = (*connector)->Start();
  if (!started.ok()) {
    std::cerr << "carrefour connector: " << started.message() << "\n";
    return 1;
  }
  auto host = [](const std::string& address) { return address.substr(0, address.rfind(':')); };
  std::string line = fmt::format("carrefour connector {}:", institution);
  if ((*connector)->provide_port() != 0) {
    line += fmt::format(" provide on https://{}:{} (port {})", host(provide_address),
                        (*connector)->provide_port(), (*connector)->provide_port());
  }
  if ((*connector)->admin_port() != 0) {
    line += fmt::format("{} admin on http://{}:{} (port {})",
                        (*connector)->provide_port() != 0 ? "," : "", host(admin_address),
                        (*connector)->admin_port(), (*connector)->admin_port());
  }
  std::cout << line << std::endl;

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) {
      spdlog::info("carrefour connector {}: stopping (signal {})", institution, signal);
      (*connector)->Stop();
      return 0;
    }
    Reload(config_file, &loaded_text, &*connector);
  }
}

}  // namespace carrefour::connector
