// SPDX-License-Identifier: EUPL-1.2
#include "hub/hub.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <iterator>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/json.h"
#include "api/reply.h"
#include "audit/answer.h"
#include "audit/audit_log.h"
#include "bis/service.h"
#include "console/console.h"
#include "core/timestamp.h"
#include "directory/decision.h"
#include "exchange/consultation.h"
#include "exchange/wire.h"
#include "hub/admin_api.h"
#include "hub/admin_guard.h"
#include "hub/console_api.h"
#include "hub/live_stats.h"
#include "hub/metrics.h"
#include "hub/rate_limiter.h"
#include "integration/entries_service.h"
#include "logging/logging.h"
#include "version/version.h"
#include "metrics/text.h"
#include "mutations/mutations.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/server.h"
#include "network/loader.h"
#include "niss/niss.h"
#include "provide/net_gateway.h"
#include "replica/directory_replica.h"
#include "research/research.h"
#include "store/store.h"
#include "transparency/transparency.h"

namespace carrefour::hub {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The metrics label of an API request. Only the methods and paths the API
// answers get their own label; anything else, the method included (a caller
// chooses it freely), is "other": callers inventing methods or paths must
// not be able to grow the metrics without bound.
std::string_view EndpointLabel(std::string_view method, std::string_view path) {
  static constexpr std::string_view kEndpoints[] = {
      "POST /v1/consultations", "POST /v1/consultations/batch", "POST /v1/directory/entries",
      "GET /v1/directory/entries",
      "POST /v1/mutations",     "GET /v1/mutations/feed",     "POST /v1/bis",
      "GET /v1/transparency"};
  for (std::string_view endpoint : kEndpoints) {
    if (endpoint.size() == method.size() + 1 + path.size() && endpoint.starts_with(method) &&
        endpoint[method.size()] == ' ' && endpoint.ends_with(path)) {
      return endpoint;
    }
  }
  return "other";
}

// The request log's route: a path the API answers, never one that holds a
// number ("/v1/bis/{niss}"), else "other".
std::string_view RequestRoute(const std::string& path) {
  static constexpr std::string_view kPaths[] = {
      "/v1/consultations", "/v1/consultations/batch", "/v1/directory/entries", "/v1/mutations",
      "/v1/mutations/feed", "/v1/bis", "/v1/transparency"};
  const auto* known = std::find(std::begin(kPaths), std::end(kPaths), path);
  if (known != std::end(kPaths)) return *known;
  return bis::Service::IsApiPath(path) ? "/v1/bis/{niss}" : "other";
}

// docs/api.md section 4: 429 rate-limited, with Retry-After in whole seconds.
// Not a Status: nothing but this answer ever carries it (never audited,
// never a provider's result).
net::Response RateLimitedResponse(const std::string& message, int64_t retry_after) {
  net::Response response = net::Response::Json(429, api::ErrorBody("rate-limited", message));
  response.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return response;
}

// A module's answer (api::Reply) as the HTTP response that carries it.
net::Response FromReply(api::Reply reply) { return net::Response::Json(reply.status, std::move(reply.body)); }

}  // namespace

