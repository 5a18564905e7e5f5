// SPDX-License-Identifier: EUPL-1.2
#include "hub/hub.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/json.h"
#include "audit/answer.h"
#include "audit/audit_log.h"
#include "bis/service.h"
#include "console/console.h"
#include "core/timestamp.h"
#include "directory/decision.h"
#include "exchange/consultation.h"
#include "exchange/wire.h"
#include "hub/admin_guard.h"
#include "hub/console_api.h"
#include "hub/live_stats.h"
#include "hub/metrics.h"
#include "hub/rate_limiter.h"
#include "integration/entries.h"
#include "logging/logging.h"
#include "version/version.h"
#include "metrics/text.h"
#include "mutations/mutations.h"
#include "net/client.h"
#include "net/server.h"
#include "network/loader.h"
#include "niss/niss.h"
#include "research/research.h"
#include "store/store.h"
#include "transparency/transparency.h"

namespace carrefour::hub {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

// The metrics label of an API request. Only the methods and paths the API
// answers get their own label; anything else, the method included (a caller
// chooses it freely), is "other": callers inventing methods or paths must
// not be able to grow the metrics without bound.
std::string EndpointLabel(std::string_view method, std::string_view path) {
  static constexpr std::string_view kEndpoints[] = {
      "POST /v1/consultations", "POST /v1/consultations/batch", "POST /v1/directory/entries",
      "GET /v1/directory/entries",
      "POST /v1/mutations",     "GET /v1/mutations/feed",     "POST /v1/bis",
      "GET /v1/transparency"};
  for (std::string_view endpoint : kEndpoints) {
    if (endpoint.size() == method.size() + 1 + path.size() && endpoint.starts_with(method) &&
        endpoint[method.size()] == ' ' && endpoint.ends_with(path)) {
      return std::string(endpoint);
    }
  }
  return "other";
}

// Provide calls over mutual TLS with kept-alive pools (docs/api.md section 5).
class NetGateway : public exchange::ProviderGateway {
 public:
  explicit NetGateway(net::Client& client) : client_(client) {}

  // exchange::ProviderGateway
  void Provide(const network::Institution& provider, std::string body, Done done) override {
    if (provider.endpoint.empty()) {
      done(Error(Unavailable(fmt::format("{} has no endpoint in the network definition", provider.id))));
      return;
    }
    net::Endpoint endpoint;
    endpoint.tls = true;
    endpoint.host = provider.endpoint_host;
    endpoint.port = provider.endpoint_port;
    // The provider must present its own institution's certificate.
    endpoint.expected_cn = provider.id;
    client_.Post(endpoint, "/v1/provide", std::move(body),
                 [done = std::move(done), id = provider.id](Result<net::ClientResponse> response) {
                   if (!response) {
                     // The requester learns the code and who failed; the
                     // details (addresses, TLS alerts, the CN a server
                     // presented) are the network's internals: the hub's log.
                     spdlog::warn("provide call to {} failed: {}", id, response.error().ToString());
                     const StatusCode code = response.error().code();
                     done(Error(Status(code, code == StatusCode::kTimeout
                                                 ? fmt::format("{} did not answer in time", id)
                                                 : fmt::format("{} could not be reached or could not "
                                                               "prove its identity",
                                                               id))));
                     return;
                   }
                   done(exchange::ProviderReply{response->status, std::move(response->body)});
                 });
  }

