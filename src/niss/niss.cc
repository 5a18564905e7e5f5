// SPDX-License-Identifier: EUPL-1.2
#include "niss/niss.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "core/clock.h"

namespace carrefour::niss {
namespace {

constexpr int kDigits = 11;
// 2YYMMDDSSS = 2 000 000 000 + YYMMDDSSS for births in 2000 or later.
constexpr uint64_t kMillenniumPrefix = 2'000'000'000;
// The BIS register adds these to the month (docs/api.md section 1).
constexpr int kBisSexUnknownOffset = 20;
constexpr int kBisSexKnownOffset = 40;
// Serials the registers assign: 001-997 odd for men, 002-998 even for women.
constexpr int kFirstSerial = 1;
constexpr int kLastSerial = 998;

constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

bool IsSeparator(char c) { return c == '.' || c == '-' || c == ' ' || c == '\t'; }

int CheckDigits(uint64_t body, bool born_2000s) {
  return 97 - static_cast<int>(((born_2000s ? kMillenniumPrefix : 0) + body) % 97);
}

// How the offending character reads in a message: 'x', or its byte value
// when it would not print (a stray control or UTF-8 byte).
std::string Describe(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02X}", byte);
}

// "April", with the BIS month it came from when there was an offset.
std::string MonthLabel(int month, int offset) {
  std::string label(kMonthNames[month - 1]);
  if (offset != 0)
    label += fmt::format(" (BIS month {:02} = {:02} + {})", month + offset, month, offset);
  return label;
}

std::string Digits11(uint64_t body, int check) { return fmt::format("{:09}{:02}", body, check); }

// Collects the digits of `input` (separators skipped) into `digits`: an
// error unless there are exactly 11.
Status ReadDigits(std::string_view input, char (&digits)[kDigits]) {
  size_t count = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    char c = input[i];
    if (c >= '0' && c <= '9') {
      if (count < kDigits) digits[count] = c;
      ++count;
    } else if (!IsSeparator(c)) {
      return InvalidNiss(fmt::format("non-digit character {} at position {}", Describe(c), i + 1));
    }
  }
  if (count == 0) return InvalidNiss(input.empty() ? "empty" : "empty: separators but no digits");
  if (count != kDigits) {
    return InvalidNiss(fmt::format("{} digit{}, expected 11", count, count == 1 ? "" : "s"));
  }
  return OkStatus();
}

// What the BIS register added to the month MM (0 for a national register
// number), or an error for a month no register gives.
Result<int> MonthOffset(int mm) {
  if (mm >= kBisSexKnownOffset && mm <= kBisSexKnownOffset + 12) return kBisSexKnownOffset;
  if (mm >= kBisSexUnknownOffset && mm <= kBisSexUnknownOffset + 12) return kBisSexUnknownOffset;
  if (mm <= 12) return 0;
  std::string reason = fmt::format("impossible month {:02}", mm);
  if (mm > kBisSexUnknownOffset + 12 && mm < kBisSexKnownOffset) {
    reason += fmt::format(" (as a BIS month, {} - 20 = {})", mm, mm - kBisSexUnknownOffset);
  } else if (mm > kBisSexKnownOffset + 12 && mm < 60) {
    reason += fmt::format(" (as a BIS month, {} - 40 = {})", mm, mm - kBisSexKnownOffset);
  }
  reason +=
      ": expected 01-12 (00 if unknown), or a BIS month 20-32 (month + 20) or 40-52 "
      "(month + 40)";
  return Error(InvalidNiss(std::move(reason)));
}

// The birth year the check digits give: the 1900s, or the 2000s up to the
// current year.
Result<int> BirthYear(int yy, uint64_t body, int check, const Date* today) {
  if (check == CheckDigits(body, false)) {
    // The 1900s come first: a number whose 1900s check digits hold is a
    // 1900s number even when 2000 + YY would be possible too.
    return 1900 + yy;
  }
  if (check == CheckDigits(body, true)) {
    int current_year = today != nullptr ? today->year() : SystemClock().Today().year();
    if (2000 + yy > current_year) {
      return Error(InvalidNiss(fmt::format(
          "wrong check digits {:02}: they are those of a birth in {}, which is after the "
          "current year",
          check, 2000 + yy)));
    }
    return 2000 + yy;
  }
  // The expected digits are not given: a person who "fixes" a mistyped
  // number by its check digits gets a valid number of somebody else.
  return Error(InvalidNiss(fmt::format(
      "wrong check digits {:02}: they match YYMMDDSSS neither for a birth in the 1900s nor in "
      "the 2000s",
      check)));
}

