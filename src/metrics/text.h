#pragma once

// The Prometheus text exposition format, written the same way by every
// carrefour process (the hub, the connectors): families with their HELP and
// TYPE lines, samples with escaped labels, and the standard families every
// process exports — carrefour_build_info and the process_* metrics.
//
//   metrics::TextWriter out;
//   out.Family("carrefour_provider_calls_total", "counter", "Provide calls made.");
//   out.Sample("carrefour_provider_calls_total", {{"provider", "nr"}, {"outcome", "ok"}}, 12);
//   out.Standard();
//   std::string text = std::move(out).Text();

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carrefour::metrics {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class TextWriter {
 public:
  // The HELP and TYPE lines of a family ("counter", "gauge", "histogram");
  // written once per name, whatever the number of calls.
  void Family(std::string_view name, std::string_view type, std::string_view help);

  // One sample line: name{labels} value. Label values are escaped.
  void Sample(std::string_view name, const Labels& labels, double value);

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

}  // namespace carrefour::metrics