 private:
  net::Client& client_;
};

// Whether an Authorization header carries the admin token. Both sides are
// hashed first and the digests compared in constant time: neither the
// token's bytes nor its length can be found by timing the answers.
bool AdminTokenMatches(std::string_view header, const std::string& token) {
  const std::string expected = "Bearer " + token;
  unsigned char given_digest[EVP_MAX_MD_SIZE], expected_digest[EVP_MAX_MD_SIZE];
  unsigned int given_size = 0, expected_size = 0;
  if (EVP_Digest(header.data(), header.size(), given_digest, &given_size, EVP_sha256(), nullptr) != 1 ||
      EVP_Digest(expected.data(), expected.size(), expected_digest, &expected_size, EVP_sha256(),
                 nullptr) != 1 ||
      given_size != expected_size) {
    return false;
  }
  return CRYPTO_memcmp(given_digest, expected_digest, expected_size) == 0;
}

// docs/api.md section 4: 429 rate-limited, with Retry-After in whole seconds.
// Not a Status: nothing but this answer ever carries it (never audited,
// never a provider's result).
net::Response RateLimitedResponse(const std::string& message, int64_t retry_after) {
  net::Response response = net::Response::Json(429, api::ErrorBody("rate-limited", message));
  response.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return response;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

json::object EntryJson(const directory::Entry& entry, bool with_institution) {
  json::object out;
  out["niss"] = entry.niss;
  if (with_institution) out["institution"] = entry.institution;
  out["capacity"] = entry.capacity;
  out["from"] = entry.period.from.ToString();
  if (entry.period.to) {
    out["to"] = entry.period.to->ToString();
  } else {
    out["to"] = nullptr;
  }
  return out;
}


}  // namespace

class Hub::Impl {
 public:
  Impl(HubOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

  Status Start();
  Status Reload();
  void Stop();
  void WarnAboutTls();

  std::shared_ptr<const directory::DecisionEngine> engine() const {
    return std::atomic_load(&engine_);
  }

  HubOptions options_;
  const Clock& clock_;
  std::shared_ptr<const directory::DecisionEngine> engine_;  // atomic_load/atomic_store
  std::mutex reload_mu_;
  std::unique_ptr<store::Store> store_;
  // The console's live figures, fed by every committed audit record (the
  // audit log writes through audit_tap_); declared before audit_, which
  // writes through them until it is destroyed.
  std::unique_ptr<LiveStats> live_;
  std::unique_ptr<ObservedAuditStorage> audit_tap_;
  std::unique_ptr<ConsoleApi> console_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<audit::AuditTrees> audit_trees_;  // proofs over every node's tree
  std::unique_ptr<net::Client> client_;
  std::unique_ptr<NetGateway> gateway_;
  std::unique_ptr<bis::Service> bis_;  // the BIS register (docs/bis.md)
  std::unique_ptr<research::ExtractJobs> research_;  // /v1/admin/research/extracts
  std::unique_ptr<exchange::ConsultationService> consultations_;
  std::unique_ptr<mutations::MutationService> mutations_;
  std::unique_ptr<transparency::Service> transparency_;  // GET /v1/transparency (docs/api.md 4.6)
  std::unique_ptr<net::Server> api_;
  std::unique_ptr<net::Server> admin_;
  Metrics metrics_;
  RateLimiter quotas_;  // [[quota]]: checked before any work on a request
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> reloads_{0}, reload_failures_{0};
  // What the loaded TLS files say about expiry (for /metrics and warnings).
  mutable std::mutex tls_mu_;
  std::optional<net::TlsFacts> tls_facts_;  // guarded by tls_mu_

  net::TlsFiles TlsFiles() const {
    return net::TlsFiles{.cert = options_.cert, .key = options_.key, .ca = options_.ca,
                         .crl = options_.crl, .refuse_stale_crl = options_.refuse_stale_crl};
  }

  // Readiness (/readyz): a thread checks twice a second that the store
  // answers and that the audit log is not failing; a hub that cannot serve
  // says so, so that a load balancer sends its traffic elsewhere, and comes
  // back by itself. Each change is logged once, with its cause.
  void StartHealthChecks();
  void StopHealthChecks();
  std::thread health_;
  std::mutex health_mu_;
  std::condition_variable health_wake_;
  bool health_stop_ = false;          // guarded by health_mu_
  std::string unhealthy_;             // guarded by health_mu_; why not ready, "" when healthy
  std::atomic<bool> healthy_{true};

 private:
  void HandleApi(net::Request&& request, net::Responder respond);
  void HandleAdmin(net::Request&& request, std::function<void(net::Response)> respond);
  void PostEntries(const network::Institution& caller, const net::Request& request,
                   std::function<void(net::Response)> respond);
  net::Response GetEntries(const network::Institution& caller, const net::Request& request);
  net::Response AdminAudit(const net::Request& request);
  net::Response AdminTransparency(const net::Request& request);
  net::Response AdminVerify();
  net::Response AdminAuditTree(const std::string& path, const net::Request& request);
  net::Response AdminNetwork();
  net::Response AdminDirectory(const net::Request& request);
  net::Response AuditPersonRead(const net::Request& request, net::Response response);
  std::string MetricsText() const;
};

Status Hub::Impl::Start() {
  if (options_.data_dir.empty()) return InvalidRequest("--data is required");
  // Checked before anything is opened: the admin listener serves the audit
  // trail and the directory.
  if (!options_.admin.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(auto admin, net::ParseListenAddress(options_.admin, "--admin"));
    if (!IsLoopback(admin.first) && options_.admin_token.empty() && !options_.admin_insecure) {
      return InvalidRequest(fmt::format(
          "refusing to open the admin listener on {} without a token: it serves the audit "
          "trail and the directory. Set --admin-token (or CARREFOUR_ADMIN_TOKEN), listen on a "
          "loopback address, or pass --admin-insecure if the network around it is trusted",
          options_.admin));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) return InvalidRequest(fmt::format("cannot create {}: {}", options_.data_dir.string(), ec.message()));
  // The data folder holds the directory, BIS identities, mutation payloads
  // and the audit: the hub's user only, whatever the umask it was started
  // with (RunHub also sets umask 077 for the files created inside).
  std::filesystem::permissions(options_.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return InvalidRequest(fmt::format("cannot restrict {} to its owner: {}", options_.data_dir.string(), ec.message()));
  if (options_.cert.empty()) options_.cert = options_.data_dir / "pki" / "hub.crt";
  if (options_.key.empty()) options_.key = options_.data_dir / "pki" / "hub.key";
  if (options_.ca.empty()) options_.ca = options_.data_dir / "pki" / "ca.crt";
  if (options_.store_url.empty()) options_.store_url = "sqlite:" + (options_.data_dir / "hub.db").string();

  Result<network::Definition> definition = network::LoadDefinition(options_.network_file);
  if (!definition) return definition.error();
  std::atomic_store(&engine_, std::shared_ptr<const directory::DecisionEngine>(
                                  std::make_shared<directory::DecisionEngine>(
                                      std::make_shared<const network::Definition>(std::move(*definition)))));

  Result<std::unique_ptr<store::Store>> store = store::OpenStore(options_.store_url, clock_);
  if (!store) return store.error().WithContext("store");
  store_ = std::move(*store);
  // A database file made by an earlier version (or under another umask)
  // may be world-readable; SQLite gives its -wal and -shm the database
  // file's mode, so restricting it now covers them when they are recreated.
  if (std::string_view url = options_.store_url; url.starts_with("sqlite:")) {
    const std::string database(url.substr(7));
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::path file = database + suffix;
      if (!std::filesystem::exists(file, ec)) continue;
      std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::replace, ec);
      if (ec) return InvalidRequest(fmt::format("cannot restrict {} to its owner: {}", file.string(), ec.message()));
    }
  }

  live_ = std::make_unique<LiveStats>(clock_, [this](std::string_view data_type) {
    return engine()->definition()->FindDataType(data_type) != nullptr;
  });
  audit_tap_ = std::make_unique<ObservedAuditStorage>(store_->audit(), *live_);
  console_ = std::make_unique<ConsoleApi>([this] { return engine(); }, *store_, *live_, clock_);

  // The node's checkpoint signing key (docs/api.md 6.1), kept in the data
  // folder like the TLS key.
  if (Status valid = audit::CheckNodeId(options_.node_id); !valid.ok()) return valid.WithContext("--node");
  Result<std::shared_ptr<const audit::NoteSigner>> signer = audit::NoteSigner::LoadOrCreate(
      audit::CheckpointOrigin(options_.node_id), audit::SigningKeyFile(options_.data_dir, options_.node_id));
  if (!signer) return signer.error().WithContext("audit signing key");
  Result<std::unique_ptr<audit::AuditLog>> audit = audit::AuditLog::Open(
      *audit_tap_,
      {.node = options_.node_id,
       .signer = std::move(*signer),
       .checkpoint_file = audit::CheckpointFile(options_.data_dir, options_.node_id),
       .verifiable = !options_.bench_unverifiable_audit},
      clock_);
  if (!audit) return audit.error().WithContext("audit log");
  if (options_.bench_unverifiable_audit) {
    logging::Event(spdlog::level::err, "audit log NOT verifiable",
                   {{"why", "--bench-unverifiable-audit: for benchmarks only; no signed checkpoints, no proofs"}});
  }
  audit_ = std::move(*audit);
  audit_trees_ = std::make_unique<audit::AuditTrees>(store_->audit());

  net::TlsFiles tls = TlsFiles();
  Result<net::TlsFacts> facts = net::InspectTlsFiles(tls);
  if (!facts) return facts.error().WithContext("TLS files");
  tls_facts_ = std::move(*facts);
  Result<std::unique_ptr<net::Client>> client =
      net::Client::Create({.tls = tls, .threads = 2, .timeout = options_.provider_timeout});
  if (!client) return client.error().WithContext("provider client");
  client_ = std::move(*client);
  gateway_ = std::make_unique<NetGateway>(*client_);
  // The BIS register answers person.identity for its numbers itself: its
  // gateway keeps those provide calls in the process; its changes go out as
  // any source's mutations.
  bis_ = std::make_unique<bis::Service>(
      [this] { return engine(); }, *store_, *audit_,
      [this](std::string_view source, std::string_view body,
             std::function<void(mutations::Reply)> done) {
        mutations_->Publish(source, body, std::move(done));
      },
      *gateway_, clock_);
  consultations_ = std::make_unique<exchange::ConsultationService>(
      [this] { return engine(); }, *store_, *audit_, bis_->gateway(), clock_);
  research_ = std::make_unique<research::ExtractJobs>([this] { return engine()->definition(); },
                                                     *store_, *audit_, bis_->gateway(),
                                                     options_.data_dir, clock_);
  if (options_.retention < std::chrono::seconds(1)) {
    return InvalidRequest("--retention must be at least 1s");
  }
  if (options_.purge_interval < std::chrono::seconds(1)) {
    return InvalidRequest("--purge-interval must be at least 1s");
  }
  mutations::Options mutation_options;
  mutation_options.retention = options_.retention;
  mutation_options.purge_interval = options_.purge_interval;
  // Only a shared PostgreSQL database can receive deliveries from another
  // hub process; on SQLite this process's own acceptances wake the waiters.
  if (store_->engine() == "postgresql") mutation_options.poll_interval = options_.feed_poll_interval;
  mutations_ = std::make_unique<mutations::MutationService>(
      [this] { return engine(); }, *store_, *audit_, clock_, mutation_options);

  transparency_ = std::make_unique<transparency::Service>([this] { return engine(); }, *store_, *audit_,
                                                          *audit_trees_, clock_);

  CARREFOUR_ASSIGN_OR_RETURN(auto listen, net::ParseListenAddress(options_.listen, "--listen"));
  net::ServerOptions api_options;
  api_options.address = listen.first;
  api_options.port = listen.second;
  api_options.threads = options_.threads;
  api_options.tls = tls;
  api_options.max_body_bytes = options_.max_body_bytes;
  api_options.max_connections = options_.max_connections;
  if (api_options.max_connections == 0) {
    // Every connection is a file descriptor. A tenth of the limit (at least
    // 64) stays for the store, the provider pools, the admin listener,
    // the audit files and the accept that must fail gracefully.
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    uint64_t limit = files.rlim_cur == RLIM_INFINITY ? 1'000'000 : files.rlim_cur;
    uint64_t reserve = std::max<uint64_t>(64, limit / 10);
    api_options.max_connections = limit > reserve + 16 ? limit - reserve : 16;
    spdlog::info("serving up to {} API connections (open-file limit {})",
                 api_options.max_connections, limit);
  }
  api_options.max_handshaking = options_.max_handshaking;
  api_options.idle_timeout = options_.idle_timeout;
  api_ = std::make_unique<net::Server>(
      api_options, [this](net::Request&& request, net::Responder respond) {
        HandleApi(std::move(request), std::move(respond));
      });
  CARREFOUR_RETURN_IF_ERROR(api_->Start().WithContext("API listener"));

  if (!options_.admin.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(auto admin, net::ParseListenAddress(options_.admin, "--admin"));
    net::ServerOptions admin_options;
    admin_options.address = admin.first;
    admin_options.port = admin.second;
    admin_options.threads = 1;
    admin_ = std::make_unique<net::Server>(
        admin_options, [this](net::Request&& request, net::Responder respond) {
          HandleAdmin(std::move(request), [respond](net::Response response) {
            AddAdminHeaders(response);
            respond(std::move(response));
          });
        });
    CARREFOUR_RETURN_IF_ERROR(admin_->Start().WithContext("admin listener"));
  }
  StartHealthChecks();
  ready_ = true;
  WarnAboutTls();
  return OkStatus();
}

void Hub::Impl::StartHealthChecks() {
  health_ = std::thread([this] {
    std::unique_lock lock(health_mu_);
    while (!health_stop_) {
      lock.unlock();
      Status health = store_->Ping();
      if (health.ok() && audit_->failing()) {
        health = Unavailable("the audit log cannot be written: " + audit_->last_error());
      } else if (!health.ok()) {
        health = Unavailable("the store cannot be read: " + health.message());
      }
      lock.lock();
      if (!health.ok() && unhealthy_.empty()) {
        spdlog::error("not ready (/readyz answers 503): {}", health.message());
      } else if (health.ok() && !unhealthy_.empty()) {
        spdlog::info("ready again (/readyz answers 200)");
      }
      unhealthy_ = health.ok() ? std::string() : health.message();
      healthy_ = health.ok();
      health_wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return health_stop_; });
    }
  });
}