// The fields of a number, read from its 11 digits.
struct Fields {
  int yy, mm, dd, serial, check;
  uint64_t body;  // YYMMDDSSS
};

Fields ReadFields(const char (&digits)[kDigits]) {
  auto field = [&digits](int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; ++i) value = value * 10 + (digits[i] - '0');
    return value;
  };
  return Fields{field(0, 2), field(2, 2), field(4, 2), field(6, 3), field(9, 2),
                static_cast<uint64_t>(field(0, 9))};
}

Number MakeNumber(const char (&digits)[kDigits], const Fields& f, int offset, int month, int birth_year) {
  Number number;
  number.digits.assign(digits, kDigits);
  number.kind = offset == 0 ? Kind::kNationalRegister : Kind::kBis;
  if (offset == kBisSexUnknownOffset) {
    number.sex = Sex::kUnknown;
  } else {
    number.sex = f.serial % 2 == 1 ? Sex::kMale : Sex::kFemale;
  }
  // YYMMDD = 000001 (BIS: 002001, 004001): nothing of the birth date is known.
  const bool date_unknown = f.yy == 0 && month == 0 && f.dd == 1;
  if (!date_unknown) {
    number.birth_year = birth_year;
    number.birth_month = month;
    number.birth_day = month == 0 ? 0 : f.dd;
  }
  return number;
}

// Parses with `today` read only when a birth in the 2000s must be checked
// against it: most people were born in the 1900s, and the system clock is the
// costliest part of a validation.
Result<Number> ParseImpl(std::string_view input, const Date* today) {
  char digits[kDigits];
  if (Status read = ReadDigits(input, digits); !read.ok()) return Error(std::move(read));
  const Fields f = ReadFields(digits);
  if (f.yy == 0 && f.mm == 0 && f.dd == 0 && f.serial == 0 && f.check == 0) {
    return Error(InvalidNiss("all zeros"));
  }

  // The month first: an impossible month is wrong in any century, and saying
  // so is more useful than "wrong check digits".
  CARREFOUR_ASSIGN_OR_RETURN(const int offset, MonthOffset(f.mm));
  const int month = f.mm - offset;

  // Days that no year has (31 April, 30 February); 29 February waits for the
  // birth century, which only the check digits tell. With the month unknown,
  // DD carries no date and any value is accepted.
  if (month != 0 && f.dd != 0 && f.dd > DaysInMonth(2000, month)) {
    return Error(
        InvalidNiss(fmt::format("impossible day {:02} in {} (it has {} days; 00 if unknown)", f.dd,
                                MonthLabel(month, offset), DaysInMonth(2000, month))));
  }
  CARREFOUR_ASSIGN_OR_RETURN(const int birth_year, BirthYear(f.yy, f.body, f.check, today));
  if (month == 2 && f.dd == 29 && !IsLeapYear(birth_year)) {
    return Error(InvalidNiss(fmt::format("impossible day 29 in {} {} (not a leap year)",
                                         MonthLabel(month, offset), birth_year)));
  }
  return MakeNumber(digits, f, offset, month, birth_year);
}

}  // namespace

// "?\?" spells "??" without forming the "??-" trigraph that -Wall warns about.
std::string Number::BirthDateText() const {
  if (!birth_year) return "unknown";
  if (birth_month == 0) return fmt::format("{:04}-?\?-??", *birth_year);
  if (birth_day == 0) return fmt::format("{:04}-{:02}-??", *birth_year, birth_month);
  return fmt::format("{:04}-{:02}-{:02}", *birth_year, birth_month, birth_day);
}

std::optional<Date> Number::BirthDate() const {
  if (!birth_year || birth_month == 0 || birth_day == 0) return std::nullopt;
  return Date::FromCivil(*birth_year, birth_month, birth_day);
}

int Number::Serial() const {
  if (digits.size() != kDigits) return 0;
  return (digits[6] - '0') * 100 + (digits[7] - '0') * 10 + (digits[8] - '0');
}

