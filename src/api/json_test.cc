// SPDX-License-Identifier: EUPL-1.2
#include "api/json.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <string>

#include <boost/json/serialize.hpp>

#include "api/reply.h"
#include "core/bounded_text.h"

namespace carrefour::api {
namespace {

namespace json = boost::json;

TEST(ErrorBody, HasTheSpecShape) {
  EXPECT_EQ(ErrorBody(NotAuthorized("no")),
            R"({"error":{"code":"not-authorized","message":"no"}})");
  // The one answer that is not a Status.
  EXPECT_EQ(ErrorBody("rate-limited", "over the quota"),
            R"({"error":{"code":"rate-limited","message":"over the quota"}})");
  EXPECT_EQ(json::serialize(ErrorObject(Unavailable("try again"))),
            R"({"error":{"code":"unavailable","message":"try again"}})");
}

TEST(ErrorBody, EscapesAndBoundsTheMessage) {
  EXPECT_EQ(ErrorBody(NotAuthorized("no \"grant\"\nfor you")),
            R"({"error":{"code":"not-authorized","message":"no \"grant\"\nfor you"}})");
  std::string body = ErrorBody(InvalidRequest(std::string(100000, 'x')));
  EXPECT_LT(body.size(), kMaxMessageBytes + 100);
  EXPECT_NE(body.find("more bytes)"), std::string::npos) << body.substr(body.size() - 80);
}

TEST(ErrorReply, CarriesTheCodesHttpStatusAndBody) {
  Reply reply = ErrorReply(Unavailable("the audit log could not be written"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, ErrorBody(Unavailable("the audit log could not be written")));
  EXPECT_EQ(ErrorReply(NotAuthorized("no")).status, 403);
  EXPECT_EQ(ErrorReply(InvalidRequest("bad")).status, 400);
}

// Found by api_bodies_fuzz: a message quoting bytes that are not UTF-8 (a
// percent-decoded path) still gives a body that is JSON.
TEST(ErrorBody, IsJsonWhateverBytesTheMessageQuotes) {
  const std::string body = ErrorBody(NotFound("no endpoint PUT /v1/bis/90.\x91\x01""41.01-000.\xff"));
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  ASSERT_FALSE(ec) << body;
  EXPECT_EQ(parsed.at("error").at("message"), "no endpoint PUT /v1/bis/90.\xEF\xBF\xBD\x01""41.01-000.\xEF\xBF\xBD");
}

TEST(ParseObject, SeparatesBadJsonFromBadShape) {
  struct Row {
    std::string_view body;
    StatusCode code;
  };
  const Row rows[] = {
      {"", StatusCode::kInvalidJson},       {"{", StatusCode::kInvalidJson},
      {"{\"a\":}", StatusCode::kInvalidJson}, {"[1]", StatusCode::kInvalidRequest},
      {"42", StatusCode::kInvalidRequest},  {"\"x\"", StatusCode::kInvalidRequest},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.body);
    auto parsed = ParseObject(row.body);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code(), row.code);
  }
  EXPECT_TRUE(ParseObject(R"({"a": 1})"));
  std::string deep(1000, '[');
  EXPECT_EQ(ParseObject("{\"a\":" + deep).error().code(), StatusCode::kInvalidJson);
}

TEST(Readers, NameTheFieldInTheirErrors) {
  auto object = *ParseObject(R"({"s": "x", "n": 1, "l": ["a", 2], "ok": ["a", "b"]})");
  EXPECT_EQ(*RequiredString(object, "s"), "x");
  EXPECT_EQ(RequiredString(object, "n").error().message(), "'n' must be a string");
  EXPECT_EQ(RequiredString(object, "missing").error().message(), "'missing' is required");
  EXPECT_FALSE(OptionalString(object, "missing")->has_value());
  EXPECT_EQ(OptionalStringList(object, "l").error().message(), "'l' must be a list of strings");
  EXPECT_EQ(OptionalStringList(object, "ok")->value(), (std::vector<std::string>{"a", "b"}));
  Status unknown = RejectUnknownKeys(object, {"s", "n", "l"});
  EXPECT_EQ(unknown.message(), "unknown field 'ok' (expected: s, n, l)");
}

TEST(BatchList, ReadsTheListAndRefusesTheRestByName) {
  struct Row {
    std::string_view body;
    std::string_view message;  // empty: read
  };
  const Row rows[] = {
      {R"({"items": [1, 2]})", ""},
      {R"({"items": []})", ""},
      {R"({})", "'items' must be a list"},
      {R"({"items": {}})", "'items' must be a list"},
      {R"({"items": [1, 2, 3]})", "3 items in one batch; the limit is 2"},
      {R"({"items": [], "other": 1})", "unknown field 'other' (expected: items)"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.body);
    const json::object object = *ParseObject(row.body);
    Result<const json::array*> list = BatchList(object, "items", 2);
    if (row.message.empty()) {
      ASSERT_TRUE(list);
      EXPECT_EQ(*list, &object.at("items").as_array());
    } else {
      ASSERT_FALSE(list);
      EXPECT_EQ(list.error().code(), StatusCode::kInvalidRequest);
      EXPECT_EQ(list.error().message(), row.message);
    }
  }
}

TEST(ParsePeriod, AcceptsClosedAndOpenPeriodsAndRefusesTheRest) {
  struct Row {
    std::string_view json;
    std::optional<std::string_view> period;  // nullopt: refused with invalid-period
  };
  const Row rows[] = {
      {R"({"from": "2024-01-01", "to": "2024-12-31"})", "2024-01-01..2024-12-31"},
      {R"({"from": "2024-01-01", "to": null})", "2024-01-01.."},
      {R"({"from": "2024-01-01"})", "2024-01-01.."},
      {R"({"from": "2024-01-01", "to": "2024-01-01"})", "2024-01-01..2024-01-01"},
      {R"({"from": "2024-02-01", "to": "2024-01-31"})", std::nullopt},
      {R"({"to": "2024-01-31"})", std::nullopt},
      {R"({"from": "2024-02-30"})", std::nullopt},
      {R"({"from": 20240101})", std::nullopt},
      {R"({"from": "2024-01-01", "until": null})", std::nullopt},
      {R"("2024-01-01")", std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.json);
    boost::json::object holder = *ParseObject(std::string("{\"p\":") + std::string(row.json) + "}");
    Result<Period> period = ParsePeriod(holder["p"], "p");
    if (row.period) {
      ASSERT_TRUE(period) << period.error().ToString();
      EXPECT_EQ(period->ToString(), *row.period);
      EXPECT_EQ(Serialize(PeriodJson(*period)),
                Serialize(*ParsePeriod(PeriodJson(*period), "p").map(PeriodJson)));
    } else {
      ASSERT_FALSE(period);
      EXPECT_EQ(period.error().code(), StatusCode::kInvalidPeriod);
    }
  }
}

}  // namespace
}  // namespace carrefour::api