void Hub::Impl::StopHealthChecks() {
  {
    std::lock_guard lock(health_mu_);
    health_stop_ = true;
  }
  health_wake_.notify_all();
  if (health_.joinable()) health_.join();
}

namespace {

// Warnings start this long before a certificate expires: time enough to
// issue, deploy and reload a new one without hurry.
constexpr std::chrono::hours kExpiryWarning = std::chrono::days(30);

double SecondsUntil(std::chrono::system_clock::time_point when) {
  return std::chrono::duration<double>(when - std::chrono::system_clock::now()).count();
}

}  // namespace

void Hub::Impl::WarnAboutTls() {
  std::optional<net::TlsFacts> facts;
  {
    std::lock_guard lock(tls_mu_);
    facts = tls_facts_;
  }
  if (!facts) return;
  auto now = std::chrono::system_clock::now();
  auto warn_expiry = [&](std::string_view what, std::chrono::system_clock::time_point not_after) {
    if (not_after - now > kExpiryWarning) return;
    double days = SecondsUntil(not_after) / 86400;
    if (days <= 0) {
      spdlog::error("the {} has EXPIRED ({:.1f} days ago): issue a new one and reload", what, -days);
    } else {
      spdlog::warn("the {} expires in {:.1f} days: issue a new one and reload", what, days);
    }
  };
  warn_expiry(fmt::format("hub certificate {} (CN={}, serial {})", options_.cert.string(),
                          facts->cert_cn, facts->cert_serial),
              facts->cert_not_after);
  warn_expiry(fmt::format("network CA certificate {}", options_.ca.string()), facts->ca_not_after);
  if (facts->crl_next_update && *facts->crl_next_update < now) {
    spdlog::error("the CRL {} is past its next-update time ({:.1f} hours ago): sign a fresh one "
                  "(`carrefour pki crl`) and reload{}",
                  options_.crl.string(), -SecondsUntil(*facts->crl_next_update) / 3600,
                  options_.refuse_stale_crl ? "; until then every handshake is refused" : "");
  }
}

Status Hub::Impl::Reload() {
  std::lock_guard lock(reload_mu_);
  Result<network::Definition> definition = network::LoadDefinition(options_.network_file);
  if (!definition) {
    reload_failures_.fetch_add(1);
    return definition.error();
  }
  // The TLS files next (docs/api.md section 6), all checked before anything
  // changes: a broken file leaves the old definition and files in force.
  const net::TlsFiles tls = TlsFiles();
  Result<net::TlsFacts> facts = net::InspectTlsFiles(tls);
  Status tls_loaded = facts ? api_->ReloadTls(tls) : facts.error();
  if (!tls_loaded.ok()) {
    reload_failures_.fetch_add(1);
    return tls_loaded.WithContext("TLS files");
  }
  // The same files, already loaded once above: this cannot fail short of
  // the files changing in between, which is reported.
  if (Status client = client_->ReloadTls(tls); !client.ok()) {
    reload_failures_.fetch_add(1);
    return client.WithContext("TLS files (provider client)");
  }
  {
    std::lock_guard tls_lock(tls_mu_);
    tls_facts_ = std::move(*facts);
  }
  WarnAboutTls();
  std::atomic_store(&engine_, std::shared_ptr<const directory::DecisionEngine>(
                                  std::make_shared<directory::DecisionEngine>(
                                      std::make_shared<const network::Definition>(std::move(*definition)))));
  reloads_.fetch_add(1);
  audit::Record record;
  record.kind = audit::Kind::kAdmin;
  record.request_id = audit::NewRequestId();
  record.reason = "network definition and TLS files reloaded";
  record.detail = options_.network_file.string();
  return audit_->AppendAndWait(std::move(record));
}

