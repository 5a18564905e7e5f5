// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support: `carrefour hub` processes on ports known in advance, and what
// their plain-HTTP admin listener and their log say. Test code: failures
// are gtest failures, or abort.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "net/client.h"
#include "tests/integration/process.h"

namespace carrefour::testing {

// A `carrefour hub` on fixed ports, restartable (a restarted hub comes back
// where a load balancer or a connector expects it). Port 0: the system's
// pick. An empty node or store: the hub's own default.
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
                                   "--ca", (pki / "ca.crt").string()};
  if (!hub.node.empty()) argv.insert(argv.end(), {"--node", hub.node});
  if (!store_url.empty()) argv.insert(argv.end(), {"--store", store_url});
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

// How many of `process`'s stdout lines so far contain `part`.
inline int CountLines(Process& process, const std::string& part) {
  int n = 0;
  for (const std::string& line : process.Lines()) n += line.find(part) != std::string::npos;
  return n;
}

}  // namespace carrefour::testing
