// SPDX-License-Identifier: EUPL-1.2
#include "demo/demo.h"

#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/clock.h"
#include "demo/changes.h"
#include "demo/demo_network.h"
#include "demo/institutions.h"
#include "demo/population.h"
#include "demo/processes.h"
#include "metrics/text.h"
#include "net/client.h"
#include "net/server.h"
#include "network/loader.h"
#include "pki/pki.h"

namespace carrefour::demo {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A listening socket the demo binds itself and hands to the child that
// serves it (Child::Start): the address announced in the network definition
// and the connector configurations is held from the moment it is chosen, so
// no other socket (an outgoing connection's ephemeral port, another program)
// can take it before the child serves it. The demo's copy is closed once the
// child has its own.
class Listener {
 public:
  Listener() = default;
  Listener(Listener&& other) noexcept : fd_(std::exchange(other.fd_, -1)), address_(std::move(other.address_)) {}
  Listener& operator=(Listener&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
      address_ = std::move(other.address_);
    }
    return *this;
  }
  ~Listener() { Close(); }

  // Binds and listens on `wanted` (HOST:PORT, numeric host; port 0: the
  // system picks). When the port is taken and `or_any_port`, another port on
  // the same host. Errors name the address and the reason.
  static Result<Listener> Open(const std::string& wanted, std::string_view what, bool or_any_port) {
    CARREFOUR_ASSIGN_OR_RETURN(auto parsed, net::ParseListenAddress(wanted, what));
    Result<Listener> listener = Bind(parsed.first, parsed.second);
    if (!listener && or_any_port && parsed.second != 0) {
      std::cout << fmt::format("  {} {} is not free ({}); taking another port\n", what, wanted,
                               listener.error().message());
      listener = Bind(parsed.first, 0);
    }
    if (!listener) {
      return tl::unexpected(Status(StatusCode::kUnavailable,
                                   fmt::format("{}: {}", what, listener.error().message())));
    }
    return listener;
  }