void Hub::Impl::Stop() {
  ready_ = false;
  StopHealthChecks();
  // Waiting feed reads are answered first, or the API's drain would wait
  // for them. Then the API: requests in flight finish (and are audited)
  // before the audit log is flushed and closed.
  if (mutations_) mutations_->Shutdown();
  if (api_) api_->Stop();
  if (admin_) admin_->Stop();
  research_.reset();  // a running extract stops after its batch (resumable)
  mutations_.reset();
  transparency_.reset();
  consultations_.reset();
  bis_.reset();
  gateway_.reset();
  client_.reset();
  audit_.reset();
}

namespace {

// A store failure: logged with what the hub was doing, answered unavailable.
Status StoreFailed(std::string_view doing, const Status& error, std::string_view prefix = {}) {
  logging::Event(spdlog::level::err, "store error", {{"operation", std::string(doing)}, {"error", error.ToString()}});
  return Unavailable(std::string(prefix) + error.message());
}

// One line per API request (docs/api.md section 7): who asked for what and
// how it went — never a national number, a name or a payload. A request
// without an audit request id (not a consultation) gets a fresh one.
void LogRequest(std::string request_id, const std::string& caller, const std::string& method,
                const std::string& route, int status, double seconds) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  if (request_id.empty()) request_id = audit::NewRequestId();
  logging::Event(spdlog::level::info, "request",
                 {{"request_id", std::move(request_id)},
                  {"caller", caller},
                  {"method", method},
                  {"route", route},
                  {"status", std::to_string(status)},
                  {"duration_ms", fmt::format("{:.3f}", seconds * 1000)}});
}

}  // namespace

void Hub::Impl::HandleApi(net::Request&& request, net::Responder respond) {
  const SteadyClock::time_point start = SteadyClock::now();
  const bool known = request.path == "/v1/consultations" || request.path == "/v1/consultations/batch" ||
                     request.path == "/v1/directory/entries" ||
                     request.path == "/v1/mutations" || request.path == "/v1/mutations/feed" ||
                     request.path == "/v1/bis" || request.path == "/v1/transparency";
  // The method too: a caller chooses it freely.
  std::string endpoint = EndpointLabel(request.method, request.path);
  // The request log's route: a known path, never one that holds a number.
  std::string route = known                                 ? request.path
                      : bis::Service::IsApiPath(request.path) ? "/v1/bis/{niss}"
                                                              : "other";
  auto answer = [this, start, respond, endpoint, route = std::move(route), method = request.method,
                 caller = request.peer](net::Response response, std::string data_type = {},
                                        std::string request_id = {}) {
    double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    metrics_.Record(endpoint, response.status, data_type, seconds);
    LogRequest(request_id, caller, method, route, response.status, seconds);
    respond(std::move(response));
  };
  std::shared_ptr<const directory::DecisionEngine> engine = this->engine();
  const network::Institution* caller = engine->definition()->FindInstitution(request.peer);
  if (caller == nullptr) {
    return answer(net::ErrorResponse(UnknownInstitution(fmt::format(
        "the certificate's CN '{}' is not an institution of the network", request.peer))));
  }
  if (caller->id == engine->definition()->bis_register().institution) {  // the hub itself
    return answer(net::ErrorResponse(UnknownInstitution(fmt::format(
        "'{}' is the hub's own BIS register: no certificate speaks for it", request.peer))));
  }
  // Before any work (parsing, the directory, the store): an institution over
  // its quota costs the hub only this.
  if (std::optional<int64_t> wait = quotas_.Acquire(caller->id, engine->definition()->QuotaFor(*caller))) {
    return answer(RateLimitedResponse(
        fmt::format("{} is over its quota of {} requests per second; retry after {} s",
                    caller->id, engine->definition()->QuotaFor(*caller)->requests_per_second,
                    *wait),
        *wait));
  }
  if (request.path == "/v1/consultations" || request.path == "/v1/consultations/batch") {
    if (request.method != "POST") return answer(net::ErrorResponse(InvalidRequest("use POST")));
    const Date today = clock_.Today();
    if (request.path == "/v1/consultations/batch") {
      // docs/api.md 4.5: a batch that cannot be read is refused whole, and audited.
      return consultations_->ConsultBatch(caller->id, request.body, [answer](exchange::Reply reply) {
        answer(net::Response::Json(reply.status, std::move(reply.body)));
      });
    }
    directory::ConsultationRequest asked;
    asked.requester = caller->id;
    Status read = exchange::ReadConsultationRequest(request.body, today, &asked);
    // Only data types of the definition become labels: a caller inventing
    // names must not grow the metrics without bound.
    std::string label;
    if (engine->definition()->FindDataType(asked.data_type) != nullptr) label = asked.data_type;
    auto reply = [answer, label = std::move(label)](Result<exchange::ConsultationAnswer> outcome) {
      int status = exchange::HttpStatusOf(outcome);
      std::string request_id = outcome ? outcome->request_id : std::string();
      answer(net::Response::Json(status, exchange::BodyOf(std::move(outcome))), label, std::move(request_id));
    };
    if (!read.ok()) return consultations_->Refuse(caller->id, asked, read, std::move(reply));
    consultations_->Consult(caller->id, asked, std::move(reply));
    return;
  }
  if (request.path == "/v1/mutations") {
    if (request.method != "POST") return answer(net::ErrorResponse(InvalidRequest("use POST")));
    mutations_->Publish(caller->id, request.body, [answer](mutations::Reply reply) {
      answer(net::Response::Json(reply.status, std::move(reply.body)));
    });
    return;
  }
  if (request.path == "/v1/mutations/feed") {
    if (request.method != "GET") return answer(net::ErrorResponse(InvalidRequest("use GET")));
    // A long poll keeps only the responder: no worker thread waits.
    mutations_->ReadFeed(
        caller->id, request.QueryParam("after"), request.QueryParam("limit"),
        request.QueryParam("wait"),
        [answer](mutations::Reply reply) {
          answer(net::Response::Json(reply.status, std::move(reply.body)));
        },
        [respond] { return respond.abandoned(); });
    return;
  }
  if (request.path == "/v1/transparency") {
    if (request.method != "GET") return answer(net::ErrorResponse(InvalidRequest("use GET")));
    transparency_->Handle(caller->id, request.QueryParam("niss"), [answer](transparency::Reply reply) {
      answer(net::Response::Json(reply.status, std::move(reply.body)));
    });
    return;
  }
  if (request.path == "/v1/directory/entries") {
    if (request.method == "POST") {
      return PostEntries(*caller, request, [answer](net::Response r) { answer(std::move(r)); });
    }
    if (request.method == "GET") return answer(GetEntries(*caller, request));
    return answer(net::ErrorResponse(InvalidRequest("use GET or POST")));
  }
  if (bis::Service::IsApiPath(request.path)) {
    bis_->HandleApi(caller->id, request.method, request.path, request.body, [answer](bis::Reply reply) {
      answer(net::Response::Json(reply.status, std::move(reply.body)));
    });
    return;
  }
  answer(net::ErrorResponse(NotFound(fmt::format("no endpoint {} {}", request.method, request.path))));
}

