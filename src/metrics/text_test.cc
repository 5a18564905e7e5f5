#include "metrics/text.h"

#include <gtest/gtest.h>

#include <string>

#include "version/version.h"

namespace carrefour::metrics {
namespace {

TEST(TextWriterTest, FamiliesOnceAndEscapedLabels) {
  TextWriter out;
  out.Family("carrefour_x_total", "counter", "Things.");
  out.Sample("carrefour_x_total", {{"route", "/v1/a"}, {"why", "a \"quoted\\ thing\nhere"}}, 3);
  out.Family("carrefour_x_total", "counter", "Things.");
  out.Sample("carrefour_x_total", {}, 0.25);
  EXPECT_EQ(std::move(out).Text(),
            "# HELP carrefour_x_total Things.\n"
            "# TYPE carrefour_x_total counter\n"
            "carrefour_x_total{route=\"/v1/a\",why=\"a \\\"quoted\\\\ thing\\nhere\"} 3\n"
            "carrefour_x_total 0.25\n");
}

TEST(TextWriterTest, StandardFamiliesHaveBuildInfoAndProcessMetrics) {
  TextWriter out;
  out.Standard();
  std::string text = std::move(out).Text();
  EXPECT_NE(text.find("carrefour_build_info{version=\"" + std::string(version::Version()) +
                      "\",revision=\"" + std::string(version::Revision()) + "\"} 1\n"),
            std::string::npos)
      << text;
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_open_fds ", "process_max_fds ", "process_start_time_seconds "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name << " missing:\n" << text;
  }
}

}  // namespace
}  // namespace carrefour::metrics