class Hub::Impl {
 public:
  Impl(HubOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

  Status Start();
  Status Reload();
  void Stop();
  void WarnAboutTls();
  // Start()'s steps, in order.
  Status PrepareDataFolder();
  Status OpenStore();
  Status StartEventLoop();
  Status OpenAuditLog();
  Status StartServices();
  Status StartListeners();

  // Hands a writer thread's answers to the event loop, all in one task: the
  // audit log's and the mutation writer's (neither writer does I/O).
  std::function<void(std::function<void()>)> OnLoop() const {
    return [loop = loop_.get()](std::function<void()> answers) { loop->Post(std::move(answers)); };
  }

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
  // The API listener's threads, shared with the provider client: a
  // provider's answer is filtered and audited on the thread that reads it,
  // which is one of the API's (net/event_loop.h). Declared before the client
  // and the listeners, so that it goes after them.
  std::shared_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::Client> client_;
  std::unique_ptr<provide::NetGateway> gateway_;
  std::unique_ptr<bis::Service> bis_;  // the BIS register (docs/bis.md)
  std::unique_ptr<research::ExtractJobs> research_;  // /v1/admin/research/extracts
  // The directory in memory for decisions (--directory-in-memory).
  std::unique_ptr<replica::DirectoryReplica> replica_;
  std::unique_ptr<exchange::ConsultationService> consultations_;
  std::unique_ptr<mutations::MutationService> mutations_;
  std::unique_ptr<transparency::Service> transparency_;  // GET /v1/transparency (docs/api.md 4.6)
  std::unique_ptr<integration::EntriesService> entries_;  // /v1/directory/entries, /v1/admin/directory
  std::unique_ptr<AdminApi> admin_api_;  // the admin listener's network and audit views
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
  std::optional<net::Response> Admit(const network::Definition& definition, const std::string& peer,
                                     const network::Institution** caller);
  void HandleAdmin(net::Request&& request, std::function<void(net::Response)> respond);
  std::string MetricsText() const;
};

Status Hub::Impl::Start() {
  if (options_.data_dir.empty()) return InvalidRequest("--data is required");
  // Checked before anything is opened: the admin listener serves the audit
  // trail and the directory.
  if (!options_.admin.empty()) {
    CARREFOUR_RETURN_IF_ERROR(
        CheckAdminExposure(options_.admin, !options_.admin_token.empty(), options_.admin_insecure));
  }
  CARREFOUR_RETURN_IF_ERROR(PrepareDataFolder());
  Result<network::Definition> definition = network::LoadDefinition(options_.network_file);
  if (!definition) return definition.error();
  std::atomic_store(&engine_, std::shared_ptr<const directory::DecisionEngine>(
                                  std::make_shared<directory::DecisionEngine>(
                                      std::make_shared<const network::Definition>(std::move(*definition)))));
  CARREFOUR_RETURN_IF_ERROR(OpenStore());
  CARREFOUR_RETURN_IF_ERROR(StartEventLoop());
  CARREFOUR_RETURN_IF_ERROR(OpenAuditLog());
  CARREFOUR_RETURN_IF_ERROR(StartServices());
  CARREFOUR_RETURN_IF_ERROR(StartListeners());
  StartHealthChecks();
  ready_ = true;
  WarnAboutTls();
  return OkStatus();
}

// The data folder, owner only, and the files that default into it.
Status Hub::Impl::PrepareDataFolder() {
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
  return OkStatus();
}

Status Hub::Impl::OpenStore() {
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
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) continue;
      std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::replace, ec);
      if (ec) return InvalidRequest(fmt::format("cannot restrict {} to its owner: {}", file.string(), ec.message()));
    }
  }
  return OkStatus();
}

// This node's audit chain, written through the console's live figures.
// The API's event loop, shared by the provider calls and by the audit log's
// answers: a commit's answers are posted to the connections from it at once.
Status Hub::Impl::StartEventLoop() {
  if (options_.threads < 0) return InvalidRequest("--threads must be 0 (one per core) or more");
  const int threads = options_.threads > 0
                          ? options_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  loop_ = net::EventLoop::Start(threads);
  spdlog::info("API event loop: {} thread{}", threads, threads == 1 ? "" : "s");
  return OkStatus();
}

Status Hub::Impl::OpenAuditLog() {
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
       .verifiable = !options_.bench_unverifiable_audit,
       .deliver = OnLoop()},
      clock_);
  if (!audit) return audit.error().WithContext("audit log");
  if (options_.bench_unverifiable_audit) {
    logging::Event(spdlog::level::err, "audit log NOT verifiable",
                   {{"why", "--bench-unverifiable-audit: for benchmarks only; no signed checkpoints, no proofs"}});
  }
  audit_ = std::move(*audit);
  audit_trees_ = std::make_unique<audit::AuditTrees>(store_->audit());
  return OkStatus();
}

// The provider client and the modules the listeners route to.
Status Hub::Impl::StartServices() {
  net::TlsFiles tls = TlsFiles();
  Result<net::TlsFacts> facts = net::InspectTlsFiles(tls);
  if (!facts) return facts.error().WithContext("TLS files");
  tls_facts_ = std::move(*facts);
  Result<std::unique_ptr<net::Client>> client =
      net::Client::Create({.tls = tls, .loop = loop_, .timeout = options_.provider_timeout});
  if (!client) return client.error().WithContext("provider client");
  client_ = std::move(*client);
  gateway_ = std::make_unique<provide::NetGateway>(*client_, provide::NetGateway::Errors::kForRequester);
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
  if (options_.directory_in_memory) {
    replica_ = std::make_unique<replica::DirectoryReplica>(store_->directory(),
                                                           [this] { return engine(); });
    replica_->Start();
  }
  consultations_ = std::make_unique<exchange::ConsultationService>(
      [this] { return engine(); }, *store_, *audit_, bis_->gateway(), clock_, replica_.get());
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
  // The answers of a written group leave from the event loop, as the audit
  // log's do: the writer thread goes on to the next group.
  mutation_options.deliver = OnLoop();
  mutations_ = std::make_unique<mutations::MutationService>(
      [this] { return engine(); }, *store_, *audit_, clock_, mutation_options, replica_.get());

  transparency_ = std::make_unique<transparency::Service>([this] { return engine(); }, *store_, *audit_,
                                                          *audit_trees_, clock_);
  entries_ = std::make_unique<integration::EntriesService>([this] { return engine(); },
                                                           store_->directory(), *audit_, clock_);
  admin_api_ = std::make_unique<AdminApi>([this] { return engine(); }, *store_, *audit_, *audit_trees_,
                                          options_.node_id, options_.data_dir, clock_);
  return OkStatus();
}

