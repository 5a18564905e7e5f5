#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace carrefour::hub {

// The hub's request metrics in Prometheus' text format (GET /metrics).
// Thread-safe; one short critical section per request.
class Metrics {
 public:
  // One request answered: which endpoint, the HTTP status, the data type
  // (consultations; "" otherwise) and how long it took.
  void Record(const std::string& endpoint, int status, const std::string& data_type,
              double seconds);

  // The metrics recorded so far, followed by `extra` (other gauges and
  // counters, already in the text format).
  std::string Render(const std::string& extra) const;

 private:
  // Upper bounds of the latency histogram buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,  0.5,   1.0,  2.5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, int>, uint64_t> requests_;                // endpoint, status
  std::map<std::tuple<std::string, int>, uint64_t> by_data_type_;            // data type, status
  std::map<std::string, Histogram> latency_;                                 // endpoint
};

}  // namespace carrefour::hub