  int fd() const { return fd_; }
  const std::string& address() const { return address_; }  // HOST:PORT as bound
  uint16_t port() const {
    Result<std::pair<std::string, uint16_t>> parsed = net::ParseListenAddress(address_, "address");
    return parsed ? parsed->second : 0;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  static Result<Listener> Bind(const std::string& host, uint16_t port) {
    const std::string where = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                                  : fmt::format("{}:{}", host, port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    addrinfo* found = nullptr;
    int resolved = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (resolved != 0 || found == nullptr) {
      return tl::unexpected(Status(StatusCode::kInvalidRequest,
                                   fmt::format("cannot listen on {}: {}", where, gai_strerror(resolved))));
    }
    Listener listener;
    listener.fd_ = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int error = listener.fd_ < 0 ? errno : 0;
    if (error == 0) {
      int one = 1;  // as net::Server: a port in TIME_WAIT may be bound again
      setsockopt(listener.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(listener.fd_, found->ai_addr, found->ai_addrlen) != 0 || listen(listener.fd_, SOMAXCONN) != 0) {
        error = errno;
      }
    }
    freeaddrinfo(found);
    if (error != 0) {
      return tl::unexpected(Status(StatusCode::kUnavailable,
                                   fmt::format("cannot listen on {}: {}", where, std::strerror(error))));
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    getsockname(listener.fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    uint16_t bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listener.address_ = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, bound_port)
                                                            : fmt::format("{}:{}", host, bound_port);
    return listener;
  }

  int fd_ = -1;
  std::string address_;
};

// Sync calls to the hub as each institution, and to admin listeners.
class Callers {
 public:
  Callers(const fs::path& pki, const std::vector<std::string>& institutions,
          const std::string& hub_address, const std::string& admin_address, std::string token)
      : token_(std::move(token)) {
    hub_ = *net::Endpoint::Parse("https://" + hub_address, "hub");
    admin_ = *net::Endpoint::Parse("http://" + admin_address);
    for (const std::string& id : institutions) {
      auto client = net::Client::Create({.tls = net::TlsFiles{pki / (id + ".crt"), pki / (id + ".key"), pki / "ca.crt"},
                                         .threads = 1,
                                         .timeout = std::chrono::milliseconds(10000)});
      if (client) clients_[id] = std::move(*client);
    }
    plain_ = std::move(*net::Client::Create({.threads = 1}));
  }

  net::Client& As(const std::string& id) { return *clients_.at(id); }
  const net::Endpoint& hub() const { return hub_; }

  Result<net::ClientResponse> Post(const std::string& as, const std::string& target,
                                   const std::string& body) {
    return clients_.at(as)->PostSync(hub_, target, body);
  }
  Result<json::value> Admin(const std::string& target) {
    net::ClientRequest request;
    request.method = "GET";
    request.target = target;
    if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
    CARREFOUR_ASSIGN_OR_RETURN(net::ClientResponse response, plain_->SendSync(admin_, std::move(request)));
    boost::system::error_code ec;
    json::value value = json::parse(response.body, ec);
    if (ec) return tl::unexpected(Status(StatusCode::kInternal, "admin answer is not JSON: " + response.body));
    return value;
  }
  // An admin answer that is not JSON (the audit key, a checkpoint).
  Result<std::string> AdminText(const std::string& target) {
    net::ClientRequest request;
    request.method = "GET";
    request.target = target;
    if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
    CARREFOUR_ASSIGN_OR_RETURN(net::ClientResponse response, plain_->SendSync(admin_, std::move(request)));
    if (response.status != 200) {
      return tl::unexpected(Status(StatusCode::kInternal, fmt::format("{} answered {}", target, response.status)));
    }
    return response.body;
  }
  Result<std::string> Get(const net::Endpoint& endpoint, const std::string& target) {
    CARREFOUR_ASSIGN_OR_RETURN(net::ClientResponse response, plain_->GetSync(endpoint, target));
    return response.body;
  }
  Result<net::ClientResponse> GetResponse(const net::Endpoint& endpoint, const std::string& target) {
    return plain_->GetSync(endpoint, target);
  }

 private:
  net::Endpoint hub_, admin_;
  std::map<std::string, std::unique_ptr<net::Client>> clients_;
  std::unique_ptr<net::Client> plain_;
  std::string token_;
};

std::string ReadText(const fs::path& db, const std::string& sql, const std::string& param) {
  sqlite3* handle = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(handle, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, param.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return out;
}

// Where each kind of institution keeps the addresses it applies from its feed.
const std::map<std::string, std::string> kAddressTables = {
    {"mutuality", "member_address"},
    {"family-allowance-fund", "child_address"},
    {"pension-service", "pensioner_address"},
    {"social-welfare-centre", "beneficiary_address"}};

class Demo {
 public:
  explicit Demo(const DemoOptions& options) : options_(options) {}

  int Run() {
    Status status = Prepare();
    if (status.ok()) status = StartProcesses();
    if (status.ok()) status = WaitForDirectory();
    int code = 0;
    if (!status.ok()) {
      std::cerr << "carrefour demo: " << status.message() << "\n"
                << "  logs: " << (dir_ / "logs").string() << "\n";
      code = 1;
    } else {
      PrintReady();
      code = options_.scenario ? RunScenarios() : RunTraffic();
    }
    StopProcesses();
    return code;
  }

 private:
  // --- set-up ------------------------------------------------------------

  Status Prepare() {
    dir_ = fs::absolute(options_.data_dir);
    std::error_code ec;
    for (const char* part : {"pki", "institutions", "hub", "logs"}) fs::remove_all(dir_ / part, ec);
    fs::create_directories(dir_ / "logs", ec);
    if (ec) return Status(StatusCode::kInvalidRequest, fmt::format("{}: {}", dir_.string(), ec.message()));
    std::cout << fmt::format("carrefour demo: {} persons (seed {}) in {}\n", options_.persons,
                             options_.seed, dir_.string());

    auto started = Clock::now();
    today_ = SystemClock().Today();
    population_ = GeneratePopulation({.persons = options_.persons, .seed = options_.seed, .today = today_});
    size_t bis = 0;
    for (const Person& p : population_.persons) bis += p.bis ? 1 : 0;
    std::cout << fmt::format("  [1/6] population: {} persons in {} households, {} employers, {} with a BIS number ({:.1f} s)\n",
                             population_.persons.size(), population_.households.size(),
                             population_.employers.size(), bis, Seconds(started));

    // Ports: the hub's as asked when free, the connectors' picked here so
    // that the network definition can name them. Each is bound and held
    // from now on, and handed to the process that serves it (Listener).
    CARREFOUR_ASSIGN_OR_RETURN(hub_listener_, Listener::Open(options_.listen, "--listen", true));
    CARREFOUR_ASSIGN_OR_RETURN(admin_listener_, Listener::Open(options_.admin, "--admin", true));
    hub_address_ = hub_listener_.address();
    admin_address_ = admin_listener_.address();
    std::map<std::string, uint16_t> provide_ports;
    Result<network::Definition> template_definition =
        network::ParseDefinition(DemoNetworkTemplate(), "examples/network.toml");
    if (!template_definition) return template_definition.error();
    for (const network::Institution& institution : template_definition->institutions()) {
      if (institution.endpoint.empty()) continue;  // runs no connector (a research centre)
      institutions_.push_back(institution.id);
      CARREFOUR_ASSIGN_OR_RETURN(provide_listener_[institution.id],
                                 Listener::Open("127.0.0.1:0", "provide listener of " + institution.id, false));
      provide_address_[institution.id] = provide_listener_[institution.id].address();
      provide_ports[institution.id] = provide_listener_[institution.id].port();
    }

    started = Clock::now();
    const fs::path pki = dir_ / "pki";
    CARREFOUR_RETURN_IF_ERROR(pki::InitAuthority(pki, pki::AuthorityOptions{.common_name = "carrefour demo network CA"}));
    std::vector<std::string> names;
    for (const network::Institution& institution : template_definition->institutions()) {
      names.push_back(institution.id);
    }
    names.push_back("hub");
    for (const std::string& name : names) {
      CARREFOUR_RETURN_IF_ERROR(pki::IssueCertificate(pki, {.name = name, .hosts = {"127.0.0.1", "localhost"}}));
    }
    std::cout << fmt::format("  [2/6] PKI: network CA, hub and {} institution certificates in {} ({:.1f} s)\n",
                             names.size() - 1, pki.string(), Seconds(started));

    const std::string toml = DemoNetworkToml(provide_ports);
    network_file_ = dir_ / "network.toml";
    std::ofstream(network_file_) << toml;
    Result<network::Definition> definition = network::ParseDefinition(toml, network_file_.string());
    if (!definition) return definition.error();
    definition_ = std::move(*definition);
    std::cout << fmt::format("  [3/6] network definition: {} ({} institutions, {} data types, {} authorizations)\n",
                             network_file_.string(), definition_->institutions().size(),
                             definition_->data_types().size(), definition_->authorizations().size());

    started = Clock::now();
    layout_.dir = dir_ / "institutions";
    layout_.pki_dir = pki;
    layout_.hub_url = "https://" + hub_address_;
    for (const std::string& id : institutions_) {
      layout_.listen[id] = InstitutionListen{.provide = provide_address_[id], .admin = "127.0.0.1:0"};
    }
    CARREFOUR_RETURN_IF_ERROR(WriteInstitutions(population_, *definition_, layout_));
    expected_entries_ = DirectoryEntryCounts(population_);
    size_t total = 0;
    for (const auto& [id, count] : expected_entries_) total += count;
    std::cout << fmt::format("  [4/6] institution databases and connector configurations in {}: {} files to declare ({:.1f} s)\n",
                             layout_.dir.string(), total, Seconds(started));
    return OkStatus();
  }

  Status StartProcesses() {
    const std::string self = SelfExecutable().string();
    const fs::path pki = dir_ / "pki";
    std::vector<std::string> argv = {self, "hub", "--network", network_file_.string(), "--data",
                                     (dir_ / "hub").string(), "--listen", hub_address_, "--admin",
                                     admin_address_, "--cert", (pki / "hub.crt").string(), "--key",
                                     (pki / "hub.key").string(), "--ca", (pki / "ca.crt").string()};
    if (!options_.admin_token.empty()) {
      // Through the environment, not the command line that `ps` shows.
      setenv("CARREFOUR_ADMIN_TOKEN", options_.admin_token.c_str(), 1);
    }
    CARREFOUR_ASSIGN_OR_RETURN(hub_, Child::Start("hub", std::move(argv), dir_ / "logs" / "hub.log",
                                                  {hub_listener_.fd(), admin_listener_.fd()}));
    hub_listener_.Close();  // the hub holds them now
    admin_listener_.Close();
    // The hub's own word that it serves (/readyz), not a line of its output.
    // Beside the connectors' institutions, the citizen portals (no
    // connector: they only ask) call the hub in the scenarios.
    std::vector<std::string> callers = institutions_;
    for (const network::TransparencyAccess& access : definition_->transparency_access()) {
      if (!access.requester.empty()) callers.push_back(access.requester);
    }
    callers_ = std::make_unique<Callers>(dir_ / "pki", callers, hub_address_, admin_address_,
                                         options_.admin_token);
    const net::Endpoint hub_admin = *net::Endpoint::Parse("http://" + admin_address_);
    if (!WaitReady(*hub_, hub_admin)) {
      return Status(StatusCode::kUnavailable, fmt::format("the hub did not start: {} (logs/hub.log)", LastWords(*hub_)));
    }
    std::cout << fmt::format("  [5/6] hub: API https://{}, console http://{}/\n", hub_address_, admin_address_);

    for (const std::string& id : institutions_) {
      CARREFOUR_ASSIGN_OR_RETURN(
          connectors_[id],
          Child::Start(id, {self, "connector", "--config", ConnectorConfigPath(layout_, id).string()},
                       dir_ / "logs" / (id + ".log"), {provide_listener_[id].fd()}));
      provide_listener_[id].Close();
    }
    static const std::regex kAdminPort(R"(admin on http://[^ ]+ \(port (\d+)\))");
    for (const std::string& id : institutions_) {
      std::optional<std::string> line = connectors_[id]->WaitForLine(
          [](const std::string& l) { return l.find("carrefour connector") != std::string::npos; },
          std::chrono::seconds(60));
      std::smatch match;
      if (!line || !std::regex_search(*line, match, kAdminPort)) {
        return Status(StatusCode::kUnavailable, fmt::format("the connector of {} did not start: {} (logs/{}.log)", id,
                                                            LastWords(*connectors_[id]), id));
      }
      connector_admin_[id] = *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", match[1].str()));
      if (!WaitReady(*connectors_[id], connector_admin_[id])) {
        return Status(StatusCode::kUnavailable, fmt::format("the connector of {} did not become ready: {} (logs/{}.log)",
                                                            id, LastWords(*connectors_[id]), id));
      }
    }
    return OkStatus();
  }

  // Polls GET /readyz on a child's admin listener until it answers 200;
  // false when the child exits or 60 s pass.
  bool WaitReady(Child& child, const net::Endpoint& admin) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      Result<net::ClientResponse> answer = callers_->GetResponse(admin, "/readyz");
      if (answer && answer->status == 200) return true;
      if (!child.Running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // What a child that did not start said last, for the demo's own message.
  static std::string LastWords(Child& child) {
    std::string last = child.LastLogLine();
    return last.empty() ? (child.Running() ? "no answer within 60 s" : "it exited without a word") : last;
  }

  // The connectors declare every file themselves; this waits until the hub
  // has answered all of them, showing progress.
  Status WaitForDirectory() {
    size_t expected = 0;
    for (const auto& [id, count] : expected_entries_) expected += count;
    const bool tty = isatty(STDOUT_FILENO);
    auto started = Clock::now();
    uint64_t done = 0, rejected = 0, last_printed = UINT64_MAX;
    auto next_print = Clock::now();
    while (true) {
      done = 0;
      rejected = 0;
      for (const std::string& id : institutions_) {
        Result<std::string> text = callers_->Get(connector_admin_[id], "/metrics");
        if (!text) continue;
        Result<std::vector<metrics::ParsedSample>> samples = metrics::ParseText(*text);
        if (!samples) {
          return Status(StatusCode::kInternal,
                        fmt::format("the connector of {} exports unreadable metrics: {}", id, samples.error().message()));
        }
        done += static_cast<uint64_t>(metrics::Sum(*samples, "carrefour_connector_integrations_total"));
        rejected += static_cast<uint64_t>(metrics::Sum(*samples, "carrefour_connector_integrations_total",
                                                       {{"institution", id}, {"outcome", "rejected"}}));
      }
      // On a terminal the line updates in place; in a log, every 5 seconds.
      bool due = tty || Clock::now() >= next_print || done >= expected;
      if (due && done != last_printed) {
        std::cout << fmt::format("{}  [6/6] connectors declaring files to the hub: {}/{} ({:.0f} %){}",
                                 tty ? "\r" : "", done, expected, expected ? 100.0 * done / expected : 100.0,
                                 tty ? "" : "\n")
                  << std::flush;
        last_printed = done;
        next_print = Clock::now() + std::chrono::seconds(5);
      }
      if (done >= expected) break;
      if (!hub_->Running()) return Status(StatusCode::kUnavailable, "the hub stopped (see logs/hub.log)");
      if (Seconds(started) > 1800) return Status(StatusCode::kTimeout, "the directory was not complete after 30 minutes");
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    std::cout << fmt::format("{}  [6/6] directory complete: {} files declared by the connectors ({} rejected) in {:.1f} s\n",
                             tty ? "\n" : "", done, rejected, Seconds(started));
    if (rejected > 0) {
      return Status(StatusCode::kInternal, fmt::format("{} files were rejected by the hub (see the file_declaration tables)", rejected));
    }
    return OkStatus();
  }

  void PrintReady() {
    std::cout << "\ncarrefour demo is running:\n"
              << fmt::format("  console     http://{}/\n", admin_address_)
              << fmt::format("  hub API     https://{}  (mutual TLS; certificates in {})\n", hub_address_,
                             (dir_ / "pki").string());
    for (const std::string& id : institutions_) {
      std::cout << fmt::format("  {:<14} provide https://{}  admin {}  db {}\n", id, provide_address_[id],
                               connector_admin_[id].ToString(), DatabasePath(layout_, id).string());
    }
    std::cout << fmt::format("  logs        {}\n", (dir_ / "logs").string()) << std::flush;
  }

  void StopProcesses() {
    for (auto& [id, child] : connectors_) {
      if (child) child->Stop();
    }
    if (hub_) hub_->Stop();
  }

  // --- traffic -----------------------------------------------------------

  // Data types `institution` may consult for a file of `capacity` today.
  std::vector<std::string> Authorized(const std::string& institution, const std::string& capacity) {
    std::vector<std::string> out;
    const network::Institution* who = definition_->FindInstitution(institution);
    if (who == nullptr) return out;
    for (const network::Authorization& a : definition_->authorizations()) {
      if (a.capacity == capacity && a.Names(*who) && a.validity.Contains(today_) &&
          std::find(out.begin(), out.end(), a.data_type) == out.end()) {
        out.push_back(a.data_type);
      }
    }
    return out;
  }

  static sigset_t StopSignals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
  }

  // True once SIGINT/SIGTERM arrived (signals are blocked and polled).
  static bool StopRequested() {
    sigset_t signals = StopSignals();
    timespec zero{0, 0};
    return sigtimedwait(&signals, nullptr, &zero) > 0;
  }

  int RunTraffic() {
    std::cout << fmt::format("\ntraffic: about {} consultations per second and a move every {} s; Ctrl-C stops everything.\n",
                             options_.rate, options_.move_every_seconds)
              << std::flush;
    std::mt19937_64 random(options_.seed);
    std::atomic<uint64_t> answered{0}, refused{0}, failed{0};
    uint64_t moves = 0;
    auto started = Clock::now();
    auto next_move = Clock::now();
    auto next_report = Clock::now() + std::chrono::seconds(10);
    const auto period = options_.rate > 0 ? std::chrono::duration<double>(1.0 / options_.rate)
                                          : std::chrono::duration<double>(1.0);
    auto next_call = Clock::now();
    std::atomic<int> in_flight{0};
    while (!StopRequested()) {
      if (options_.run_seconds > 0 && Seconds(started) > options_.run_seconds) break;
      auto now = Clock::now();
      if (options_.rate > 0 && now >= next_call && in_flight < 64) {
        next_call += std::chrono::duration_cast<Clock::duration>(period);
        const Person& person = population_.persons[random() % population_.persons.size()];
        std::vector<FileEntry> files = Files(population_, person);
        if (!files.empty() && person.AliveOn(today_)) {
          const FileEntry& file = files[random() % files.size()];
          std::vector<std::string> types = Authorized(file.institution, file.capacity);
          std::string requester = file.institution;
          // Now and then an institution asks about somebody it has no file
          // on: refused, and audited as such.
          if (random() % 20 == 0) requester = institutions_[random() % institutions_.size()];
          if (!types.empty() && callers_) {
            std::string body = fmt::format(R"({{"data_type": "{}", "niss": "{}"}})",
                                           types[random() % types.size()], person.niss);
            ++in_flight;
            callers_->As(requester).Post(callers_->hub(), "/v1/consultations", body,
                                         [&](Result<net::ClientResponse> response) {
                                           if (!response) {
                                             ++failed;
                                           } else if (response->status == 200) {
                                             ++answered;
                                           } else {
                                             ++refused;
                                           }
                                           --in_flight;
                                         });
          }
        }
      }
      if (options_.move_every_seconds > 0 && now >= next_move) {
        next_move = now + std::chrono::milliseconds(static_cast<int64_t>(options_.move_every_seconds * 1000));
        const Person& person = population_.persons[random() % population_.persons.size()];
        const Person& other = population_.persons[random() % population_.persons.size()];
        if (!person.bis && !other.bis && person.AliveOn(today_) && &person != &other) {
          if (RecordMove(DatabasePath(layout_, "nr"), person.niss, other.CurrentAddress(), today_).ok()) ++moves;
        }
      }
      if (now >= next_report) {
        next_report = now + std::chrono::seconds(10);
        std::cout << fmt::format("traffic: {} consultations answered, {} refused, {} failed; {} moves published\n",
                                 answered.load(), refused.load(), failed.load(), moves)
                  << std::flush;
        if (!hub_->Running()) {
          std::cerr << "carrefour demo: the hub stopped (see logs/hub.log)\n";
          return 1;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    while (in_flight > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::cout << "\ncarrefour demo: stopping the connectors and the hub...\n" << std::flush;
    return 0;
  }

  // --- scenarios ---------------------------------------------------------

  Result<json::value> Consult(const std::string& as, const std::string& body, int* status) {
    CARREFOUR_ASSIGN_OR_RETURN(net::ClientResponse response, callers_->Post(as, "/v1/consultations", body));
    *status = response.status;
    boost::system::error_code ec;
    json::value value = json::parse(response.body, ec);
    if (ec) return tl::unexpected(Status(StatusCode::kInternal, "the answer is not JSON: " + response.body));
    return value;
  }

  static std::string Str(const json::value& v, std::string_view key) {
    if (!v.is_object()) return {};
    const json::value* found = v.get_object().if_contains(key);
    if (found == nullptr) return {};
    return found->is_string() ? std::string(found->get_string()) : json::serialize(*found);
  }

  const Person* FindPerson(const std::function<bool(const Person&)>& match) {
    for (const Person& p : population_.persons) {
      if (!p.bis && p.AliveOn(today_) && !used_.count(p.index) && match(p)) {
        used_.insert(p.index);
        return &p;
      }
    }
    return nullptr;
  }

  bool HasFile(const Person& p, std::string_view institution, std::string_view capacity = "") {
    for (const FileEntry& f : Files(population_, p)) {
      bool active = f.from <= today_ && (!f.to || today_ <= *f.to);
      if (f.institution == institution && active && (capacity.empty() || f.capacity == capacity)) return true;
    }
    return false;
  }

  // Who the definition says must receive a change of `data_type` on `p`.
  std::set<std::string> Entitled(const Person& p, const std::string& data_type, const std::string& source) {
    std::set<std::string> out;
    for (const FileEntry& f : Files(population_, p)) {
      bool active = f.from <= today_ && (!f.to || today_ <= *f.to);
      const network::Institution* who = definition_->FindInstitution(f.institution);
      if (!active || who == nullptr || f.institution == source) continue;
      bool subscribed = false, authorized = false;
      for (const network::Subscription& s : definition_->subscriptions()) {
        subscribed |= s.data_type == data_type && s.capacity == f.capacity && s.Names(*who);
      }
      for (const network::Authorization& a : definition_->authorizations()) {
        authorized |= a.data_type == data_type && a.capacity == f.capacity && a.Names(*who) && a.validity.Contains(today_);
      }
      if (subscribed && authorized) out.insert(f.institution);
    }
    return out;
  }

  Status ScenarioMove() {
    const Person* child = FindPerson([&](const Person& p) {
      return p.allowance && p.allowance->fund == "famiwal" && !p.allowance->until &&
             (HasFile(p, "mut-100") || HasFile(p, "mut-300")) && HasFile(p, "famiwal", "child-beneficiary");
    });
    if (child == nullptr) return Status(StatusCode::kNotFound, "no child with allowance at famiwal and a health insurer in the population");
    std::set<std::string> expected = Entitled(*child, "person.address", "nr");
    std::string insurer = HasFile(*child, "mut-100") ? "mut-100" : "mut-300";
    if (!expected.count(insurer) || !expected.count("famiwal")) {
      return Status(StatusCode::kInternal, fmt::format("the network does not entitle both {} and famiwal to the move", insurer));
    }
    Address address{.street = fmt::format("Rue du Scenario {}", 1 + child->index % 97), .postal_code = "5000",
                    .municipality = "Namur", .country = "BE", .region = Region::kWallonia};
    std::cout << fmt::format("      {} ({} {}) moves to {}, {} {}; entitled: {}\n", child->niss, child->first_names,
                             child->last_name, address.street, address.postal_code, address.municipality,
                             fmt::join(expected, ", "));
    auto started = Clock::now();
    CARREFOUR_RETURN_IF_ERROR(RecordMove(DatabasePath(layout_, "nr"), child->niss, address, today_));

    // Each entitled institution's own database shows the new address.
    std::set<std::string> reached;
    while (reached.size() < expected.size() && Seconds(started) < 30) {
      for (const std::string& id : expected) {
        const network::Institution* who = definition_->FindInstitution(id);
        auto table = kAddressTables.find(who->type);
        if (table == kAddressTables.end()) continue;
        if (ReadText(DatabasePath(layout_, id), fmt::format("SELECT street FROM {} WHERE niss = ?1", table->second),
                     child->niss) == address.street && reached.insert(id).second) {
          std::cout << fmt::format("      reached {} after {:.1f} s\n", id, Seconds(started));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (reached.size() < expected.size()) {
      return Status(StatusCode::kTimeout, fmt::format("after 30 s only {} of {} entitled institutions had the new address",
                                                      reached.size(), expected.size()));
    }
    // Nobody else: the hub's own record of the mutation names its
    // subscribers, and no other institution's database has the address.
    CARREFOUR_ASSIGN_OR_RETURN(json::value audit, callers_->Admin(fmt::format("/v1/admin/audit?niss={}&limit=100", child->niss)));
    std::set<std::string> subscribers;
    for (const json::value& record : audit.at("records").as_array()) {
      if (Str(record, "kind") != "mutation" || Str(record, "data_type") != "person.address") continue;
      std::string providers = Str(record, "providers");
      for (size_t start = 0; start < providers.size();) {
        size_t comma = providers.find(',', start);
        std::string part = providers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        subscribers.insert(part.substr(0, part.find(':')));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    if (subscribers != expected) {
      return Status(StatusCode::kInternal, fmt::format("the hub delivered to [{}], expected [{}]", fmt::join(subscribers, ", "),
                                                       fmt::join(expected, ", ")));
    }
    for (const std::string& id : institutions_) {
      const network::Institution* who = definition_->FindInstitution(id);
      auto table = kAddressTables.find(who->type);
      if (expected.count(id) || table == kAddressTables.end()) continue;
      if (ReadText(DatabasePath(layout_, id), fmt::format("SELECT street FROM {} WHERE niss = ?1", table->second),
                   child->niss) == address.street) {
        return Status(StatusCode::kInternal, fmt::format("{} received the move but is not entitled to it", id));
      }
    }
    std::cout << "      nobody else received it\n";
    return OkStatus();
  }

  Status ScenarioWages() {
    const Person* parent = nullptr;
    const Person* child = FindPerson([&](const Person& p) {
      if (!p.allowance || p.allowance->fund != "famiwal") return false;
      const Person& recipient = population_.persons[p.allowance->recipient];
      if (recipient.bis || !recipient.AliveOn(today_) || recipient.wages.empty() || !HasFile(recipient, "onss", "employee") ||
          !HasFile(recipient, "famiwal", "allowance-recipient")) {
        return false;
      }
      parent = &recipient;
      return true;
    });
    if (child == nullptr) return Status(StatusCode::kNotFound, "no child whose allowance recipient has wages");
    const QuarterlyWage& first = parent->wages.front();
    std::cout << fmt::format("      famiwal asks the wages of {} (parent of {}) since {}\n", parent->niss, child->niss,
                             first.QuarterText());
    int status = 0;
    CARREFOUR_ASSIGN_OR_RETURN(
        json::value answer,
        Consult("famiwal", fmt::format(R"({{"data_type": "employment.wages", "niss": "{}", "capacity": "allowance-recipient", )"
                                       R"("period": {{"from": "{}", "to": "{}"}}}})",
                                       parent->niss, first.FirstDay().ToString(), today_.ToString()),
                &status));
    if (status != 200 || Str(answer, "status") != "ok") {
      return Status(StatusCode::kInternal, fmt::format("expected 200 ok, got {} {}", status, json::serialize(answer)));
    }
    size_t quarters = 0;
    for (const json::value& result : answer.at("results").as_array()) {
      if (Str(result, "provider") != "onss") continue;
      const json::value& data = result.at("data");
      quarters += data.is_array() ? data.as_array().size() : 1;
    }
    if (quarters == 0) return Status(StatusCode::kInternal, "onss answered no wages: " + json::serialize(answer));
    std::cout << fmt::format("      onss answered {} wage declarations (legal basis {})\n", quarters, Str(answer, "legal_basis"));
    return OkStatus();
  }

  Status ScenarioRefusal() {
    const Person* stranger = FindPerson([&](const Person& p) { return !HasFile(p, "mut-100") && !p.death; });
    if (stranger == nullptr) return Status(StatusCode::kNotFound, "no person without a file at mut-100");
    int status = 0;
    CARREFOUR_ASSIGN_OR_RETURN(
        json::value answer,
        Consult("mut-100", fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", stranger->niss), &status));
    std::string code = answer.is_object() && answer.as_object().contains("error") ? Str(answer.at("error"), "code") : "";
    if (status != 403 || code != "not-integrated") {
      return Status(StatusCode::kInternal, fmt::format("expected 403 not-integrated, got {} {}", status, json::serialize(answer)));
    }
    std::cout << fmt::format("      mut-100 asking about {} (no file there): 403 not-integrated\n", stranger->niss);
    CARREFOUR_ASSIGN_OR_RETURN(json::value audit,
                               callers_->Admin(fmt::format("/v1/admin/audit?niss={}&requester=mut-100&limit=10", stranger->niss)));
    for (const json::value& record : audit.at("records").as_array()) {
      if (Str(record, "kind") == "consultation" && Str(record, "outcome") == "not-integrated") {
        std::cout << fmt::format("      audited: record {}#{} outcome not-integrated\n", Str(record, "node"), Str(record, "seq"));
        return OkStatus();
      }
    }
    return Status(StatusCode::kInternal, "the refusal is not in the audit log: " + json::serialize(audit));
  }

  Status ScenarioNoData() {
    std::string insurer;
    const Person* person = FindPerson([&](const Person& p) {
      if (!p.unemployment.empty() || HasFile(p, "capac")) return false;
      for (const char* id : {"mut-100", "mut-300"}) {
        if (HasFile(p, id, "insured")) insurer = id;
      }
      return !insurer.empty();
    });
    if (person == nullptr) return Status(StatusCode::kNotFound, "no insured person without unemployment");
    int status = 0;
    CARREFOUR_ASSIGN_OR_RETURN(
        json::value answer,
        Consult(insurer, fmt::format(R"({{"data_type": "unemployment.status", "niss": "{}"}})", person->niss), &status));
    if (status != 200 || Str(answer, "status") != "no-data-in-network") {
      return Status(StatusCode::kInternal, fmt::format("expected 200 no-data-in-network, got {} {}", status, json::serialize(answer)));
    }
    std::cout << fmt::format("      {} asking unemployment.status of {} (never unemployed): no-data-in-network\n", insurer,
                             person->niss);
    return OkStatus();
  }

  Status ScenarioTransparency() {
    std::string insurer, other;
    const Person* person = FindPerson([&](const Person& p) {
      insurer = HasFile(p, "mut-100", "insured") ? "mut-100" : HasFile(p, "mut-300", "insured") ? "mut-300" : "";
      other = insurer == "mut-100" ? "mut-300" : "mut-100";
      return !insurer.empty() && !HasFile(p, other);
    });
    if (person == nullptr) return Status(StatusCode::kNotFound, "no insured person");
    std::multiset<std::string> made;
    struct Call {
      std::string as, data_type;
    };
    for (const Call& call : {Call{insurer, "person.address"}, Call{insurer, "person.identity"}, Call{other, "person.address"}}) {
      int status = 0;
      CARREFOUR_ASSIGN_OR_RETURN(
          json::value answer,
          Consult(call.as, fmt::format(R"({{"data_type": "{}", "niss": "{}"}})", call.data_type, person->niss), &status));
      std::string outcome = status == 200 || status == 503 ? "answered" : "refused";
      made.insert(fmt::format("{} {} {}", call.as, call.data_type, outcome));
      std::cout << fmt::format("      {} consults {} of {}: {}\n", call.as, call.data_type, person->niss,
                               status == 200 ? Str(answer, "status") : fmt::format("{} {}", status, outcome));
    }
    CARREFOUR_ASSIGN_OR_RETURN(json::value view, callers_->Admin(fmt::format("/v1/admin/transparency?niss={}", person->niss)));
    std::multiset<std::string> shown;
    for (const json::value& item : view.at("consultations").as_array()) {
      shown.insert(fmt::format("{} {} {}", Str(item, "requester"), Str(item, "data_type"), Str(item, "outcome")));
    }
    if (shown != made) {
      return Status(StatusCode::kInternal, fmt::format("the transparency view shows [{}], expected [{}]",
                                                       fmt::join(shown, "; "), fmt::join(made, "; ")));
    }
    std::cout << fmt::format("      the transparency view lists exactly these {} consultations\n", shown.size());
    transparency_niss_ = person->niss;
    transparency_made_ = std::move(made);
    return OkStatus();
  }

  // The citizen portal reads, after everything else, the view of the
  // person of the previous scenario (docs/api.md 4.6), checks it lists exactly
  // what was done, and verifies it offline with `carrefour transparency
  // verify` and the hub node's published key; a copy with one leaf hash
  // changed must be refused.
  Status ScenarioCitizenPortal() {
    const std::string portal = "mydata";
    if (definition_->FindInstitution(portal) == nullptr) {
      return Status(StatusCode::kNotFound, "the network has no citizen portal 'mydata'");
    }
    if (transparency_niss_.empty()) return Status(StatusCode::kNotFound, "the previous scenario chose no person");
    CARREFOUR_ASSIGN_OR_RETURN(net::ClientResponse response,
                               callers_->As(portal).GetSync(callers_->hub(),
                                                            "/v1/transparency?niss=" + transparency_niss_));
    if (response.status != 200) {
      return Status(StatusCode::kInternal, fmt::format("GET /v1/transparency answered {}: {}", response.status, response.body));
    }
    boost::system::error_code ec;
    json::value view = json::parse(response.body, ec);
    if (ec || !view.is_object()) return Status(StatusCode::kInternal, "the view is not JSON: " + response.body);
    std::multiset<std::string> shown;
    for (const json::value& item : view.at("consultations").as_array()) {
      shown.insert(fmt::format("{} {} {}", Str(item, "requester"), Str(item, "data_type"), Str(item, "outcome")));
    }
    if (shown != transparency_made_) {
      return Status(StatusCode::kInternal, fmt::format("{} sees [{}], expected [{}]", portal, fmt::join(shown, "; "),
                                                       fmt::join(transparency_made_, "; ")));
    }
    std::cout << fmt::format("      {} reads the view of {}: {} consultations, {} institutions told of changes\n", portal,
                             transparency_niss_, shown.size(), view.at("subscriptions").as_array().size());

    const fs::path saved = dir_ / fmt::format("transparency-{}.json", transparency_niss_);
    const fs::path tampered = dir_ / fmt::format("transparency-{}-tampered.json", transparency_niss_);
    std::ofstream(saved, std::ios::trunc) << response.body;
    json::object& first = view.as_object()["consultations"].as_array()[0].as_object();
    std::string leaf = Str(first, "leaf_hash");
    if (leaf.empty()) return Status(StatusCode::kInternal, "a consultation without its leaf hash");
    leaf[0] = leaf[0] == '0' ? '1' : '0';
    first["leaf_hash"] = leaf;
    std::ofstream(tampered, std::ios::trunc) << json::serialize(view);
    CARREFOUR_ASSIGN_OR_RETURN(std::string key, callers_->AdminText("/v1/admin/audit/key"));
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();

    auto verify = [&](const fs::path& file, std::string* output) -> int {
      const std::string command = fmt::format("'{}' transparency verify '{}' --key '{}' 2>&1", SelfExecutable().string(),
                                              file.string(), key);
      FILE* pipe = popen(command.c_str(), "r");
      if (pipe == nullptr) return -1;
      char buffer[512];
      while (fgets(buffer, sizeof buffer, pipe) != nullptr) *output += buffer;
      int status = pclose(pipe);
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    std::string good_output, bad_output;
    if (int code = verify(saved, &good_output); code != 0) {
      return Status(StatusCode::kInternal, fmt::format("carrefour transparency verify exited {}: {}", code, good_output));
    }
    std::cout << "      carrefour transparency verify: " << good_output;
    if (int code = verify(tampered, &bad_output); code != 1) {
      return Status(StatusCode::kInternal,
                    fmt::format("a view with a changed leaf hash was not refused (exit {}): {}", code, bad_output));
    }
    std::cout << "      with one leaf hash changed, it exits 1: "
              << bad_output.substr(bad_output.find('\n') + 1);
    return OkStatus();
  }

  int RunScenarios() {
    struct Scenario {
      const char* title;
      Status (Demo::*run)();
    };
    const Scenario scenarios[] = {
        {"a move reported to the national register reaches the health insurer and the family-allowance fund, and nobody else",
         &Demo::ScenarioMove},
        {"the family-allowance fund obtains a parent's wages from the contribution collector", &Demo::ScenarioWages},
        {"a health insurer asking about a person it has no file on is refused, and the refusal is audited",
         &Demo::ScenarioRefusal},
        {"a request for data nobody holds gives no-data-in-network", &Demo::ScenarioNoData},
        {"the person's transparency view lists exactly the consultations made", &Demo::ScenarioTransparency},
        {"the citizen portal reads the person's view after the others and verifies it offline",
         &Demo::ScenarioCitizenPortal},
    };
    std::cout << "\nscenarios:\n";
    int failed = 0, n = 0;
    for (const Scenario& scenario : scenarios) {
      std::cout << fmt::format("  [{}/{}] {}\n", ++n, std::size(scenarios), scenario.title) << std::flush;
      auto started = Clock::now();
      Status status = (this->*scenario.run)();
      if (status.ok()) {
        std::cout << fmt::format("      PASS ({:.1f} s)\n", Seconds(started));
      } else {
        ++failed;
        std::cout << fmt::format("      FAIL: {}\n", status.ToString());
      }
      std::cout << std::flush;
    }
    Result<json::value> verify = callers_->Admin("/v1/admin/audit/verify");
    if (verify && verify->is_object() && verify->at("ok").is_bool() && verify->at("ok").as_bool()) {
      std::cout << fmt::format("  audit chain verified: {} records intact\n", Str(*verify, "records"));
    } else {
      ++failed;
      std::cout << "  audit chain verification FAILED\n";
    }
    std::cout << fmt::format("\n{} of {} scenarios passed\n", std::size(scenarios) - std::min<size_t>(failed, std::size(scenarios)),
                             std::size(scenarios))
              << std::flush;
    return failed == 0 ? 0 : 1;
  }

  DemoOptions options_;
  fs::path dir_;
  fs::path network_file_;
  Date today_;
  Population population_;
  std::optional<network::Definition> definition_;
  InstitutionsLayout layout_;
  std::vector<std::string> institutions_;
  std::map<std::string, std::string> provide_address_;
  std::map<std::string, size_t> expected_entries_;
  std::string hub_address_, admin_address_;
  Listener hub_listener_, admin_listener_;
  std::map<std::string, Listener> provide_listener_;
  std::unique_ptr<Child> hub_;
  std::map<std::string, std::unique_ptr<Child>> connectors_;
  std::map<std::string, net::Endpoint> connector_admin_;
  std::unique_ptr<Callers> callers_;
  std::set<size_t> used_;
  // The person of the transparency scenario and the consultations made on
  // them, for the citizen portal's.
  std::string transparency_niss_;
  std::multiset<std::string> transparency_made_;
};

}  // namespace

int RunDemo(const DemoOptions& options) {
  // Ctrl-C and SIGTERM are taken by the demo (polled), which then stops its
  // children in order; the children run in their own process groups.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Demo(options).Run();
}

}  // namespace carrefour::demo
