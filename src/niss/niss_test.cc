// SPDX-License-Identifier: EUPL-1.2
#include "niss/niss.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace carrefour::niss {
namespace {

Date D(int year, int month, int day) { return *Date::FromCivil(year, month, day); }

// Every table runs "as of" this day, so that the 2000s rule is hermetic.
const Date kToday = D(2026, 11, 28);

const char* KindName(Kind kind) { return kind == Kind::kBis ? "bis" : "nr"; }
const char* SexName(Sex sex) {
  switch (sex) {
    case Sex::kMale: return "m";
    case Sex::kFemale: return "f";
    case Sex::kUnknown: return "unknown";
  }
  return "?";
}

// Valid numbers, one rule per row. Check digits computed independently
// (97 - body mod 97, body prefixed with 2 for the 2000s).
TEST(Parse, AcceptsValidNumbers) {
  struct Row {
    std::string_view rule;
    std::string_view input;
    std::string_view digits;
    Kind kind;
    Sex sex;
    std::string_view birth;
  };
  const Kind nr = Kind::kNationalRegister;
  const Kind bis = Kind::kBis;
  const Row rows[] = {
      {"plain, odd serial = male", "85073003328", "85073003328", nr, Sex::kMale, "1985-07-30"},
      {"even serial = female", "90010200289", "90010200289", nr, Sex::kFemale, "1990-01-02"},
      // Separators.
      {"dots and dash", "85.07.30-033.28", "85073003328", nr, Sex::kMale, "1985-07-30"},
      {"spaces", "85 07 30 033 28", "85073003328", nr, Sex::kMale, "1985-07-30"},
      {"leading/trailing blanks", " \t85073003328 ", "85073003328", nr, Sex::kMale, "1985-07-30"},
      {"dash only", "850730-033-28", "85073003328", nr, Sex::kMale, "1985-07-30"},
      // Births in the 2000s: 2 prefixed before the mod 97.
      {"born 2017", "17073003384", "17073003384", nr, Sex::kMale, "2017-07-30"},
      {"born 2000, leap day", "00022900145", "00022900145", nr, Sex::kMale, "2000-02-29"},
      {"born 2004, leap day", "04022900231", "04022900231", nr, Sex::kFemale, "2004-02-29"},
      {"born this year, today", "26112800105", "26112800105", nr, Sex::kMale, "2026-11-28"},
      {"born 2025", "25010100145", "25010100145", nr, Sex::kMale, "2025-01-01"},
      // 1900s first: YY = 17 could be 2017, but the 1900s digits hold.
      {"1900s first", "17073003355", "17073003355", nr, Sex::kMale, "1917-07-30"},
      {"YY 27 in 2026: 1927", "27010100158", "27010100158", nr, Sex::kMale, "1927-01-01"},
      {"YY 99: 1999", "99010100118", "99010100118", nr, Sex::kMale, "1999-01-01"},
      {"leap day 1996", "96022900390", "96022900390", nr, Sex::kMale, "1996-02-29"},
      // Unknown parts.
      {"day unknown (DD 00)", "85070003355", "85070003355", nr, Sex::kMale, "1985-07-??"},
      {"month unknown, DD any", "85004503314", "85004503314", nr, Sex::kMale, "1985-?\?-??"},
      {"month unknown, DD 00", "85000003306", "85000003306", nr, Sex::kMale, "1985-?\?-??"},
      {"month unknown, DD 99", "85009903343", "85009903343", nr, Sex::kMale, "1985-?\?-??"},
      {"month unknown in 1900", "00000500143", "00000500143", nr, Sex::kMale, "1900-?\?-??"},
      {"month unknown in 2000", "00000500172", "00000500172", nr, Sex::kMale, "2000-?\?-??"},
      {"whole date unknown", "00000103334", "00000103334", nr, Sex::kMale, "unknown"},
      {"whole date unknown, 2000s digits", "00000103363", "00000103363", nr, Sex::kMale, "unknown"},
      // BIS numbers.
      {"BIS +20: sex unknown", "85273003470", "85273003470", bis, Sex::kUnknown, "1985-07-30"},
      {"BIS +40 even: female", "85473003416", "85473003416", bis, Sex::kFemale, "1985-07-30"},
      {"BIS +40 odd: male", "85473003515", "85473003515", bis, Sex::kMale, "1985-07-30"},
      {"BIS +20 month unknown", "85204503456", "85204503456", bis, Sex::kUnknown, "1985-?\?-??"},
      {"BIS +40 day unknown", "85470003542", "85470003542", bis, Sex::kMale, "1985-07-??"},
      {"BIS 002001: date unknown", "00200103476", "00200103476", bis, Sex::kUnknown, "unknown"},
      {"BIS 004001: date unknown, f", "00400103422", "00400103422", bis, Sex::kFemale, "unknown"},
      {"BIS 004001: date unknown, m", "00400103521", "00400103521", bis, Sex::kMale, "unknown"},
      {"BIS with separators", "85.47.30-035.15", "85473003515", bis, Sex::kMale, "1985-07-30"},
      // Serials the registers do not assign are still valid numbers.
      {"serial 000", "85073000061", "85073000061", nr, Sex::kFemale, "1985-07-30"},
      {"serial 999", "85073099932", "85073099932", nr, Sex::kMale, "1985-07-30"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    SCOPED_TRACE(row.input);
    Result<Number> number = Parse(row.input, kToday);
    ASSERT_TRUE(number) << number.error().ToString();
    EXPECT_EQ(number->digits, row.digits);
    EXPECT_STREQ(KindName(number->kind), KindName(row.kind));
    EXPECT_STREQ(SexName(number->sex), SexName(row.sex));
    EXPECT_EQ(number->BirthDateText(), row.birth);

    Result<std::string> normalized = Normalize(row.input, kToday);
    ASSERT_TRUE(normalized);
    EXPECT_EQ(*normalized, row.digits);
  }
}

// Invalid numbers: each gets invalid-niss and a reason naming its fault.
TEST(Parse, RefusesInvalidNumbersWithTheReason) {
  struct Row {
    std::string_view rule;
    std::string_view input;
    std::vector<std::string_view> reason_parts;
  };
  const Row rows[] = {
      {"empty", "", {"empty"}},
      {"only separators", " .-", {"empty", "no digits"}},
      {"too short", "8507300332", {"10 digits, expected 11"}},
      {"too long", "850730033288", {"12 digits, expected 11"}},
      {"one digit", "1", {"1 digit, expected 11"}},
      {"letter", "85O73003328", {"non-digit", "'O'", "position 3"}},
      {"slash is not a separator", "85/07/30-033.28", {"non-digit", "'/'", "position 3"}},
      {"control byte", "8507300332\n8", {"non-digit", "0x0A", "position 11"}},
      {"UTF-8 byte", "85073003328\xc2\xa0", {"non-digit", "0xC2", "position 12"}},
      {"all zeros", "00000000000", {"all zeros"}},
      {"all zeros, separated", "00.00.00-000.00", {"all zeros"}},
      // Months.
      {"month 13", "85133003370", {"impossible month 13", "01-12", "20-32", "40-52"}},
      {"month 19", "85193003315", {"impossible month 19"}},
      {"month 33 (BIS +20 leaves 13)", "85333003316", {"impossible month 33", "33 - 20 = 13"}},
      {"month 39", "85393003358", {"impossible month 39", "39 - 20 = 19"}},
      {"month 53 (BIS +40 leaves 13)", "85533003359", {"impossible month 53", "53 - 40 = 13"}},
      {"month 60", "85603003311", {"impossible month 60"}},
      {"acceptance example", "12345678901", {"impossible month 34", "34 - 20 = 14"}},
      // Days.
      {"31 April", "85043103374", {"impossible day 31 in April", "30 days"}},
      {"31 April, BIS +20", "85243103320", {"impossible day 31 in April", "BIS month 24"}},
      {"30 February", "85023003390", {"impossible day 30 in February"}},
      {"32 January", "85013203323", {"impossible day 32 in January"}},
      {"29 February 1997", "97022900314", {"impossible day 29 in February 1997", "leap"}},
      {"29 February 2001", "01022900364", {"impossible day 29 in February 2001", "leap"}},
      // The 1900s digits match, so the birth is in 1900, which was not leap.
      {"29 February 1900", "00022900116", {"impossible day 29 in February 1900"}},
      // Check digits.
      {"wrong check digits", "85073003329", {"wrong check digits 29"}},
      {"check digits 00", "85073003300", {"wrong check digits 00"}},
      {"2000s digits, year after today",
       "27010100187",
       {"birth in 2027", "after the current year"}},
      {"2000s digits for 2085", "85073003357", {"birth in 2085", "after the current year"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    SCOPED_TRACE(row.input);
    Result<Number> number = Parse(row.input, kToday);
    ASSERT_FALSE(number) << number->digits;
    EXPECT_EQ(number.error().code(), StatusCode::kInvalidNiss);
    for (std::string_view part : row.reason_parts) {
      EXPECT_NE(number.error().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << number.error().message();
    }
    EXPECT_FALSE(Normalize(row.input, kToday));
  }
}

// "2000s only when 2000 + YY is not after the current year": the same
// number is refused one day and accepted the next year.
TEST(Parse, TheCurrentYearBoundsTheTwoThousands) {
  struct Row {
    Date today;
    std::string_view input;
    bool valid;
  };
  const Row rows[] = {
      {D(2026, 12, 31), "27010100187", false}, {D(2027, 1, 1), "27010100187", true},
      {D(2025, 12, 31), "26112800105", false}, {D(2026, 1, 1), "26112800105", true},
      {D(2016, 6, 1), "17073003384", false},   {D(2017, 1, 1), "17073003384", true},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.today.ToString());
    SCOPED_TRACE(row.input);
    Result<Number> number = Parse(row.input, row.today);
    EXPECT_EQ(static_cast<bool>(number), row.valid);
  }
}

TEST(Parse, WithoutADateUsesTheSystemClock) {
  Result<Number> number = Parse("17073003384");
  ASSERT_TRUE(number) << number.error().ToString();
  EXPECT_EQ(number->birth_year, 2017);
  EXPECT_EQ(*Normalize("85.07.30-033.28"), "85073003328");
}

TEST(Number, PartsAndForms) {
  Number number = *Parse("85073003328", kToday);
  EXPECT_EQ(number.Serial(), 33);
  EXPECT_EQ(number.Formatted(), "85.07.30-033.28");
  EXPECT_EQ(number.BirthDate(), D(1985, 7, 30));
  EXPECT_EQ(number.birth_year, 1985);
  EXPECT_EQ(number.birth_month, 7);
  EXPECT_EQ(number.birth_day, 30);

  Number unknown_day = *Parse("85070003355", kToday);
  EXPECT_EQ(unknown_day.birth_day, 0);
  EXPECT_FALSE(unknown_day.BirthDate());

  // With the month unknown DD carries no date: the day is not reported.
  Number unknown_month = *Parse("85004503314", kToday);
  EXPECT_EQ(unknown_month.birth_month, 0);
  EXPECT_EQ(unknown_month.birth_day, 0);

  Number unknown = *Parse("00400103422", kToday);
  EXPECT_FALSE(unknown.birth_year);
  EXPECT_EQ(unknown.birth_month, 0);
  EXPECT_EQ(unknown.birth_day, 0);
}

TEST(Compose, BuildsNumbersThatParseBack) {
  struct Row {
    std::string_view rule;
    Kind kind;
    std::optional<int> year;
    int month;
    int day;
    Sex sex;
    int serial;
    std::string_view digits;
  };
  const Kind nr = Kind::kNationalRegister;
  const Kind bis = Kind::kBis;
  const Row rows[] = {
      {"NR male", nr, 1985, 7, 30, Sex::kMale, 33, "85073003328"},
      {"NR 2000s", nr, 2017, 7, 30, Sex::kMale, 33, "17073003384"},
      {"NR leap day 2000", nr, 2000, 2, 29, Sex::kMale, 1, "00022900145"},
      {"NR day unknown", nr, 1985, 7, 0, Sex::kMale, 33, "85070003355"},
      {"NR month unknown, DD verbatim", nr, 1985, 0, 45, Sex::kMale, 33, "85004503314"},
      {"NR date unknown", nr, std::nullopt, 0, 0, Sex::kMale, 33, "00000103334"},
      {"BIS +20", bis, 1985, 7, 30, Sex::kUnknown, 34, "85273003470"},
      {"BIS +40 female", bis, 1985, 7, 30, Sex::kFemale, 34, "85473003416"},
      {"BIS +40 male", bis, 1985, 7, 30, Sex::kMale, 35, "85473003515"},
      {"BIS +40 day unknown", bis, 1985, 7, 0, Sex::kMale, 35, "85470003542"},
      {"BIS +20 month unknown", bis, 1985, 0, 45, Sex::kUnknown, 34, "85204503456"},
      {"BIS +20 date unknown", bis, std::nullopt, 0, 0, Sex::kUnknown, 34, "00200103476"},
      {"BIS +40 date unknown", bis, std::nullopt, 0, 0, Sex::kFemale, 34, "00400103422"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    Result<Number> number =
        Compose(row.kind, row.year, row.month, row.day, row.sex, row.serial, kToday);
    ASSERT_TRUE(number) << number.error().ToString();
    EXPECT_EQ(number->digits, row.digits);
    EXPECT_EQ(number->Serial(), row.serial);
    Result<Number> parsed = Parse(number->digits, kToday);
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(*parsed, *number);
  }
}

TEST(Compose, RefusesImpossibleParts) {
  struct Row {
    std::string_view rule;
    Kind kind;
    std::optional<int> year;
    int month;
    int day;
    Sex sex;
    int serial;
    std::string_view reason_part;
  };
  const Kind nr = Kind::kNationalRegister;
  const Kind bis = Kind::kBis;
  const Row rows[] = {
      {"NR needs a sex", nr, 1985, 7, 30, Sex::kUnknown, 33, "encodes the sex"},
      {"male needs odd", nr, 1985, 7, 30, Sex::kMale, 34, "even"},
      {"female needs even", bis, 1985, 7, 30, Sex::kFemale, 33, "odd"},
      {"serial 0", nr, 1985, 7, 30, Sex::kFemale, 0, "serial 0"},
      {"serial 999", nr, 1985, 7, 30, Sex::kMale, 999, "serial 999"},
      {"year 1899", nr, 1899, 7, 30, Sex::kMale, 33, "1900-2099"},
      {"year after today", nr, 2027, 1, 1, Sex::kMale, 33, "after the current year"},
      {"month 13", nr, 1985, 13, 1, Sex::kMale, 33, "month 13"},
      {"31 April", nr, 1985, 4, 31, Sex::kMale, 33, "day 31"},
      {"29 February 1900", bis, 1900, 2, 29, Sex::kMale, 33, "day 29"},
      {"DD 100 with month unknown", bis, 1985, 0, 100, Sex::kMale, 33, "00-99"},
      {"collides with date unknown", bis, 2000, 0, 1, Sex::kMale, 33, "birth date unknown"},
      {"year unknown, month given", bis, std::nullopt, 7, 0, Sex::kMale, 33, "must be 0"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.rule);
    Result<Number> number =
        Compose(row.kind, row.year, row.month, row.day, row.sex, row.serial, kToday);
    ASSERT_FALSE(number) << number->digits;
    EXPECT_EQ(number.error().code(), StatusCode::kInvalidNiss);
    EXPECT_NE(number.error().message().find(row.reason_part), std::string::npos)
        << number.error().message();
  }
}

std::vector<std::string> Draw(uint64_t seed, int count, bool bis) {
  Generator generator(seed, kToday);
  std::vector<std::string> numbers;
  for (int i = 0; i < count; ++i)
    numbers.push_back((bis ? generator.NextBis() : generator.Next()).digits);
  return numbers;
}

TEST(Generator, IsReproduciblePerSeed) {
  EXPECT_EQ(Draw(1, 200, false), Draw(1, 200, false));
  EXPECT_EQ(Draw(1, 200, true), Draw(1, 200, true));
  EXPECT_NE(Draw(1, 200, false), Draw(2, 200, false));
  // Pinned: the same seed gives these numbers on every platform and every
  // day (std::mt19937_64's output is fixed by the standard; the draws from it
  // are ours). A change here breaks every seeded demo population.
  EXPECT_EQ(Draw(1, 3, false),
            (std::vector<std::string>{"37122089941", "52012015355", "67051307210"}));
  EXPECT_EQ(Draw(1, 3, true),
            (std::vector<std::string>{"73451969994", "58451976702", "57291381697"}));
}

// Property: whatever the generator gives parses back, as of any day, to the
// same fields, and is never repeated.
TEST(Generator, EveryNumberParsesBackAndIsUnique) {
  Generator generator(20240101, kToday);
  std::set<std::string> seen;
  int bis_sex_unknown = 0, date_unknown = 0, month_unknown = 0, day_unknown = 0, born_2000s = 0;
  for (int i = 0; i < 6000; ++i) {
    const bool bis = i % 2 == 1;
    Number number = bis ? generator.NextBis() : generator.Next();
    SCOPED_TRACE(number.digits);
    Result<Number> parsed = Parse(number.digits, kToday);
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(*parsed, number);
    EXPECT_EQ(number.kind, bis ? Kind::kBis : Kind::kNationalRegister);
    EXPECT_TRUE(seen.insert(number.digits).second) << "repeated";
    EXPECT_GE(number.Serial(), 1);
    EXPECT_LE(number.Serial(), 998);
    if (!bis) {
      ASSERT_TRUE(number.BirthDate());
      EXPECT_GE(*number.BirthDate(), Generator::DefaultBornFrom());
      EXPECT_LE(*number.BirthDate(), Generator::DefaultBornTo());
    }
    bis_sex_unknown += bis && number.sex == Sex::kUnknown;
    date_unknown += !number.birth_year;
    month_unknown += number.birth_year && number.birth_month == 0;
    day_unknown += number.birth_month != 0 && number.birth_day == 0;
    born_2000s += number.birth_year.value_or(0) >= 2000;
  }
  EXPECT_EQ(generator.issued(), 6000u);
  // Every shape shows up (loose bounds: this is about coverage, not odds).
  EXPECT_GT(bis_sex_unknown, 0);
  EXPECT_GT(date_unknown, 0);
  EXPECT_GT(month_unknown, 0);
  EXPECT_GT(day_unknown, 0);
  EXPECT_GT(born_2000s, 0);
}

TEST(Generator, NumbersForAGivenBirthDateAndSex) {
  Generator generator(7, kToday);
  Result<Number> woman = generator.NextBornOn(D(2004, 2, 29), Sex::kFemale);
  ASSERT_TRUE(woman) << woman.error().ToString();
  EXPECT_EQ(woman->BirthDateText(), "2004-02-29");
  EXPECT_EQ(woman->sex, Sex::kFemale);
  EXPECT_EQ(woman->kind, Kind::kNationalRegister);

  Result<Number> anyone = generator.NextBornOn(D(1950, 5, 1), Sex::kUnknown);
  ASSERT_TRUE(anyone);
  EXPECT_NE(anyone->sex, Sex::kUnknown);

  Result<Number> bis = generator.NextBisFor(1970, 0, 0, Sex::kUnknown);
  ASSERT_TRUE(bis) << bis.error().ToString();
  EXPECT_EQ(bis->digits.substr(0, 6), "702000");
  EXPECT_EQ(bis->BirthDateText(), "1970-?\?-??");

  EXPECT_EQ(generator.NextBornOn(D(2027, 1, 1), Sex::kMale).error().code(),
            StatusCode::kInvalidNiss);
  EXPECT_EQ(generator.NextBisFor(std::nullopt, 3, 0, Sex::kMale).error().code(),
            StatusCode::kInvalidNiss);
}

TEST(Generator, ReportsADayWhoseSerialsRanOut) {
  Generator generator(3, kToday);
  // 499 even serials, 002-998.
  for (int i = 0; i < 499; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(generator.NextBornOn(D(1985, 7, 30), Sex::kFemale));
  }
  Result<Number> none = generator.NextBornOn(D(1985, 7, 30), Sex::kFemale);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), StatusCode::kUnavailable);
  // The men's serials of that day are still free.
  EXPECT_TRUE(generator.NextBornOn(D(1985, 7, 30), Sex::kMale));
}

TEST(Generator, BirthRange) {
  Generator generator(5, kToday);
  EXPECT_FALSE(generator.SetBirthRange(D(1899, 12, 31), D(1950, 1, 1)).ok());
  EXPECT_FALSE(generator.SetBirthRange(D(1960, 1, 1), D(1950, 1, 1)).ok());
  EXPECT_FALSE(generator.SetBirthRange(D(2020, 1, 1), D(2027, 1, 1)).ok());
  ASSERT_TRUE(generator.SetBirthRange(D(2026, 1, 1), D(2026, 11, 28)).ok());
  for (int i = 0; i < 500; ++i) {
    Number number = generator.Next();
    SCOPED_TRACE(number.digits);
    EXPECT_EQ(number.birth_year, 2026);
    EXPECT_TRUE(Parse(number.digits, kToday));
  }
}

}  // namespace
}  // namespace carrefour::niss
