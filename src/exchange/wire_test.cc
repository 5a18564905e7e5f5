// SPDX-License-Identifier: EUPL-1.2
// The edge of consultations (exchange/wire.h): the answer and provide
// request written directly are byte for byte what Boost.JSON writes for the
// same values, awkward strings included; batches are read within their limit.

#include "exchange/wire.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"

namespace carrefour::exchange {
namespace {

namespace json = boost::json;

// Quotes, backslashes, every control character, UTF-8.
std::string Awkward() {
  std::string text = "a\"b\\c/é€😀";
  for (int c = 1; c < 0x20; ++c) text.push_back(static_cast<char>(c));
  return text;
}

ConsultationAnswer Sample(int http_status) {
  ConsultationAnswer answer;
  answer.http_status = http_status;
  answer.request_id = "0123456789abcdef";
  answer.status = http_status == 503 ? "unavailable" : "partial";
  answer.data_type = "person.address" + Awkward();
  answer.niss = "85073003328";
  answer.period = Period{*Date::Parse("2024-01-01"), std::nullopt};
  answer.legal_basis = "ISC/24/001 " + Awkward();
  ProviderResult ok;
  ok.provider = "nr";
  ok.kind = ProviderResult::Kind::kOk;
  ok.data = json::object{{"street", Awkward()}, {"n", 3}};
  ProviderResult none;
  none.provider = "onss";
  none.kind = ProviderResult::Kind::kNoData;
  ProviderResult failed;
  failed.provider = "onss-down";
  failed.error = Unavailable("the provider's answer " + Awkward());
  answer.results = {ok, none, failed};
  return answer;
}

std::string Expected(const ConsultationAnswer& answer) {
  json::object out;
  out["request_id"] = answer.request_id;
  out["status"] = answer.status;
  out["data_type"] = answer.data_type;
  out["niss"] = answer.niss;
  out["period"] = api::PeriodJson(answer.period);
  out["legal_basis"] = answer.legal_basis;
  json::array results;
  for (const ProviderResult& result : answer.results) {
    json::object item;
    item["provider"] = result.provider;
    item["status"] = result.Name();
    if (result.kind == ProviderResult::Kind::kOk) item["data"] = result.data;
    if (result.kind == ProviderResult::Kind::kError) {
      item["error"] = api::ErrorObject(result.error).at("error");
    }
    results.push_back(std::move(item));
  }
  out["results"] = std::move(results);
  if (answer.http_status == 503) {
    out["error"] = api::ErrorObject(Unavailable("no provider could answer")).at("error");
  }
  return json::serialize(out);
}

TEST(WireTest, TheAnswerIsWhatBoostJsonWritesForTheSameValues) {
  for (int status : {200, 503}) {
    SCOPED_TRACE(status);
    ConsultationAnswer answer = Sample(status);
    EXPECT_EQ(WriteAnswer(answer), Expected(answer));
    answer.period.to = *Date::Parse("2024-12-31");
    answer.results.clear();
    EXPECT_EQ(WriteAnswer(answer), Expected(answer));
  }
}

TEST(WireTest, TheProvideRequestIsWhatBoostJsonWritesForTheSameValues) {
  ConsultationAnswer answer = Sample(200);
  const std::vector<std::string> fields = {"street", Awkward()};
  json::object expected;
  expected["request_id"] = answer.request_id;
  expected["data_type"] = answer.data_type;
  expected["niss"] = answer.niss;
  expected["period"] = api::PeriodJson(answer.period);
  expected["fields"] = json::array{"street", json::string(Awkward())};
  expected["requester"] = "mut-" + Awkward();
  expected["legal_basis"] = answer.legal_basis;
  EXPECT_EQ(WriteProvideRequest(answer, fields, "mut-" + Awkward()), json::serialize(expected));
}

TEST(WireTest, BatchesAreReadWithinTheirLimitAndBadItemsAreRefusedAlone) {
  const Date today = *Date::Parse("2026-01-01");
  auto batch = [](size_t n, const std::string& item) {
    std::string body = R"({"consultations": [)";
    for (size_t i = 0; i < n; ++i) body += (i ? "," : "") + item;
    return body + "]}";
  };
  const std::string good = R"({"data_type": "person.address", "niss": "85.07.30-033.28"})";
  Result<std::vector<BatchItem>> full = ReadBatch(batch(kMaxConsultationsPerBatch, good), today);
  ASSERT_TRUE(full) << full.error().ToString();
  ASSERT_EQ(full->size(), kMaxConsultationsPerBatch);
  EXPECT_TRUE(full->back().read.ok());
  EXPECT_EQ(full->back().request.niss, "85073003328");

  Result<std::vector<BatchItem>> over = ReadBatch(batch(kMaxConsultationsPerBatch + 1, good), today);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), StatusCode::kInvalidRequest);

  Result<std::vector<BatchItem>> mixed = ReadBatch(
      R"({"consultations": [42, {"data_type": "x", "niss": "12345678901"}, {"data_type": "y", "niss": "85073003328", "colour": 1}]})",
      today);
  ASSERT_TRUE(mixed) << mixed.error().ToString();
  ASSERT_EQ(mixed->size(), 3u);
  EXPECT_EQ((*mixed)[0].read.code(), StatusCode::kInvalidRequest);
  EXPECT_EQ((*mixed)[1].read.code(), StatusCode::kInvalidNiss);
  EXPECT_EQ((*mixed)[1].request.data_type, "x");  // what the audit record of the refusal holds
  EXPECT_EQ((*mixed)[2].read.code(), StatusCode::kInvalidRequest);

  for (const char* wrong : {"[]", "{", R"({"consultations": 3})", R"({"other": []})"}) {
    SCOPED_TRACE(wrong);
    EXPECT_FALSE(ReadBatch(wrong, today));
  }
}

TEST(WireTest, ABatchAnswerSplicesEachItemsBodyAfterItsIndexAndStatus) {
  ConsultationAnswer answer = Sample(200);
  answer.body = WriteAnswer(answer);
  std::vector<Result<ConsultationAnswer>> outcomes;
  outcomes.push_back(answer);
  outcomes.push_back(Error(NotIntegrated("no entry")));
  json::value written = json::parse(WriteBatchAnswer(outcomes));
  json::object first = json::parse(answer.body).as_object();
  first["index"] = 0;
  first["http_status"] = 200;
  json::object second = json::parse(api::ErrorBody(NotIntegrated("no entry"))).as_object();
  second["index"] = 1;
  second["http_status"] = 403;
  ASSERT_EQ(written.at("results").as_array().size(), 2u);
  EXPECT_EQ(written.at("results").at(0).as_object(), first);
  EXPECT_EQ(written.at("results").at(1).as_object(), second);
  EXPECT_EQ(WriteBatchAnswer({}), R"({"results":[]})");
}

}  // namespace
}  // namespace carrefour::exchange
