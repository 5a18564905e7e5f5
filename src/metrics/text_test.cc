// SPDX-License-Identifier: EUPL-1.2
#include "metrics/text.h"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(ParseTextTest, ReadsBackWhatTheWriterWrote) {
  TextWriter out;
  out.Family("carrefour_x_total", "counter", "Things.");
  out.Sample("carrefour_x_total", {{"route", "/v1/a"}, {"why", "a \"quoted\\ thing\nhere, {x}"}}, 3);
  out.Sample("carrefour_x_total", {{"route", "/v1/b"}}, 0.25);
  out.Standard();
  Result<std::vector<ParsedSample>> samples = ParseText(std::move(out).Text());
  ASSERT_TRUE(samples) << samples.error().ToString();
  ASSERT_GE(samples->size(), 3u);
  const ParsedSample& first = (*samples)[0];
  EXPECT_EQ(first.name, "carrefour_x_total");
  ASSERT_EQ(first.labels.size(), 2u);
  EXPECT_EQ(first.Label("route"), "/v1/a");
  EXPECT_EQ(first.Label("why"), "a \"quoted\\ thing\nhere, {x}");
  EXPECT_FALSE(first.Label("absent"));
  EXPECT_EQ(first.value, 3);
  EXPECT_EQ(Sum(*samples, "carrefour_x_total"), 3.25);
  EXPECT_EQ(Sum(*samples, "carrefour_x_total", {{"route", "/v1/b"}}), 0.25);
  EXPECT_EQ(Sum(*samples, "carrefour_x_total", {{"route", "/v1/c"}}), 0);
  EXPECT_EQ(Sum(*samples, "carrefour_build_info",
                {{"version", version::Version()}, {"revision", version::Revision()}}),
            1);
  EXPECT_GT(Sum(*samples, "process_start_time_seconds"), 1.6e9);
}

TEST(ParseTextTest, TheFormatsCorners) {
  Result<std::vector<ParsedSample>> samples = ParseText(
      "# HELP h_seconds A histogram.\n"
      "# TYPE h_seconds histogram\n"
      "\n"
      "# any other comment { not a sample\n"
      "h_seconds_bucket{le=\"0.5\"} 4\n"
      "h_seconds_bucket{le=\"+Inf\",} 7 1700000000000\n"
      "  h_seconds_sum\t1.5e-3\r\n"
      "up{a = \"1\" , b=\"\"} +Inf\n"
      "down -Inf\n"
      "odd NaN\n"
      "ns:colon_metric -12\n");
  ASSERT_TRUE(samples) << samples.error().ToString();
  ASSERT_EQ(samples->size(), 7u);
  EXPECT_EQ((*samples)[1].Label("le"), "+Inf");
  EXPECT_EQ((*samples)[1].timestamp_ms, 1700000000000);
  EXPECT_EQ((*samples)[2].name, "h_seconds_sum");
  EXPECT_DOUBLE_EQ((*samples)[2].value, 1.5e-3);
  EXPECT_EQ((*samples)[3].Label("b"), "");
  EXPECT_TRUE(std::isinf((*samples)[3].value));
  EXPECT_LT((*samples)[4].value, 0);
  EXPECT_TRUE(std::isnan((*samples)[5].value));
  EXPECT_EQ((*samples)[6].name, "ns:colon_metric");
  EXPECT_EQ(Sum(*samples, "h_seconds_bucket"), 11);
}

TEST(ParseTextTest, AMalformedLineIsRefusedWithItsNumber) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"ok 1\n{x=\"1\"} 2\n", "metrics line 2, column 1: expected a metric name"},
      {"x{a=1} 2\n", "expected a quoted label value"},
      {"x{a=\"1\" b=\"2\"} 2\n", "expected ',' or '}' after a label"},
      {"x{a=\"1\\q\"} 2\n", "expected a quoted label value"},
      {"x{a=\"open} 2\n", "expected a quoted label value"},
      {"x{:a=\"1\"} 2\n", "expected a label name or '}'"},
      {"x{a\"1\"} 2\n", "expected '=' after the label name"},
      {"x\n", "expected a blank before the value"},
      {"x twelve\n", "expected a number, +Inf, -Inf or NaN"},
      {"x 1e999\n", "expected a number"},
      {"x 1 soon\n", "expected a timestamp (milliseconds) or the end of the line"},
      {"x 1 2 3\n", "expected the end of the line"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Result<std::vector<ParsedSample>> samples = ParseText(c.text);
    ASSERT_FALSE(samples);
    EXPECT_EQ(samples.error().code(), StatusCode::kInvalidRequest);
    EXPECT_NE(samples.error().message().find(c.message), std::string::npos) << samples.error().message();
  }
}

}  // namespace
}  // namespace carrefour::metrics
