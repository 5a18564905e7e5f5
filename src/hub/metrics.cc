#include "hub/metrics.h"

#include <fmt/format.h>

namespace carrefour::hub {

void Metrics::Record(const std::string& endpoint, int status, const std::string& data_type,
                     double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{endpoint, status}];
  if (!data_type.empty()) ++by_data_type_[{data_type, status}];
  Histogram& histogram = latency_[endpoint];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

std::string Metrics::Render(const std::string& extra) const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP carrefour_requests_total Requests answered, by endpoint and HTTP status.\n";
  out += "# TYPE carrefour_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out += fmt::format("carrefour_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                       std::get<0>(key), std::get<1>(key), count);
  }
  out += "# HELP carrefour_consultations_total Consultations, by data type and HTTP status.\n";
  out += "# TYPE carrefour_consultations_total counter\n";
  for (const auto& [key, count] : by_data_type_) {
    out += fmt::format("carrefour_consultations_total{{data_type=\"{}\",status=\"{}\"}} {}\n",
                       std::get<0>(key), std::get<1>(key), count);
  }
  out += "# HELP carrefour_request_duration_seconds Time from request to answer, by endpoint.\n";
  out += "# TYPE carrefour_request_duration_seconds histogram\n";
  for (const auto& [endpoint, histogram] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("carrefour_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"{}\"}} {}\n",
                         endpoint, kBuckets[i], histogram.buckets[i]);
    }
    out += fmt::format("carrefour_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"+Inf\"}} {}\n",
                       endpoint, histogram.count);
    out += fmt::format("carrefour_request_duration_seconds_sum{{endpoint=\"{}\"}} {}\n", endpoint,
                       histogram.sum);
    out += fmt::format("carrefour_request_duration_seconds_count{{endpoint=\"{}\"}} {}\n",
                       endpoint, histogram.count);
  }
  out += extra;
  return out;
}

}  // namespace carrefour::hub