// The mutual-TLS API, then the admin listener (when --admin is not "").
Status Hub::Impl::StartListeners() {
  CARREFOUR_ASSIGN_OR_RETURN(auto listen, net::ParseListenAddress(options_.listen, "--listen"));
  net::ServerOptions api_options;
  api_options.address = listen.first;
  api_options.port = listen.second;
  api_options.loop = loop_;
  api_options.tls = TlsFiles();
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
    // Every answer of the admin listener, the server's own error answers
    // included (hub/admin_guard.h).
    admin_options.finish_answer = AddAdminHeaders;
    admin_ = std::make_unique<net::Server>(
        admin_options, [this](net::Request&& request, net::Responder respond) {
          HandleAdmin(std::move(request), [respond](net::Response response) {
            respond(std::move(response));
          });
        });
    CARREFOUR_RETURN_IF_ERROR(admin_->Start().WithContext("admin listener"));
  }
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
  entries_.reset();
  admin_api_.reset();
  consultations_.reset();
  replica_.reset();
  bis_.reset();
  gateway_.reset();
  client_.reset();
  audit_.reset();
}

namespace {

// One line per API request (docs/api.md section 7): who asked for what and
// how it went — never a national number, a name or a payload. A request
// without an audit request id (not a consultation) gets a fresh one.
void LogRequest(std::string request_id, const std::string& caller, const std::string& method,
                std::string_view route, int status, double seconds) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  if (request_id.empty()) request_id = audit::NewRequestId();
  logging::Event(spdlog::level::info, "request",
                 {{"request_id", std::move(request_id)},
                  {"caller", caller},
                  {"method", method},
                  {"route", std::string(route)},
                  {"status", std::to_string(status)},
                  {"duration_ms", fmt::format("{:.3f}", seconds * 1000)}});
}

}  // namespace

// Who calls, from the certificate's CN; or the answer refusing the request
// before any work (parsing, the directory, the store): an unknown CN, the
// hub's own BIS register, an institution over its quota (which costs the
// hub only this).
std::optional<net::Response> Hub::Impl::Admit(const network::Definition& definition,
                                              const std::string& peer,
                                              const network::Institution** caller) {
  *caller = definition.FindInstitution(peer);
  if (*caller == nullptr) {
    return net::ErrorResponse(UnknownInstitution(
        fmt::format("the certificate's CN '{}' is not an institution of the network", peer)));
  }
  if ((*caller)->id == definition.bis_register().institution) {  // the hub itself
    return net::ErrorResponse(UnknownInstitution(
        fmt::format("'{}' is the hub's own BIS register: no certificate speaks for it", peer)));
  }
  if (std::optional<int64_t> wait = quotas_.Acquire((*caller)->id, definition.QuotaFor(**caller))) {
    return RateLimitedResponse(
        fmt::format("{} is over its quota of {} requests per second; retry after {} s",
                    (*caller)->id, definition.QuotaFor(**caller)->requests_per_second, *wait),
        *wait);
  }
  return std::nullopt;
}

