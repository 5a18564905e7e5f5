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

#include <string>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "bench/loadgen/provider_server.h"
#include "core/status.h"
#include "net/server.h"

namespace carrefour::bench {
namespace {

constexpr std::string_view kName = "carrefour_bench_provider";

int Serve(const ProviderOptions& options, const std::string& data_text) {
  boost::system::error_code ec;
  boost::json::value data = boost::json::parse(data_text, ec);
  if (ec || !(data.is_object() || data.is_array())) {
    fmt::print(stderr, "carrefour_bench_provider: --data must be a JSON object or array{}\n",
               ec ? ": " + ec.message() : "");
    return 2;
  }
  // The answer is built once: the handler only copies it.
  const std::string answer = fmt::format(R"({{"data": {}}})", data_text);
  return ServeProvider(
      options,
      [answer](net::Request&& request, net::Responder respond) {
        if (request.path != "/v1/provide") {
          respond(net::ErrorResponse(NotFound(fmt::format("no endpoint {}", request.path))));
          return;
        }
        if (request.method != "POST") {
          respond(net::ErrorResponse(InvalidRequest("use POST")));
          return;
        }
        respond(net::Response::Json(200, answer));
      },
      kName);
}

}  // namespace
}  // namespace carrefour::bench

int main(int argc, char** argv) {
  carrefour::bench::ProviderOptions options;
  std::string data =
      R"({"street": "Rue Haute 1", "postal_code": "1000", "municipality": "Bruxelles", "country": "BE"})";
  CLI::App app{
      "carrefour_bench_provider: answers every POST /v1/provide (mutual TLS) with one fixed\n"
      "{\"data\": {...}}; for benchmarks. Serves until SIGTERM or SIGINT.",
      "carrefour_bench_provider"};
  carrefour::bench::AddProviderOptions(app, options);
  app.add_option("--data", data, "The JSON object (or array) answered as \"data\"");
  int exit_code = 0;
  if (!carrefour::bench::ParseProviderCommandLine(app, argc, argv, carrefour::bench::kName, &exit_code)) {
    return exit_code;
  }
  return carrefour::bench::Serve(options, data);
}
