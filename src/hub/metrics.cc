// SPDX-License-Identifier: EUPL-1.2
#include "hub/metrics.h"

#include <string>

namespace carrefour::hub {

Metrics::Route Metrics::Split(const std::string& endpoint) {
  size_t space = endpoint.find(' ');
  if (space == std::string::npos) return {endpoint, endpoint};  // "other"
  return {endpoint.substr(0, space), endpoint.substr(space + 1)};
}

void Metrics::Record(const std::string& endpoint, int status, const std::string& data_type,
                     double seconds) {
  Route route = Split(endpoint);
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  if (!data_type.empty()) ++by_data_type_[{data_type, status}];
  latency_[std::move(route)].Observe(seconds);
}

void Metrics::Write(metrics::TextWriter& out) const {
  std::lock_guard lock(mu_);
  out.Family("carrefour_requests_total", "counter", "Requests answered, by method, route and HTTP status.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, status] = key;
    const std::string code = std::to_string(status);
    out.Sample("carrefour_requests_total", {{"method", route.method}, {"route", route.path}, {"status", code}},
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
  for (const auto& [route, histogram] : latency_) {
    out.Write("carrefour_request_duration_seconds", {{"method", route.method}, {"route", route.path}}, histogram);
  }
}

}  // namespace carrefour::hub