void Hub::Impl::PostEntries(const network::Institution& caller, const net::Request& request,
                            std::function<void(net::Response)> respond) {
  const SteadyClock::time_point start = SteadyClock::now();
  audit::Record record;
  record.kind = audit::Kind::kIntegration;
  record.request_id = audit::NewRequestId();
  record.requester = caller.id;
  auto finish = [this, start, &record, &respond](net::Response response) {
    record.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
    audit::AuditThenAnswer(
        *audit_, std::move(record), std::move(response),
        [] { return net::ErrorResponse(Unavailable("the audit log could not be written; try again")); },
        std::move(respond));
  };
  auto refuse = [&](const Status& status) {
    record.outcome = status.code();
    record.reason = status.message();
    finish(net::ErrorResponse(status));
  };

  // docs/api.md section 4.1 (integration/entries.h).
  std::shared_ptr<const directory::DecisionEngine> engine = this->engine();
  Result<integration::EntriesBatch> batch =
      integration::ReadEntries(request.body, *engine->definition(), caller, clock_.Today());
  if (!batch) return refuse(batch.error());
  if (Status applied = integration::ApplyEntries(&*batch, store_->directory()); !applied.ok()) {
    return refuse(StoreFailed("write directory entries", applied, "the person directory could not be written: "));
  }
  const size_t entries = batch->results.size();
  const size_t rejected = integration::RejectedCount(*batch);
  record.reason = rejected == 0 ? "applied" : "applied with rejections";
  record.detail = fmt::format("entries={} ok={} rejected={}", entries, entries - rejected, rejected);
  // One person per batch is the common case for an institution declaring a
  // file; record the number then, so the transparency view can show it.
  if (batch->valid.size() == 1) record.niss = batch->valid.front().entry.niss;
  finish(net::Response::Json(200, integration::WriteEntriesAnswer(*batch)));
}

net::Response Hub::Impl::GetEntries(const network::Institution& caller, const net::Request& request) {
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss) return net::ErrorResponse(InvalidRequest("the query parameter 'niss' is required"));
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return net::ErrorResponse(normalized.error());
  Result<std::vector<directory::Entry>> entries = store_->directory().EntriesOf(caller.id, *normalized);
  if (!entries) return net::ErrorResponse(StoreFailed("read the caller's entries", entries.error()));
  json::array list;
  for (const directory::Entry& entry : *entries) list.push_back(EntryJson(entry, false));
  json::object answer;
  answer["niss"] = *normalized;
  answer["entries"] = std::move(list);
  return net::Response::Json(200, json::serialize(answer));
}

void Hub::Impl::HandleAdmin(net::Request&& request, std::function<void(net::Response)> respond) {
  const std::string& path = request.path;
  if (path == "/healthz") return respond(net::Response::Text(200, "ok\n"));
  if (path == "/readyz") {
    if (!ready_) return respond(net::Response::Text(503, "starting\n"));
    if (!healthy_) {
      std::lock_guard lock(health_mu_);
      return respond(net::Response::Text(503, fmt::format("unavailable: {}\n", unhealthy_)));
    }
    // The audit log's state is known at once (no round trip): a failed
    // write takes the hub out without waiting for the next check.
    if (audit_->failing()) {
      return respond(net::Response::Text(
          503, fmt::format("unavailable: the audit log cannot be written: {}\n", audit_->last_error())));
    }
    return respond(net::Response::Text(200, "ready\n"));
  }
  // DNS rebinding and cross-site requests (hub/admin_guard.h): before
  // anything, the console's files included.
  if (Status allowed = CheckAdminRequest(request, AdminHosts{options_.admin_hosts}); !allowed.ok()) {
    return respond(net::ErrorResponse(allowed));
  }
  // The console's files hold no data (its pages fetch the endpoints below
  // with the token), so they are served without it.
  if (std::optional<net::Response> file = console_->Static(request)) return respond(std::move(*file));
  if (path == "/openapi.yaml") {  // the API's description holds no data either
    net::Response description = net::Response::Text(200, std::string(console::kOpenApiYaml));
    description.content_type = "application/yaml";
    return respond(std::move(description));
  }
  if (!options_.admin_token.empty()) {
    std::optional<std::string_view> auth = request.Header("authorization");
    if (!auth || !AdminTokenMatches(*auth, options_.admin_token)) {
      return respond(net::ErrorResponse(NotAuthorized("the admin endpoints need 'Authorization: Bearer <token>'")));
    }
  }
  if (path == "/metrics") return respond(net::Response::Text(200, MetricsText()));
  if (path == "/v1/admin/network") return respond(AdminNetwork());
  if (path == "/v1/admin/person") {
    if (std::optional<net::Response> answer = console_->Handle(request)) {
      return respond(AuditPersonRead(request, std::move(*answer)));
    }
  }
  if (std::optional<net::Response> answer = console_->Handle(request)) return respond(std::move(*answer));
  if (path == "/v1/admin/directory") return respond(AuditPersonRead(request, AdminDirectory(request)));
  if (path == "/v1/admin/audit") return respond(AuditPersonRead(request, AdminAudit(request)));
  if (path == "/v1/admin/audit/verify") return respond(AdminVerify());
  if (path == "/v1/admin/audit/checkpoint" || path == "/v1/admin/audit/key" ||
      path == "/v1/admin/audit/proof" || path == "/v1/admin/audit/consistency") {
    return respond(AdminAuditTree(path, request));
  }
  if (path == "/v1/admin/transparency") {
    return respond(AuditPersonRead(request, AdminTransparency(request)));
  }
  if (path == "/v1/admin/bis") {
    bis::Reply reply = bis_->HandleAdmin(request.QueryParam("niss"), request.QueryParam("q"),
                                         request.QueryParam("birth_date"), request.QueryParam("limit"));
    return respond(net::Response::Json(reply.status, std::move(reply.body)));
  }
  if (path == "/v1/admin/research/extracts") {
    research::ExtractJobs::Reply reply =
        research_->Handle(request.method, request.QueryParam("project"), request.body);
    return respond(net::Response::Json(reply.status, std::move(reply.body)));
  }
  if (path == "/v1/admin/reload") {
    if (request.method != "POST") return respond(net::ErrorResponse(InvalidRequest("use POST")));
    Status reloaded = Reload();
    if (!reloaded.ok()) {
      logging::Event(spdlog::level::err, "reload refused", {{"by", "admin"}, {"error", reloaded.ToString()}});
      return respond(net::ErrorResponse(reloaded));
    }
    logging::Event(spdlog::level::info, "reloaded", {{"by", "admin"}});
    return respond(net::Response::Json(200, R"({"reloaded":true})"));
  }
  respond(net::ErrorResponse(NotFound(fmt::format("no admin endpoint {}", path))));
}

