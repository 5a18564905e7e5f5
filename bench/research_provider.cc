// SPDX-License-Identifier: EUPL-1.2
// carrefour_research_provider: a provider (docs/api.md section 5) whose answers
// depend on the person, for the research extract benchmark
// (bench/research_bench.sh). Unlike carrefour_bench_provider, which answers
// one fixed object, it derives each answer from the national number (birth
// date and sex from the number itself, the rest from a hash of it), so that
// an extract of it has realistic variety for k-anonymity; and it answers
// more than is asked (names, a street), as real sources do. Not a connector:
// no database behind it.
//
//   carrefour_research_provider --cert nr.crt --key nr.key --ca ca.crt [--port 0]
//
// Prints "provider on https://127.0.0.1:N (port N)" once listening, then
// serves until SIGTERM or SIGINT.

#include <fmt/format.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <string>

#include "bench/loadgen/provider_server.h"
#include "core/status.h"
#include "net/server.h"
#include "niss/niss.h"

namespace carrefour::bench {
namespace {
namespace json = boost::json;

constexpr std::string_view kName = "carrefour_research_provider";

uint64_t Hash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

// The answer about `niss` for `data_type`: known data types of the example
// network get their usual shape, anything else one value per asked field.
std::string Answer(std::string_view niss, std::string_view data_type, const json::array& fields) {
  Result<niss::Number> number = niss::Parse(niss);
  const uint64_t h = Hash(niss);
  const std::string birth = number ? number->BirthDateText() : "unknown";
  const char* sex = number && number->sex == niss::Sex::kFemale ? "f" : "m";
  static constexpr const char* kPostalCodes[] = {"1000", "1050", "1200", "1348", "2000", "2800",
                                                 "3000", "3500", "4000", "5000", "6000", "7000",
                                                 "8000", "8500", "9000", "9300"};
  if (data_type == "person.identity") {
    return fmt::format(
        R"({{"data": {{"last_name": "Name{}", "first_names": "First{}", "birth_date": "{}", "sex": "{}", "nationality": "{}"}}}})",
        h % 10007, h % 101, birth, sex, h % 10 == 0 ? "FR" : "BE");
  }
  if (data_type == "person.address") {
    return fmt::format(
        R"({{"data": {{"street": "Street {}", "postal_code": "{}", "municipality": "Town{}", "country": "BE", "since": "20{:02}-01-01"}}}})",
        h % 997, kPostalCodes[h % 16], h % 16, h % 24);
  }
  if (data_type == "employment.wages") {
    std::string quarters;
    for (int q = 1; q <= 4; ++q) {
      quarters += fmt::format(
          R"({}{{"quarter": "2024Q{}", "employer_id": "0{}", "gross_wage": {}, "days_worked": {}}})",
          q == 1 ? "" : ", ", q, 400000000 + h % 1000, 1800 + (h >> 8) % 3000 + q * 10,
          55 + (h >> 16) % 10);
    }
    return fmt::format(R"({{"data": [{}]}})", quarters);
  }
  json::object data;
  for (const json::value& field : fields) {
    if (field.is_string()) data[field.as_string()] = fmt::format("v{}", h % 1000);
  }
  json::object answer;
  answer["data"] = std::move(data);
  return json::serialize(answer);
}

// Answers a provide call from its "niss", "data_type" and "fields".
void Provide(net::Request&& request, net::Responder respond) {
  if (request.path != "/v1/provide" || request.method != "POST") {
    respond(net::ErrorResponse(
        NotFound(fmt::format("no endpoint {} {}", request.method, request.path))));
    return;
  }
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  const json::object* call = ec ? nullptr : body.if_object();
  const json::value* niss = call ? call->if_contains("niss") : nullptr;
  const json::value* data_type = call ? call->if_contains("data_type") : nullptr;
  const json::value* fields = call ? call->if_contains("fields") : nullptr;
  if (!niss || !niss->is_string() || !data_type || !data_type->is_string() || !fields ||
      !fields->is_array()) {
    respond(net::ErrorResponse(InvalidRequest("not a provide call (docs/api.md section 5)")));
    return;
  }
  respond(net::Response::Json(
      200, Answer(niss->as_string(), data_type->as_string(), fields->as_array())));
}

}  // namespace
}  // namespace carrefour::bench

int main(int argc, char** argv) {
  carrefour::bench::ProviderOptions options;
  CLI::App app{
      "carrefour_research_provider: answers POST /v1/provide (mutual TLS) from the person's\n"
      "number, the same way every time; for the research extract benchmark. Serves until\n"
      "SIGTERM or SIGINT.",
      "carrefour_research_provider"};
  carrefour::bench::AddProviderOptions(app, options);
  int exit_code = 0;
  if (!carrefour::bench::ParseProviderCommandLine(app, argc, argv, carrefour::bench::kName, &exit_code)) {
    return exit_code;
  }
  return carrefour::bench::ServeProvider(options, carrefour::bench::Provide, carrefour::bench::kName);
}
