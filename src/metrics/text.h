// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The Prometheus text exposition format, written the same way by every
// carrefour process (the hub, the connectors): families with their HELP and
// TYPE lines, samples with escaped labels, and the standard families every
// process exports — carrefour_build_info and the process_* metrics. And read
// back (ParseText) by whoever watches them: the demo, the tests.
//
//   metrics::TextWriter out;
//   out.Family("carrefour_provider_calls_total", "counter", "Provide calls made.");
//   out.Sample("carrefour_provider_calls_total", {{"provider", "nr"}, {"outcome", "ok"}}, 12);
//   out.Standard();
//   std::string text = std::move(out).Text();

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace carrefour::metrics {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Upper bounds, in seconds, of the latency buckets every carrefour process
// uses (0.5 ms to 2.5 s: from a cached decision to a provider's timeout).
inline constexpr double kLatencyBounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,  0.5,   1.0,  2.5};

// A Prometheus histogram's state: cumulative bucket counts, the count and
// the sum of what was observed. A value; whoever shares one locks it.
class Histogram {
 public:
  Histogram();  // kLatencyBounds
  explicit Histogram(std::vector<double> bounds);  // ascending

  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& cumulative() const { return cumulative_; }  // per bound
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> cumulative_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

class TextWriter {
 public:
  // The HELP and TYPE lines of a family ("counter", "gauge", "histogram");
  // written once per name, whatever the number of calls.
  void Family(std::string_view name, std::string_view type, std::string_view help);

  // One sample line: name{labels} value. Label values are escaped.
  void Sample(std::string_view name, const Labels& labels, double value);

  // A histogram's samples: name_bucket{labels, le} for each bound and +Inf,
  // name_sum{labels}, name_count{labels}.
  void Write(std::string_view name, const Labels& labels, const Histogram& histogram);

  // carrefour_build_info{version, revision} 1, and the process_* family
  // (CPU seconds, resident and virtual memory, open and maximum file
  // descriptors, start time), read from /proc/self.
  void Standard();

  // Text already in the format (from a component that writes its own).
  void Append(std::string_view text) { out_ += text; }

  std::string Text() && { return std::move(out_); }

 private:
  std::string out_;
  std::set<std::string, std::less<>> families_;
};

// One sample line read back: name{labels} value [timestamp].
struct ParsedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped, in order
  double value = 0;                                         // also +Inf, -Inf, NaN
  std::optional<int64_t> timestamp_ms;

  // The value of `label`, or nullopt when the sample does not carry it.
  std::optional<std::string_view> Label(std::string_view label) const;
};

// Parses text in the exposition format (version 0.0.4): comment and blank
// lines skipped, every sample line read with its labels. A malformed line is
// kInvalidRequest naming its line number and what was expected.
//
//   CARREFOUR_ASSIGN_OR_RETURN(std::vector<ParsedSample> samples, ParseText(body));
//   double done = Sum(samples, "carrefour_connector_integrations_total", {{"outcome", "ok"}});
Result<std::vector<ParsedSample>> ParseText(std::string_view text);

// The sum of the values of the samples named `name` whose labels include
// every pair of `match` (all samples of the name when `match` is empty).
double Sum(const std::vector<ParsedSample>& samples, std::string_view name, const Labels& match = {});

}  // namespace carrefour::metrics
