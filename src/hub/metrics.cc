// SPDX-License-Identifier: EUPL-1.2
#include "hub/metrics.h"

#include <string>
#include <string_view>
#include <utility>

namespace carrefour::hub {

namespace {

// "POST /v1/consultations" -> {"POST", "/v1/consultations"}; "other" names
// both the method and the route.
std::pair<std::string_view, std::string_view> Split(std::string_view endpoint) {
  size_t space = endpoint.find(' ');
  if (space == std::string_view::npos) return {endpoint, endpoint};
  return {endpoint.substr(0, space), endpoint.substr(space + 1)};
}

// ++counts[(name, status)], the key copied only the first time.
void Count(std::map<std::tuple<std::string, int>, uint64_t, std::less<>>& counts,
           std::string_view name, int status) {
  auto it = counts.find(std::tuple<std::string_view, int>(name, status));
  if (it == counts.end()) it = counts.emplace(std::tuple<std::string, int>(name, status), 0).first;
  ++it->second;
}

}  // namespace

void Metrics::Record(std::string_view endpoint, int status, std::string_view data_type,
                     double seconds) {
  std::lock_guard lock(mu_);
  Count(requests_, endpoint, status);
  if (!data_type.empty()) Count(by_data_type_, data_type, status);
  auto it = latency_.find(endpoint);
  if (it == latency_.end()) it = latency_.emplace(endpoint, metrics::Histogram()).first;
  it->second.Observe(seconds);
}

void Metrics::Write(metrics::TextWriter& out) const {
  std::lock_guard lock(mu_);
  out.Family("carrefour_requests_total", "counter", "Requests answered, by method, route and HTTP status.");
  for (const auto& [key, count] : requests_) {
    const auto [method, route] = Split(std::get<0>(key));
    const std::string code = std::to_string(std::get<1>(key));
    out.Sample("carrefour_requests_total", {{"method", method}, {"route", route}, {"status", code}},
               static_cast<double>(count));
  }
  out.Family("carrefour_consultations_total", "counter", "Consultations, by data type and HTTP status.");
  for (const auto& [key, count] : by_data_type_) {
    const std::string code = std::to_string(std::get<1>(key));
    out.Sample("carrefour_consultations_total", {{"data_type", std::get<0>(key)}, {"status", code}},
               static_cast<double>(count));
  }
  out.Family("carrefour_request_duration_seconds", "histogram",
             "Time from request to answer, by method and route.");
  for (const auto& [endpoint, histogram] : latency_) {
    const auto [method, route] = Split(endpoint);
    out.Write("carrefour_request_duration_seconds", {{"method", method}, {"route", route}}, histogram);
  }
}

}  // namespace carrefour::hub
