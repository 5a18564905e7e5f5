// SPDX-License-Identifier: EUPL-1.2
// National numbers out, direct identifiers out, before anything is written.

#include "research/internal/scrub.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace carrefour::research::internal {
namespace {

namespace json = boost::json;

constexpr char kKey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kAnna[] = "85073003328";
const Date kToday = *Date::Parse("2025-06-01");

TEST(ScrubText, ReplacesNationalNumbersInEveryWrittenForm) {
  Pseudonymizer p(kKey, "rp-1");
  const std::string anna = p.Pseudonym(kAnna);
  struct Case {
    const char* text;
    std::string expected;
  };
  const Case cases[] = {
      {"85073003328", anna},
      {"85.07.30-033.28", anna},
      {"850730 033 28", anna},
      {"spouse 85073003328, since 2010", "spouse " + anna + ", since 2010"},
      {"ref:85.07.30-033.28;", "ref:" + anna + ";"},
      // Glued to another number by a space: still found.
      {"12 85073003328", "12 " + anna},
      // Not national numbers: kept as they are.
      {"85073003329", "85073003329"},    // wrong check digits
      {"850730033280", "850730033280"},  // twelve digits
      {"2024-01-01", "2024-01-01"},
      {"BE71 0961 2345 6769", "BE71 0961 2345 6769"},
      {"", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(ScrubText(c.text, p, kToday), c.expected);
  }
}

TEST(Scrub, NumbersNestedObjectsAndDirectIdentifiers) {
  Pseudonymizer p(kKey, "rp-1");
  json::value in = json::parse(R"({
    "reference_person": 85073003328,
    "members": [{"niss": "85073003328", "last_name": "Peeters", "first_names": "Anna", "role": "spouse"},
                {"relation": "child of 85.07.30-033.28"}],
    "count": 97,
    "amount": 3100.5
  })");
  json::value out = Scrub(in, p, kToday);
  std::string text = json::serialize(out);
  EXPECT_EQ(text.find("85073003328"), std::string::npos) << text;
  EXPECT_EQ(text.find("85.07.30"), std::string::npos) << text;
  EXPECT_EQ(text.find("Peeters"), std::string::npos) << text;
  EXPECT_EQ(text.find("Anna"), std::string::npos) << text;
  EXPECT_NE(text.find(p.Pseudonym(kAnna)), std::string::npos) << text;
  EXPECT_EQ(out.at("reference_person").as_string(), p.Pseudonym(kAnna));
  // The member's number became their pseudonym; their names are gone.
  EXPECT_EQ(out.at("members").at(0).as_object().size(), 2u);
  EXPECT_EQ(out.at("members").at(0).at("niss").as_string(), p.Pseudonym(kAnna));
  EXPECT_EQ(out.at("members").at(0).at("role").as_string(), "spouse");
  // Small integers are counts and amounts, even when their digits would pass.
  EXPECT_EQ(out.at("count").as_int64(), 97);
  EXPECT_EQ(CellText(out.at("amount")), "3100.5");
}

TEST(CellText, OneCellPerValue) {
  EXPECT_EQ(CellText(json::value(nullptr)), "");
  EXPECT_EQ(CellText(json::value("x,y")), "x,y");
  EXPECT_EQ(CellText(json::value(true)), "true");
  EXPECT_EQ(CellText(json::value(42)), "42");
  EXPECT_EQ(CellText(json::value(0.1)), "0.1");
  EXPECT_EQ(CellText(json::parse(R"({"a":[1,2]})")), R"({"a":[1,2]})");
}

}  // namespace
}  // namespace carrefour::research::internal
