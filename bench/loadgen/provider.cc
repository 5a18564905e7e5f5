// SPDX-License-Identifier: EUPL-1.2
// carrefour_bench_provider: the smallest provider that speaks docs/api.md
// section 5, for benchmarks. It answers every POST /v1/provide with the same
// {"data": {...}} and does no other work, so that what is measured around it
// is the hub (or the proxy) and not a database. Not a connector: it checks
// nothing in the request but the caller's certificate (net::Server does).
//
//   carrefour_bench_provider --cert nr.crt --key nr.key --ca ca.crt [--port 0]
//
// Prints "provider on https://127.0.0.1:N (port N)" once listening, then
// serves until SIGTERM or SIGINT.

#include <signal.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "core/status.h"
#include "net/server.h"

namespace carrefour::bench {
namespace {

struct Options {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  std::string cert, key, ca;
  int threads = 2;
  std::string data =
      R"({"street": "Rue Haute 1", "postal_code": "1000", "municipality": "Bruxelles", "country": "BE"})";
};

int Serve(const Options& options) {
  boost::system::error_code ec;
  boost::json::value data = boost::json::parse(options.data, ec);
  if (ec || !(data.is_object() || data.is_array())) {
    fmt::print(stderr, "carrefour_bench_provider: --data must be a JSON object or array{}\n",
               ec ? ": " + ec.message() : "");
    return 2;
  }
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
  // The answer is built once: the handler only copies it.
  const std::string answer = fmt::format(R"({{"data": {}}})", options.data);
  net::Server server(server_options, [answer](net::Request&& request, net::Responder respond) {
    if (request.path != "/v1/provide") {
      respond(net::ErrorResponse(NotFound(fmt::format("no endpoint {}", request.path))));
      return;
    }
    if (request.method != "POST") {
      respond(net::ErrorResponse(InvalidRequest("use POST")));
      return;
    }
    respond(net::Response::Json(200, answer));
  });
  if (Status started = server.Start(); !started.ok()) {
    fmt::print(stderr, "carrefour_bench_provider: {}\n", started.ToString());
    return 1;
  }
  fmt::print("provider on https://{}:{} (port {})\n", options.address, server.port(), server.port());
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace carrefour::bench

int main(int argc, char** argv) {
  carrefour::bench::Options options;
  CLI::App app{
      "carrefour_bench_provider: answers every POST /v1/provide (mutual TLS) with one fixed\n"
      "{\"data\": {...}}; for benchmarks. Serves until SIGTERM or SIGINT.",
      "carrefour_bench_provider"};
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free one, printed)")->capture_default_str();
  app.add_option("--cert", options.cert, "Provider certificate (PEM; CN = its institution id)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--key", options.key, "Provider private key (PEM)")->required()->check(CLI::ExistingFile);
  app.add_option("--ca", options.ca, "Network CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  app.add_option("--threads", options.threads, "Server threads")->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--data", options.data, "The JSON object (or array) answered as \"data\"");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "carrefour_bench_provider: %s (see --help)\n", e.what());
    return 2;
  }
  return carrefour::bench::Serve(options);
}
