// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
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
  void Record(std::string_view endpoint, int status, std::string_view data_type, double seconds);

  // Writes the metrics recorded so far: carrefour_requests_total and
  // carrefour_request_duration_seconds by method and route (the two are
  // separate labels), carrefour_consultations_total by data type.
  void Write(metrics::TextWriter& out) const;

 private:
  // Keyed by the endpoint as recorded; split into method and route only
  // when written, not on every request.
  mutable std::mutex mu_;
  // std::less<>: found with a string_view, a key is copied only when new.
  std::map<std::tuple<std::string, int>, uint64_t, std::less<>> requests_;      // endpoint, status
  std::map<std::tuple<std::string, int>, uint64_t, std::less<>> by_data_type_;  // data type, status
  std::map<std::string, metrics::Histogram, std::less<>> latency_;  // endpoint
};

}  // namespace carrefour::hub