std::string Number::Formatted() const {
  if (digits.size() != kDigits) return digits;
  std::string_view d = digits;
  return fmt::format("{}.{}.{}-{}.{}", d.substr(0, 2), d.substr(2, 2), d.substr(4, 2),
                     d.substr(6, 3), d.substr(9, 2));
}

Result<Number> Parse(std::string_view input, Date today) { return ParseImpl(input, &today); }

Result<Number> Parse(std::string_view input) { return ParseImpl(input, nullptr); }

Result<std::string> Normalize(std::string_view input, Date today) {
  CARREFOUR_ASSIGN_OR_RETURN(Number number, Parse(input, today));
  return std::move(number.digits);
}

Result<std::string> Normalize(std::string_view input) {
  CARREFOUR_ASSIGN_OR_RETURN(Number number, Parse(input));
  return std::move(number.digits);
}

Result<Number> Compose(Kind kind, std::optional<int> birth_year, int birth_month, int birth_day,
                       Sex sex, int serial, Date today) {
  if (kind == Kind::kNationalRegister && sex == Sex::kUnknown) {
    return Error(InvalidNiss("a National Register number always encodes the sex"));
  }
  if (birth_year) {
    if (*birth_year < 1900 || *birth_year > 2099) {
      return Error(InvalidNiss(fmt::format("birth year {} is outside 1900-2099", *birth_year)));
    }
    if (*birth_year > today.year()) {
      return Error(InvalidNiss(
          fmt::format("birth year {} is after the current year {}", *birth_year, today.year())));
    }
    if (birth_month < 0 || birth_month > 12) {
      return Error(
          InvalidNiss(fmt::format("birth month {} is not 1-12 (0 if unknown)", birth_month)));
    }
    if (birth_month == 0) {
      if (birth_day < 0 || birth_day > 99) {
        return Error(InvalidNiss(
            fmt::format("with the month unknown, DD {} must still be 00-99", birth_day)));
      }
      if (*birth_year % 100 == 0 && birth_day == 1) {
        return Error(InvalidNiss(fmt::format(
            "birth year {} with month unknown and DD 01 would read as 'birth date unknown'",
            *birth_year)));
      }
    } else if (birth_day < 0 || birth_day > DaysInMonth(*birth_year, birth_month)) {
      return Error(InvalidNiss(
          fmt::format("day {} does not exist in {}-{:02}", birth_day, *birth_year, birth_month)));
    }
  } else if (birth_month != 0 || birth_day != 0) {
    return Error(InvalidNiss("with the birth year unknown, month and day must be 0 (unknown) too"));
  }
  if (serial < kFirstSerial || serial > kLastSerial) {
    return Error(InvalidNiss(
        fmt::format("serial {} is outside {:03}-{:03}", serial, kFirstSerial, kLastSerial)));
  }
  if (sex == Sex::kMale && serial % 2 == 0) {
    return Error(InvalidNiss(fmt::format("serial {:03} is even: men have odd serials", serial)));
  }
  if (sex == Sex::kFemale && serial % 2 == 1) {
    return Error(InvalidNiss(fmt::format("serial {:03} is odd: women have even serials", serial)));
  }

  int offset = 0;
  if (kind == Kind::kBis) offset = sex == Sex::kUnknown ? kBisSexUnknownOffset : kBisSexKnownOffset;
  const int yy = birth_year ? *birth_year % 100 : 0;
  const int dd = birth_year ? birth_day : 1;
  const uint64_t body = static_cast<uint64_t>(yy) * 10'000'000 +
                        static_cast<uint64_t>(birth_month + offset) * 100'000 +
                        static_cast<uint64_t>(dd) * 1'000 + static_cast<uint64_t>(serial);

  Number number;
  number.digits = Digits11(body, CheckDigits(body, birth_year.value_or(1900) >= 2000));
  number.kind = kind;
  number.sex = sex;
  number.birth_year = birth_year;
  number.birth_month = birth_month;
  number.birth_day = birth_month == 0 ? 0 : birth_day;
  return number;
}

Result<Number> Compose(Kind kind, std::optional<int> birth_year, int birth_month, int birth_day,
                       Sex sex, int serial) {
  return Compose(kind, birth_year, birth_month, birth_day, sex, serial, SystemClock().Today());
}

// --- Generator ---

Date Generator::DefaultBornFrom() { return *Date::FromCivil(1930, 1, 1); }
Date Generator::DefaultBornTo() { return *Date::FromCivil(2020, 12, 31); }