// An administrator's read that names a person (?niss=) is audited, as BIS
// look-ups are: who looked at whom is what oversight of the hub's own staff
// needs. The record is durable before the answer leaves; a refused read
// (which showed nothing) is not traced.
net::Response Hub::Impl::AuditPersonRead(const net::Request& request, net::Response response) {
  if (response.status != 200) return response;
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss || niss->empty()) return response;
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return response;
  audit::Record record;
  record.kind = audit::Kind::kAdmin;
  record.request_id = audit::NewRequestId();
  record.requester = "admin";
  record.niss = *normalized;
  record.reason = fmt::format("admin read of {}", request.path);
  return audit::AuditThenAnswerAndWait(*audit_, std::move(record), std::move(response), [] {
    return net::ErrorResponse(Unavailable("the audit log could not be written; try again"));
  });
}

net::Response Hub::Impl::AdminNetwork() {
  std::shared_ptr<const network::Definition> definition = engine()->definition();
  json::object out;
  out["source"] = definition->source();
  json::array types;
  for (const auto& type : definition->institution_types()) {
    json::array capacities;
    for (const auto& capacity : type.capacities) capacities.emplace_back(capacity);
    types.push_back(json::object{{"id", type.id}, {"capacities", std::move(capacities)}});
  }
  out["institution_types"] = std::move(types);
  json::array institutions;
  for (const auto& institution : definition->institutions()) {
    institutions.push_back(json::object{{"id", institution.id}, {"type", institution.type},
                                        {"name", institution.name}, {"endpoint", institution.endpoint}});
  }
  out["institutions"] = std::move(institutions);
  json::array data_types;
  for (const auto& data_type : definition->data_types()) {
    json::array fields;
    for (const auto& field : data_type.fields) fields.emplace_back(field);
    data_types.push_back(json::object{{"id", data_type.id}, {"fields", std::move(fields)}});
  }
  out["data_types"] = std::move(data_types);
  json::array availability;
  for (const auto& row : definition->availability()) {
    json::object item{{"data_type", row.data_type}, {"provider_type", row.provider_type}};
    item["capacity"] = row.capacity ? json::value(*row.capacity) : json::value(nullptr);
    availability.push_back(std::move(item));
  }
  out["availability"] = std::move(availability);
  json::array authorizations;
  for (const auto& row : definition->authorizations()) {
    json::array fields;
    for (const auto& field : row.fields) fields.emplace_back(field);
    json::object item{{"data_type", row.data_type}, {"capacity", row.capacity},
                      {"fields", std::move(fields)}, {"legal_basis", row.legal_basis},
                      {"period", api::PeriodJson(row.validity)}};
    if (row.requester.empty()) {
      item["requester_type"] = row.requester_type;
    } else {
      item["requester"] = row.requester;
    }
    authorizations.push_back(std::move(item));
  }
  out["authorizations"] = std::move(authorizations);
  json::array subscriptions;
  for (const auto& row : definition->subscriptions()) {
    json::object item{{"data_type", row.data_type}, {"capacity", row.capacity}};
    if (row.institution.empty()) {
      item["institution_type"] = row.institution_type;
    } else {
      item["institution"] = row.institution;
    }
    subscriptions.push_back(std::move(item));
  }
  out["subscriptions"] = std::move(subscriptions);
  return net::Response::Json(200, json::serialize(out));
}

net::Response Hub::Impl::AdminDirectory(const net::Request& request) {
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss) return net::ErrorResponse(InvalidRequest("the query parameter 'niss' is required"));
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return net::ErrorResponse(normalized.error());
  Result<std::vector<directory::Entry>> entries = store_->directory().EntriesOfPerson(*normalized);
  if (!entries) return net::ErrorResponse(StoreFailed("read a person's entries", entries.error()));
  json::array list;
  for (const directory::Entry& entry : *entries) list.push_back(EntryJson(entry, true));
  json::object answer;
  answer["niss"] = *normalized;
  answer["entries"] = std::move(list);
  return net::Response::Json(200, json::serialize(answer));
}

namespace {

json::object RecordJson(const audit::Record& record) {
  json::object out;
  out["node"] = record.node;
  out["seq"] = record.seq;
  out["time"] = FormatRfc3339(record.time_us);
  out["kind"] = audit::KindName(record.kind);
  out["request_id"] = record.request_id;
  out["requester"] = record.requester;
  out["niss"] = record.niss;
  out["data_type"] = record.data_type;
  out["capacity"] = record.capacity;
  out["legal_basis"] = record.legal_basis;
  out["outcome"] = SpecCode(record.outcome);
  out["reason"] = record.reason;
  out["providers"] = record.providers;
  out["latency_us"] = record.latency_us;
  out["answer_sha256"] = record.answer_sha256;
  out["detail"] = record.detail;
  out["hash"] = record.hash;
  out["index"] = record.seq - 1;
  out["leaf_hash"] = audit::ToHex(audit::LeafHash(record));
  return out;
}

// A query parameter that must be a whole number.
Result<uint64_t> CountParam(const net::Request& request, std::string_view name) {
  std::optional<std::string_view> text = request.QueryParam(name);
  if (!text || text->empty()) {
    return Error(InvalidRequest(fmt::format("the query parameter '{}' is required", name)));
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Error(InvalidRequest(fmt::format("'{}' must be a whole number", name)));
  }
  return value;
}

json::array HexList(const std::vector<audit::Hash>& hashes) {
  json::array out;
  for (const audit::Hash& hash : hashes) out.push_back(json::string(audit::ToHex(hash)));
  return out;
}

}  // namespace

net::Response Hub::Impl::AdminAudit(const net::Request& request) {
  audit::Query query;
  if (auto niss = request.QueryParam("niss"); niss && !niss->empty()) {
    Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
    if (!normalized) return net::ErrorResponse(normalized.error());
    query.niss = *normalized;
  }
  if (auto requester = request.QueryParam("requester")) query.requester = std::string(*requester);
  if (auto kind = request.QueryParam("kind"); kind && !kind->empty()) {
    query.kind = KindFromName(*kind);
    if (!query.kind) {
      return net::ErrorResponse(InvalidRequest(fmt::format("no audit record kind '{}'", *kind)));
    }
  }
  if (auto limit = request.QueryParam("limit")) {
    try {
      query.limit = std::min<size_t>(std::stoul(std::string(*limit)), 10000);
    } catch (const std::exception&) {
      return net::ErrorResponse(InvalidRequest("'limit' must be a number"));
    }
  }
  Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(query);
  if (!records) return net::ErrorResponse(StoreFailed("query the audit log", records.error()));
  json::array list;
  for (const audit::Record& record : *records) list.push_back(RecordJson(record));
  json::object answer;
  answer["records"] = std::move(list);
  return net::Response::Json(200, json::serialize(answer));
}