void Hub::Impl::HandleApi(net::Request&& request, net::Responder respond) {
  const SteadyClock::time_point start = SteadyClock::now();
  // The method too: a caller chooses it freely.
  // Labels of static storage: nothing copied per request.
  const std::string_view endpoint = EndpointLabel(request.method, request.path);
  auto answer = [this, start, respond, endpoint, route = RequestRoute(request.path), method = request.method,
                 caller = request.peer](net::Response response, std::string_view data_type = {},
                                        std::string request_id = {}) {
    double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    metrics_.Record(endpoint, response.status, data_type, seconds);
    LogRequest(request_id, caller, method, route, response.status, seconds);
    respond(std::move(response));
  };
  std::shared_ptr<const directory::DecisionEngine> engine = this->engine();
  const network::Institution* caller = nullptr;
  if (std::optional<net::Response> refused = Admit(*engine->definition(), request.peer, &caller)) {
    return answer(std::move(*refused));
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
    // (The definition's own string: it outlives the request, the engine
    // being held by it.)
    std::string_view label;
    if (const network::DataType* known = engine->definition()->FindDataType(asked.data_type)) {
      label = known->id;
    }
    auto reply = [answer = std::move(answer), label, engine](Result<exchange::ConsultationAnswer> outcome) {
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
      answer(FromReply(std::move(reply)));
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
          answer(FromReply(std::move(reply)));
        },
        [respond] { return respond.abandoned(); });
    return;
  }
  if (request.path == "/v1/transparency") {
    if (request.method != "GET") return answer(net::ErrorResponse(InvalidRequest("use GET")));
    transparency_->Handle(caller->id, request.QueryParam("niss"), [answer](transparency::Reply reply) {
      answer(FromReply(std::move(reply)));
    });
    return;
  }
  if (request.path == "/v1/directory/entries") {
    if (request.method == "POST") {
      return entries_->Post(*caller, request.body, [answer](api::Reply reply) {
        answer(FromReply(std::move(reply)));
      });
    }
    if (request.method == "GET") {
      return answer(FromReply(entries_->OwnEntries(*caller, request.QueryParam("niss"))));
    }
    return answer(net::ErrorResponse(InvalidRequest("use GET or POST")));
  }
  if (bis::Service::IsApiPath(request.path)) {
    bis_->HandleApi(caller->id, request.method, request.path, request.body, [answer](bis::Reply reply) {
      answer(FromReply(std::move(reply)));
    });
    return;
  }
  answer(net::ErrorResponse(NotFound(fmt::format("no endpoint {} {}", request.method, request.path))));
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
  if (std::optional<net::Response> answer = admin_api_->Handle(request)) return respond(std::move(*answer));
  if (path == "/v1/admin/person") {
    if (std::optional<net::Response> answer = console_->Handle(request)) {
      return respond(admin_api_->AuditPersonRead(request, std::move(*answer)));
    }
  }
  if (std::optional<net::Response> answer = console_->Handle(request)) return respond(std::move(*answer));
  if (path == "/v1/admin/directory") {
    return respond(admin_api_->AuditPersonRead(
        request, FromReply(entries_->PersonEntries(request.QueryParam("niss")))));
  }
  if (path == "/v1/admin/transparency") {
    return respond(admin_api_->AuditPersonRead(
        request, FromReply(transparency_->AdminView(request.QueryParam("niss")))));
  }
  if (path == "/v1/admin/bis") {
    bis::Reply reply = bis_->HandleAdmin(request.QueryParam("niss"), request.QueryParam("q"),
                                         request.QueryParam("birth_date"), request.QueryParam("limit"));
    return respond(FromReply(std::move(reply)));
  }
  if (path == "/v1/admin/research/extracts") {
    research::ExtractJobs::Reply reply =
        research_->Handle(request.method, request.QueryParam("project"), request.body);
    return respond(FromReply(std::move(reply)));
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
    // One read: the count and the durations of the same commits.
    const metrics::Histogram commits = audit_->commit_durations();
    gauge("carrefour_audit_commits_total", "Audit group commits.", commits.count(), "counter");
    out.Family("carrefour_audit_commit_duration_seconds", "histogram",
               "Audit group commits' durations (the transaction and its fsync).");
    out.Write("carrefour_audit_commit_duration_seconds", {}, commits);
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
    gauge("carrefour_accept_failures_total", "accept() failures (out of file descriptors), retried.",
          stats.accept_failures, "counter");
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
  if (replica_) {
    const replica::DirectoryReplica::Stats copy = replica_->stats();
    gauge("carrefour_directory_copy_persons",
          "Persons in the directory's copy in memory (--directory-in-memory).", copy.persons);
    gauge("carrefour_directory_copy_bytes", "Memory held by the directory's copy.", copy.bytes);
    gauge("carrefour_directory_copy_loads_total",
          "Whole loads of the directory's copy (start, reload of the definition).", copy.loads,
          "counter");
    out.Family("carrefour_directory_copy_decisions_total", "counter",
               "Decisions by where the person's entries were read: the copy in memory, or the "
               "store while the copy was loading or catching up.");
    out.Sample("carrefour_directory_copy_decisions_total", {{"source", "memory"}},
               static_cast<double>(copy.memory_reads));
    out.Sample("carrefour_directory_copy_decisions_total", {{"source", "store"}},
               static_cast<double>(copy.store_reads));
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