Generator::Generator(uint64_t seed) : Generator(seed, SystemClock().Today()) {}

Generator::Generator(uint64_t seed, Date today)
    : engine_(seed), today_(today), born_from_(DefaultBornFrom()), born_to_(DefaultBornTo()) {}

Status Generator::SetBirthRange(Date from, Date to) {
  if (from < *Date::FromCivil(1900, 1, 1) || to < from || to.year() > today_.year()) {
    return InvalidRequest(fmt::format(
        "birth range {}..{} must lie between 1900-01-01 and the end of the current year {}",
        from.ToString(), to.ToString(), today_.year()));
  }
  born_from_ = from;
  born_to_ = to;
  return OkStatus();
}

// Unbiased: draws that fall in the incomplete last block of 2^64 are
// rejected, so every value below `bound` is equally likely and the sequence
// depends only on the engine's output, which the standard fixes.
uint64_t Generator::Uniform(uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    uint64_t draw = engine_();
    if (draw >= threshold) return draw % bound;
  }
}

Sex Generator::DrawSex() { return Uniform(2) == 0 ? Sex::kMale : Sex::kFemale; }

Date Generator::DrawBirthDate() {
  const auto span =
      static_cast<uint64_t>(born_to_.days_since_epoch() - born_from_.days_since_epoch()) + 1;
  return born_from_.AddDays(static_cast<int32_t>(Uniform(span)));
}

Result<Number> Generator::Allocate(Kind kind, std::optional<int> birth_year, int birth_month,
                                   int birth_day, Sex sex) {
  // Serials of one sex have one parity; with the sex unknown every serial
  // will do. Start anywhere, walk until a free one.
  const int step = sex == Sex::kUnknown ? 1 : 2;
  const int first = sex == Sex::kFemale ? 2 : 1;
  const int choices = (kLastSerial - first) / step + 1;
  const int start = static_cast<int>(Uniform(static_cast<uint64_t>(choices)));
  for (int i = 0; i < choices; ++i) {
    const int serial = first + ((start + i) % choices) * step;
    CARREFOUR_ASSIGN_OR_RETURN(
        Number number, Compose(kind, birth_year, birth_month, birth_day, sex, serial, today_));
    if (issued_.insert(std::strtoull(number.digits.c_str(), nullptr, 10)).second) return number;
  }
  return Error(Unavailable("every serial for these birth date and sex is already taken"));
}

Number Generator::Next() {
  // A full day (998 numbers) only sends us to another day; only a range with
  // nothing left at all can exhaust the attempts.
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    Date birth = DrawBirthDate();
    Result<Number> number =
        Allocate(Kind::kNationalRegister, birth.year(), birth.month(), birth.day(), DrawSex());
    if (number) return *std::move(number);
  }
  std::fprintf(stderr, "niss::Generator: the birth range has no free number left\n");
  std::abort();
}

Number Generator::NextBis() {
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    // Fixed integer thresholds over one draw each, so that the mix is the
    // same everywhere (see the header for the proportions).
    Sex sex = Uniform(100) < 70 ? DrawSex() : Sex::kUnknown;
    Date birth = DrawBirthDate();
    const uint64_t shape = Uniform(100);
    std::optional<int> year = birth.year();
    int month = birth.month();
    int day = birth.day();
    if (shape >= 97) {
      year.reset();
      month = 0;
      day = 0;
    } else if (shape >= 92) {
      month = 0;
      day = 0;
    } else if (shape >= 85) {
      day = 0;
    }
    Result<Number> number = Allocate(Kind::kBis, year, month, day, sex);
    if (number) return *std::move(number);
  }
  std::fprintf(stderr, "niss::Generator: the birth range has no free BIS number left\n");
  std::abort();
}

Result<Number> Generator::NextBornOn(Date birth_date, Sex sex) {
  if (sex == Sex::kUnknown) sex = DrawSex();
  return Allocate(Kind::kNationalRegister, birth_date.year(), birth_date.month(), birth_date.day(),
                  sex);
}

Result<Number> Generator::NextBisFor(std::optional<int> birth_year, int birth_month, int birth_day,
                                     Sex sex) {
  return Allocate(Kind::kBis, birth_year, birth_month, birth_day, sex);
}

}  // namespace carrefour::niss
