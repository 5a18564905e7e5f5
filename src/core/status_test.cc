// SPDX-License-Identifier: EUPL-1.2
#include "core/status.h"
#include "core/bounded_text.h"

#include <gtest/gtest.h>

#include <iterator>
#include <set>

#include "core/result.h"

namespace carrefour {
namespace {

TEST(Status, OkHasNoMessage) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "ok");
}

// Every code: its name in docs/api.md, its HTTP status, and its number — persistent
// (the outcome of every audit record), so never renumbered.
TEST(Status, CodesMapToSpecNamesAndHttpStatuses) {
  struct Row {
    Status status;
    std::string_view spec_code;
    int http;
    int number;
  };
  const Row rows[] = {
      {InvalidJson("x"), "invalid-json", 400, 1},
      {InvalidRequest("x"), "invalid-request", 400, 2},
      {InvalidNiss("x"), "invalid-niss", 400, 3},
      {InvalidPeriod("x"), "invalid-period", 400, 4},
      {UnknownInstitution("x"), "unknown-institution", 403, 5},
      {NotIntegrated("x"), "not-integrated", 403, 6},
      {NotAuthorized("x"), "not-authorized", 403, 7},
      {NotASource("x"), "not-a-source", 403, 8},
      {CapacityNotAllowed("x"), "capacity-not-allowed", 403, 9},
      {UnknownDataType("x"), "unknown-data-type", 404, 10},
      {NotFound("x"), "not-found", 404, 11},
      {PossibleDuplicate("x"), "possible-duplicate", 409, 12},
      {AlreadyExists("x"), "already-exists", 409, 13},
      {BodyTooLarge("x"), "body-too-large", 413, 14},
      {Unavailable("x"), "unavailable", 503, 15},
      {Timeout("x"), "timeout", 504, 16},
      {Internal("x"), "internal", 500, 17},
      {NoData("x"), "no-data", 404, 18},
  };
  std::set<int> numbers;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.spec_code);
    EXPECT_FALSE(row.status.ok());
    EXPECT_EQ(SpecCode(row.status.code()), row.spec_code);
    EXPECT_EQ(HttpStatus(row.status.code()), row.http);
    EXPECT_EQ(static_cast<int>(row.status.code()), row.number);
    EXPECT_EQ(row.status.message(), "x");
    numbers.insert(row.number);
  }
  // No code is left out: 1 to the last, each once.
  EXPECT_EQ(numbers.size(), std::size(rows));
  EXPECT_EQ(*numbers.rbegin(), static_cast<int>(std::size(rows)));
  EXPECT_EQ(static_cast<int>(StatusCode::kNoData), static_cast<int>(std::size(rows)));
  EXPECT_EQ(static_cast<int>(StatusCode::kOk), 0);
}

TEST(Status, WithContextPrependsToTheMessage) {
  Status status = InvalidNiss("wrong check digits").WithContext("line 3");
  EXPECT_EQ(status.code(), StatusCode::kInvalidNiss);
  EXPECT_EQ(status.message(), "line 3: wrong check digits");
  EXPECT_EQ(status.ToString(), "invalid-niss: line 3: wrong check digits");
}

TEST(BoundedText, ShortTextIsKeptLongTextIsCutOnACharacterBoundary) {
  EXPECT_EQ(BoundedText("short", 100), "short");
  EXPECT_EQ(BoundedText(std::string(100, 'a'), 100), std::string(100, 'a'));
  const std::string long_text = std::string(10000, 'x');
  const std::string cut = BoundedText(long_text, 100);
  EXPECT_LE(cut.size(), 100u);
  EXPECT_TRUE(cut.starts_with("xxxx")) << cut;
  EXPECT_TRUE(cut.ends_with(" more bytes)")) << cut;
  EXPECT_EQ(BoundedText(long_text).size() <= kMaxMessageBytes, true);
  // "é" is two bytes: the cut never leaves half of one.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
  const std::string cut_accents = BoundedText(accents, 101);
  const size_t kept = cut_accents.find(" ... (");
  ASSERT_NE(kept, std::string::npos);
  EXPECT_EQ(kept % 2, 0u) << cut_accents;
}

// Found by api_bodies_fuzz: a path holding a byte that is not UTF-8, quoted
// in a 404's message, made an answer that is not JSON.
TEST(BoundedText, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(BoundedText("/v1/bis/90.\x91\x01""41"), "/v1/bis/90." + kReplacement + "\x01""41");
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // Truncated, overlong, surrogate, above U+10FFFF, a lone continuation byte.
  EXPECT_EQ(ValidUtf8("\xc3"), kReplacement);
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), kReplacement + kReplacement);
  EXPECT_EQ(ValidUtf8("\xe0\x80\xaf"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), kReplacement + kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(ValidUtf8("a\x80" "b"), "a" + kReplacement + "b");
  EXPECT_EQ(ValidUtf8(std::string("\0x", 2)), std::string("\0x", 2));
}

Status FailsWhenNegative(int value) {
  if (value < 0) return InvalidRequest("negative");
  return OkStatus();
}

Result<int> Doubled(int value) {
  CARREFOUR_RETURN_IF_ERROR(FailsWhenNegative(value));
  return value * 2;
}

Result<int> DoubledTwice(int value) {
  CARREFOUR_ASSIGN_OR_RETURN(int once, Doubled(value));
  return once * 2;
}

Status CheckTwice(int value) {
  CARREFOUR_ASSIGN_OR_RETURN(int once, Doubled(value));
  return FailsWhenNegative(once);
}

TEST(Result, MacrosPropagateErrorsAndValues) {
  EXPECT_EQ(*DoubledTwice(3), 12);
  Result<int> failed = DoubledTwice(-1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(), "negative");
  EXPECT_TRUE(CheckTwice(1).ok());
  EXPECT_EQ(CheckTwice(-1).code(), StatusCode::kInvalidRequest);
}

}  // namespace
}  // namespace carrefour
