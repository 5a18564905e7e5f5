// SPDX-License-Identifier: EUPL-1.2
// What the benchmarks' providers (carrefour_bench_provider,
// carrefour_research_provider) share: their command line (address, port,
// TLS files, threads) and the serving until SIGTERM or SIGINT. Each brings
// its own handler of POST /v1/provide.
#pragma once

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/status.h"
#include "net/server.h"

namespace carrefour::bench {

struct ProviderOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  std::string cert, key, ca;
  int threads = 2;
};

inline void AddProviderOptions(CLI::App& app, ProviderOptions& options) {
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free one, printed)")->capture_default_str();
  app.add_option("--cert", options.cert, "Provider certificate (PEM; CN = its institution id)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--key", options.key, "Provider private key (PEM)")->required()->check(CLI::ExistingFile);
  app.add_option("--ca", options.ca, "Network CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  app.add_option("--threads", options.threads, "Server threads")->check(CLI::Range(1, 16))->capture_default_str();
}

// Parses the command line: true to go on; false with `*exit_code` set
// otherwise (0 after --help, 2 on a usage error).
inline bool ParseProviderCommandLine(CLI::App& app, int argc, char** argv, std::string_view name, int* exit_code) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    *exit_code = app.exit(e);
    return false;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%.*s: %s (see --help)\n", static_cast<int>(name.size()), name.data(), e.what());
    *exit_code = 2;
    return false;
  }
  return true;
}

// Serves `handler` over mutual TLS; prints "provider on https://ADDRESS:N
// (port N)" once listening, and returns 0 at SIGTERM or SIGINT (1 when the
// server cannot start).
inline int ServeProvider(const ProviderOptions& options, net::Handler handler, std::string_view name) {
  // Block the stop signals before the server's threads exist, so that they
  // inherit the mask and only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  net::ServerOptions server_options;
  server_options.address = options.address;
  server_options.port = options.port;
  server_options.threads = options.threads;
  server_options.tls = net::TlsFiles{options.cert, options.key, options.ca};
  net::Server server(server_options, std::move(handler));
  if (Status started = server.Start(); !started.ok()) {
    fmt::print(stderr, "{}: {}\n", name, started.ToString());
    return 1;
  }
  fmt::print("provider on https://{}:{} (port {})\n", options.address, server.port(), server.port());
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  server.Stop();
  return 0;
}

}  // namespace carrefour::bench