// docs/api.md 6.1: a node's checkpoint, key, and proofs over its tree (this
// node's unless ?node= names another).
net::Response Hub::Impl::AdminAuditTree(const std::string& path, const net::Request& request) {
  std::string node = options_.node_id;
  if (auto named = request.QueryParam("node"); named && !named->empty()) node = std::string(*named);
  if (Status valid = audit::CheckNodeId(node); !valid.ok()) return net::ErrorResponse(valid);
  if (path == "/v1/admin/audit/checkpoint") {
    if (node == options_.node_id) return net::Response::Text(200, audit_->checkpoint().note);
    Result<std::vector<audit::Checkpoint>> latest = store_->audit().AuditCheckpoints();
    if (!latest) return net::ErrorResponse(Unavailable(latest.error().message()));
    for (const audit::Checkpoint& checkpoint : *latest) {
      if (checkpoint.node == node) return net::Response::Text(200, checkpoint.note);
    }
    return net::ErrorResponse(NotFound(fmt::format("no checkpoint of node {}", node)));
  }
  if (path == "/v1/admin/audit/key") {
    if (node == options_.node_id) return net::Response::Text(200, audit_->verifier_key() + "\n");
    Result<std::vector<audit::NodeKey>> keys = store_->audit().AuditKeys();
    if (!keys) return net::ErrorResponse(Unavailable(keys.error().message()));
    for (const audit::NodeKey& key : *keys) {
      if (key.node == node) return net::Response::Text(200, key.verifier_key + "\n");
    }
    return net::ErrorResponse(NotFound(fmt::format("no published key of node {}", node)));
  }
  if (path == "/v1/admin/audit/proof") {
    Result<uint64_t> index = CountParam(request, "index");
    if (!index) return net::ErrorResponse(index.error());
    Result<uint64_t> size = CountParam(request, "size");
    if (!size) return net::ErrorResponse(size.error());
    Result<audit::AuditTrees::Inclusion> proof = audit_trees_->InclusionProof(node, *index, *size);
    if (!proof) return net::ErrorResponse(proof.error());
    json::object answer;
    answer["index"] = proof->index;
    answer["tree_size"] = proof->size;
    answer["leaf_hash"] = audit::ToHex(proof->leaf);
    answer["proof"] = HexList(proof->proof);
    return net::Response::Json(200, json::serialize(answer));
  }
  Result<uint64_t> from = CountParam(request, "from");
  if (!from) return net::ErrorResponse(from.error());
  Result<uint64_t> to = CountParam(request, "to");
  if (!to) return net::ErrorResponse(to.error());
  Result<std::vector<audit::Hash>> proof = audit_trees_->ConsistencyProof(node, *from, *to);
  if (!proof) return net::ErrorResponse(proof.error());
  json::object answer;
  answer["from"] = *from;
  answer["to"] = *to;
  answer["proof"] = HexList(*proof);
  return net::Response::Json(200, json::serialize(answer));
}

net::Response Hub::Impl::AdminVerify() {
  audit::VerifyOptions verify_options;
  verify_options.expected_nodes = {options_.node_id};
  verify_options.remembered = audit::KeptCheckpoints(options_.data_dir);
  verify_options.remembered.push_back(audit_->checkpoint().note);
  Result<audit::VerifyReport> report = audit::Verify(store_->audit(), verify_options);
  if (!report) return net::ErrorResponse(StoreFailed("verify the audit log", report.error()));
  json::object answer;
  answer["ok"] = report->ok;
  answer["records"] = report->records;
  std::string head;
  json::array chains;
  for (const audit::ChainSummary& chain : report->chains) {
    if (chain.node == options_.node_id) head = chain.head;
    chains.push_back(json::object{
        {"node", chain.node}, {"records", chain.records}, {"head", chain.head}, {"root", chain.root}});
  }
  answer["head"] = head;
  answer["chains"] = std::move(chains);
  answer["verdict"] = report->verdict == audit::Verdict::kIntact   ? "intact"
                      : report->verdict == audit::Verdict::kBroken ? "broken"
                                                                   : "not-verifiable";
  if (report->verdict == audit::Verdict::kBroken) answer["first_bad"] = report->first_bad;
  if (!report->not_verified.empty()) {
    json::array reasons;
    for (const std::string& why : report->not_verified) reasons.push_back(json::string(why));
    answer["not_verified"] = std::move(reasons);
  }
  return net::Response::Json(200, json::serialize(answer));
}

// The same view as GET /v1/transparency (docs/api.md 4.6), for the console's
// person page, and, as before, the research uses under "research".
net::Response Hub::Impl::AdminTransparency(const net::Request& request) {
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss) return net::ErrorResponse(InvalidRequest("the query parameter 'niss' is required"));
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return net::ErrorResponse(normalized.error());
  Result<json::object> view = transparency_->View(*normalized);
  if (!view) return net::ErrorResponse(StoreFailed("build the transparency view", view.error()));
  audit::Query query;
  query.niss = *normalized;
  query.limit = 1000;
  // Research extracts the person was part of (docs/research.md): the
  // project, never the pseudonym.
  query.kind = audit::Kind::kResearch;
  Result<std::vector<audit::Record>> research = store_->audit().QueryAudit(query);
  if (!research) return net::ErrorResponse(StoreFailed("read the research records", research.error()));
  json::array uses;
  for (const audit::Record& record : *research) {
    std::optional<std::string> project = research::ResearchProjectOf(record.detail);
    if (!project) continue;
    uses.push_back(json::object{{"time", FormatRfc3339(record.time_us)},
                                {"project", *project},
                                {"requester", record.requester},
                                {"legal_basis", record.legal_basis},
                                {"data_types", record.data_type},
                                {"use", fmt::format("used in research project {}", *project)}});
  }
  (*view)["research"] = std::move(uses);
  return net::Response::Json(200, json::serialize(*view));
}

