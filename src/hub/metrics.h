// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "metrics/text.h"

namespace carrefour::hub {

// The hub's request metrics in Prometheus' text format (GET /metrics).
// Thread-safe; one short critical section per request.
class Metrics {
 public:
  // One request answered: its endpoint ("POST /v1/consultations", or "other"
  // for a method or path the hub does not serve), the HTTP status, the data
  // type (consultations; "" otherwise) and how long it took.
  void Record(const std::string& endpoint, int status, const std::string& data_type,
              double seconds);

  // Writes the metrics recorded so far: carrefour_requests_total and
  // carrefour_request_duration_seconds by method and route (the two are
  // separate labels), carrefour_consultations_total by data type.
  void Write(metrics::TextWriter& out) const;

 private:
  struct Route {
    std::string method;
    std::string path;
    auto operator<=>(const Route&) const = default;
  };
  static Route Split(const std::string& endpoint);

  mutable std::mutex mu_;
  std::map<std::tuple<Route, int>, uint64_t> requests_;          // route, status
  std::map<std::tuple<std::string, int>, uint64_t> by_data_type_;  // data type, status
  std::map<Route, metrics::Histogram> latency_;
};

}  // namespace carrefour::hub
