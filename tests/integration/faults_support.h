// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support for the fault tests (docs/scale-out.md): a PostgreSQL cluster
// of the test's own (so that it can be restarted, halted and resumed), hub
// processes on fixed ports (a restarted hub comes back where the load
// balancer expects it), HAProxy, and small helpers. Test code: failures are
// gtest failures, or abort.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "net/client.h"
#include "tests/integration/process.h"

namespace carrefour::testing {

inline uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Polls `done` every 50 ms until it holds or `guard` has passed (the guard
// only keeps a broken test from hanging: machines are shared).
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::seconds guard = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + guard;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline std::string Replace(std::string text,
                           const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    std::string pattern = "{" + key + "}";
    for (size_t at; (at = text.find(pattern)) != std::string::npos;) {
      text.replace(at, pattern.size(), value);
    }
  }
  return text;
}

// A throw-away PostgreSQL cluster of the test's own, through
// scripts/postgres-test-cluster.sh.
class Cluster {
 public:
  // Empty url() when the cluster could not be started (the reason in error()).
  explicit Cluster(std::filesystem::path dir) : dir_(std::move(dir)) {
    auto [code, output] = Script("start");
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (code == 0) {
      url_ = output;
    } else {
      error_ = output;
    }
  }
  ~Cluster() { Script("stop"); }

  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

  // pg_ctl restart -m fast: every session is terminated; back when it returns.
  void Restart() { ASSERT_EQ(Script("restart").first, 0) << "restarting PostgreSQL"; }
  // The server stops (connections refused) ...
  void Halt() { ASSERT_EQ(Script("halt").first, 0) << "stopping PostgreSQL"; }
  // ... and starts again on the same port.
  void Resume() { ASSERT_EQ(Script("resume").first, 0) << "starting PostgreSQL again"; }

  // Runs `sql` with psql; its output (tuples only, unaligned), or "" with a
  // gtest failure.
  std::string Sql(const std::string& sql) const {
    std::filesystem::path file = dir_.parent_path() / fmt::format("query-{}.sql", getpid());
    std::ofstream(file) << sql;
    auto [code, output] = RunCommand(
        fmt::format("psql '{}' -v ON_ERROR_STOP=1 -qtA -f '{}' 2>&1", url_, file.string()));
    std::filesystem::remove(file);
    EXPECT_EQ(code, 0) << sql << "\n" << output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return code == 0 ? output : std::string();
  }
  int64_t Count(const std::string& sql) const {
    std::string text = Sql(sql);
    return text.empty() ? -1 : std::stoll(text);
  }

 private:
  std::pair<int, std::string> Script(const std::string& action) {
    return RunCommand(fmt::format("'{}/scripts/postgres-test-cluster.sh' {} '{}' 2>&1",
                                  Env("CARREFOUR_SOURCE_DIR"), action, dir_.string()));
  }

  std::filesystem::path dir_;
  std::string url_, error_;
};

// A `carrefour hub` on fixed ports, restartable.
struct HubProcess {
  std::string node;
  std::filesystem::path data;
  uint16_t api = 0, admin = 0;
  std::unique_ptr<Process> process;
  std::filesystem::path log;
};

inline void StartHubProcess(HubProcess& hub, const std::filesystem::path& network,
                            const std::filesystem::path& pki, const std::string& store_url,
                            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {Env("CARREFOUR_BINARY"), "hub",
                                   "--network", network.string(),
                                   "--data", hub.data.string(),
                                   "--listen", fmt::format("127.0.0.1:{}", hub.api),
                                   "--admin", fmt::format("127.0.0.1:{}", hub.admin),
                                   "--cert", (pki / "hub.crt").string(),
                                   "--key", (pki / "hub.key").string(),
                                   "--ca", (pki / "ca.crt").string(),
                                   "--node", hub.node,
                                   "--store", store_url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  hub.process = Process::Start(argv, hub.log.string());
  ASSERT_TRUE(hub.process->WaitForLine(
      [](const std::string& l) { return l.find("API on") != std::string::npos; }))
      << hub.node << " did not start; see " << hub.log;
}

// GET on a plain-HTTP admin listener: (status, body), status 0 when the call
// itself failed.
inline std::pair<int, std::string> AdminCall(uint16_t port, const std::string& target,
                                             std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto client = net::Client::Create({.timeout = timeout});
  if (!client) std::abort();
  Result<net::ClientResponse> response = (*client)->GetSync(
      *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", port)), target);
  if (!response) return {0, response.error().ToString()};
  return {response->status, response->body};
}

// The value of an unlabelled metric in a /metrics text, -1 when absent.
inline double Metric(const std::string& metrics, const std::string& name) {
  size_t at = 0;
  while ((at = metrics.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || metrics[at - 1] == '\n') return std::stod(metrics.substr(at + name.size() + 1));
    at += name.size();
  }
  return -1;
}

inline int CountLines(Process& process, const std::string& part) {
  int n = 0;
  for (const std::string& line : process.Lines()) n += line.find(part) != std::string::npos;
  return n;
}

}  // namespace carrefour::testing