std::string Hub::Impl::MetricsText() const {
  metrics::TextWriter out;
  metrics_.Write(out);
  auto gauge = [&out](std::string_view name, std::string_view help, uint64_t value, std::string_view type = "gauge") {
    out.Family(name, type, help);
    out.Sample(name, {}, static_cast<double>(value));
  };
  if (consultations_) {
    // Consultations' provide calls, by provider and outcome (ok, no-data,
    // error); the research extracts' calls are in their report.
    out.Family("carrefour_provider_calls_total", "counter", "Provide calls made, by provider and outcome.");
    for (const exchange::ProviderOutcomes::Row& row : consultations_->counters().providers.Read()) {
      for (auto [outcome, count] : {std::pair<std::string_view, uint64_t>{"ok", row.ok},
                                    {"no-data", row.no_data},
                                    {"error", row.error}}) {
        out.Sample("carrefour_provider_calls_total", {{"provider", row.provider}, {"outcome", outcome}},
                   static_cast<double>(count));
      }
    }
  }
  if (audit_) {
    gauge("carrefour_audit_queue", "Audit records waiting to be committed.", audit_->queued());
    gauge("carrefour_audit_records", "Records in this node's audit chain.", static_cast<uint64_t>(audit_->last_seq()));
    gauge("carrefour_audit_commits_total", "Audit group commits.", audit_->commits(), "counter");
  }
  if (api_) {
    net::ServerStats stats = api_->stats();
    gauge("carrefour_connections_open", "Open API connections.", stats.connections_open);
    gauge("carrefour_connections_rejected_total", "Connections refused over the cap.", stats.connections_rejected, "counter");
    gauge("carrefour_handshake_failures_total", "Failed TLS handshakes.", stats.handshake_failures, "counter");
    gauge("carrefour_handshakes_revoked_total", "Handshakes refused for a revoked certificate.",
          stats.handshakes_revoked, "counter");
    gauge("carrefour_connections_shed_total",
          "Connections closed in their TLS handshake to keep the handshake budget.",
          stats.connections_shed, "counter");
    gauge("carrefour_connections_revoked_total",
          "Connections closed by a reload: their certificate is no longer accepted.",
          stats.connections_revoked, "counter");
  }
  std::optional<net::TlsFacts> facts;
  {
    std::lock_guard lock(tls_mu_);
    facts = tls_facts_;
  }
  if (facts) {
    out.Family("carrefour_certificate_expiry_seconds", "gauge",
               "Seconds until the certificate expires (negative: expired); warnings from 30 days "
               "before.");
    out.Sample("carrefour_certificate_expiry_seconds", {{"certificate", "hub"}},
               std::round(SecondsUntil(facts->cert_not_after)));
    out.Sample("carrefour_certificate_expiry_seconds", {{"certificate", "ca"}},
               std::round(SecondsUntil(facts->ca_not_after)));
    if (facts->crl_next_update) {
      double due = SecondsUntil(*facts->crl_next_update);
      out.Family("carrefour_crl_next_update_seconds", "gauge",
                 "Seconds until the CRL's next-update (negative: stale).");
      out.Sample("carrefour_crl_next_update_seconds", {}, std::round(due));
      out.Family("carrefour_crl_stale", "gauge", "1 while the CRL is past its next-update.");
      out.Sample("carrefour_crl_stale", {}, due < 0 ? 1 : 0);
    }
  }
  if (mutations_) out.Append(mutations_->Metrics());
  if (store_) {
    gauge("carrefour_store_retries_total",
          "Store operations run again after a lost connection or a serialization failure.",
          store_->retries(), "counter");
  }
  gauge("carrefour_ready", "1 when /readyz answers 200.",
        ready_ && healthy_ && !(audit_ && audit_->failing()) ? 1 : 0);
  out.Append(quotas_.Metrics());
  gauge("carrefour_reloads_total", "Successful definition reloads.", reloads_.load(), "counter");
  gauge("carrefour_reload_failures_total", "Refused definition reloads.", reload_failures_.load(), "counter");
  out.Standard();  // carrefour_build_info and process_*
  return std::move(out).Text();
}

Hub::Hub(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hub::~Hub() { Stop(); }

Result<std::unique_ptr<Hub>> Hub::Start(HubOptions options, const Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  Status started = impl->Start();
  if (!started.ok()) {
    impl->Stop();
    return Error(started);
  }
  return std::unique_ptr<Hub>(new Hub(std::move(impl)));
}

Status Hub::Reload() { return impl_->Reload(); }
void Hub::WarnAboutTls() { impl_->WarnAboutTls(); }
void Hub::Stop() {
  if (impl_) impl_->Stop();
}
uint16_t Hub::api_port() const { return impl_->api_ ? impl_->api_->port() : 0; }
uint16_t Hub::admin_port() const { return impl_->admin_ ? impl_->admin_->port() : 0; }

uint64_t RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  const rlim_t before = files.rlim_cur;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) {
      spdlog::warn("cannot raise the open-file limit from {} to {}: {}", before, files.rlim_max,
                   std::strerror(errno));
      return before;
    }
    spdlog::info("open-file limit raised from {} to {}", before, files.rlim_cur);
  }
  return files.rlim_cur;
}

int RunHub(HubOptions options) {
  // Signals are taken synchronously by this thread only: block them before
  // any other thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Everything the hub creates (database, WAL, research extracts, keys) is
  // for its own user only, whatever umask it was started with.
  ::umask(077);
  // Before any connection: the limit sizes the connection budget.
  RaiseOpenFileLimit();
  Result<std::unique_ptr<Hub>> hub = Hub::Start(options);
  if (!hub) {
    std::fprintf(stderr, "carrefour hub: %s\n", hub.error().ToString().c_str());
    logging::Event(spdlog::level::err, "hub failed to start", {{"error", hub.error().ToString()}});
    logging::Shutdown();
    return 1;
  }
  logging::Event(spdlog::level::info, "hub started",
                 {{"version", version::Line()},
                  {"api", fmt::format("{} (port {})", options.listen, (*hub)->api_port())},
                  {"admin", fmt::format("{} (port {})", options.admin, (*hub)->admin_port())},
                  {"network", options.network_file.string()},
                  {"node", options.node_id}});
  std::fprintf(stdout, "carrefour hub: API on https://%s (port %u), admin on http://%s (port %u)\n",
               options.listen.c_str(), (*hub)->api_port(), options.admin.c_str(), (*hub)->admin_port());
  std::fflush(stdout);
  for (;;) {
    // Woken every hour to repeat the expiry warnings: a certificate that
    // expires in a month must not be noticed only when it stops working.
    const timespec hour{3600, 0};
    int signal = sigtimedwait(&signals, nullptr, &hour);
    if (signal < 0) {
      if (errno == EAGAIN) (*hub)->WarnAboutTls();
      continue;
    }
    if (signal == SIGHUP) {
      Status reloaded = (*hub)->Reload();
      if (reloaded.ok()) {
        std::fprintf(stdout, "carrefour hub: network definition and TLS files reloaded\n");
        logging::Event(spdlog::level::info, "reloaded", {{"by", "SIGHUP"}});
      } else {
        logging::Event(spdlog::level::err, "reload refused",
                       {{"by", "SIGHUP"}, {"error", reloaded.ToString()}});
        std::fprintf(stderr, "carrefour hub: reload refused, the previous definition stays:\n%s\n",
                     reloaded.message().c_str());
      }
      std::fflush(stdout);
      continue;
    }
    std::fprintf(stdout, "carrefour hub: stopping\n");
    std::fflush(stdout);
    logging::Event(spdlog::level::info, "stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    (*hub)->Stop();
    logging::Event(spdlog::level::info, "stopped", {});
    logging::Shutdown();
    return 0;
  }
}

}  // namespace carrefour::hub
