// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Identification: national register numbers (NISS/INSZ) and BIS numbers,
// docs/api.md section 1. Start here.
//
//   Result<Number> n = niss::Parse("85.07.30-033.28");   // validate
//   n->digits == "85073003328", n->sex == Sex::kMale, n->BirthDateText() == "1985-07-30"
//
// Everything here is pure computation (no I/O, no shared state): safe to call
// from any thread. The only outside input is "today", which decides whether a
// birth in the 2000s is possible; the overloads without a `today` read
// SystemClock(). The rules and their reasons are in docs/identification.md.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/date.h"
#include "core/result.h"

namespace carrefour::niss {

// Which register the number belongs to: the National Register, or the BIS
// register kept by the hub (month + 20 or + 40).
enum class Kind { kNationalRegister, kBis };

// kUnknown only for BIS numbers assigned with month + 20.
enum class Sex { kUnknown, kMale, kFemale };

// A valid number and what it says about the person.
struct Number {
  // Always the 11 bare digits, YYMMDDSSSCC.
  std::string digits;
  Kind kind = Kind::kNationalRegister;
  Sex sex = Sex::kUnknown;
  // nullopt for the "whole birth date unknown" forms 000001, 002001, 004001.
  std::optional<int> birth_year;
  // 1-12, or 0 when unknown (MM = 00 after removing the BIS offset).
  int birth_month = 0;
  // 1-31, or 0 when unknown (DD = 00, or any DD when the month is unknown).
  int birth_day = 0;

  // "1985-07-30", "1985-07-??", "1985-??-??", or "unknown".
  std::string BirthDateText() const;
  // The birth date when year, month and day are all known.
  std::optional<Date> BirthDate() const;
  // SSS, 0-999.
  int Serial() const;
  // The usual written form "85.07.30-033.28" (for people; never for storage).
  std::string Formatted() const;

  friend bool operator==(const Number&, const Number&) = default;
};

// Validates `input` (11 digits, optionally separated by dots, dashes, spaces
// or tabs: "85.07.30-033.28") as of `today` (whose year bounds the births in
// the 2000s). Errors: invalid-niss, with a message saying which rule failed:
// empty, a non-digit character, the wrong number of digits, all zeros, an
// impossible month, an impossible day, or wrong check digits. The message
// does not repeat the input.
Result<Number> Parse(std::string_view input, Date today);
Result<Number> Parse(std::string_view input);

// The 11 bare digits of a valid number; the same errors as Parse.
Result<std::string> Normalize(std::string_view input, Date today);
Result<std::string> Normalize(std::string_view input);

// Builds a number from its parts and computes its check digits:
// - kind kNationalRegister: `sex` must be known; serial parity follows it.
// - kind kBis: sex known -> month + 40 and serial parity follows the sex;
//   sex unknown -> month + 20 and any serial.
// - birth_year nullopt: the whole-date-unknown form (YYMMDD 000001, 002001 or
//   004001); birth_month and birth_day must then be 0.
// - birth_month 0: month unknown; birth_day is then written verbatim as DD
//   (0-99), which lets the BIS register use DD as extra room once a day's
//   serials have run out (docs/api.md: "DD then carries no date").
// - birth_day 0: day unknown.
// - serial: 1-998 (001-997 odd for men, 002-998 even for women, as the
//   National Register assigns them; Parse also accepts 000 and 999).
// - birth_year 1900-2099 and not after today's year (a later 2000s year
//   could not be recognised by Parse).
// Errors: invalid-niss naming the part that is wrong. The result always
// parses back (as of `today`) to an equal Number.
Result<Number> Compose(Kind kind, std::optional<int> birth_year, int birth_month, int birth_day,
                       Sex sex, int serial, Date today);
Result<Number> Compose(Kind kind, std::optional<int> birth_year, int birth_month, int birth_day,
                       Sex sex, int serial);

// Synthetic valid numbers, reproducible per seed: the same seed and the same
// sequence of calls give the same numbers on every platform and every day
// (the PRNG is std::mt19937_64, whose output the standard fixes, and the
// draws from it are written out here rather than left to the library's
// implementation-defined distributions). A Generator never returns the same
// number twice (it remembers what it gave, ~40 bytes per number). Not
// thread-safe; cheap to create one per thread with different seeds.
class Generator {
 public:
  // The default birth range: fixed, not relative to today, so that a seed
  // means the same numbers whenever it is used.
  static Date DefaultBornFrom();  // 1930-01-01
  static Date DefaultBornTo();    // 2020-12-31

  // `today` only bounds the 2000s years that SetBirthRange and the Next*For
  // functions accept; the one-argument form reads SystemClock().
  explicit Generator(uint64_t seed);
  Generator(uint64_t seed, Date today);

  // Birth dates for Next() and NextBis() are drawn uniformly from [from, to].
  // invalid-request unless 1900-01-01 <= from <= to and to's year is not
  // after today's year.
  Status SetBirthRange(Date from, Date to);

  // A National Register number: birth date uniform in the range, sex 50/50,
  // serial uniform among those of that sex. Next() and NextBis() abort (a
  // caller's bug) only when the range holds no free number any more: 998 per
  // day of the range, far beyond any synthetic population.
  Number Next();
  // A BIS number: 70 % sex known (+40), 30 % unknown (+20); the birth date
  // fully known 85 %, day unknown 7 %, month unknown 5 %, wholly unknown 3 %.
  Number NextBis();

  // A National Register number for someone born on `birth_date` with `sex`
  // (kUnknown: drawn 50/50). invalid-niss for a date Compose refuses;
  // unavailable when every serial of that day and sex is already taken.
  Result<Number> NextBornOn(Date birth_date, Sex sex);
  // A BIS number with these parts (as Compose takes them; a random serial).
  // Same errors as NextBornOn.
  Result<Number> NextBisFor(std::optional<int> birth_year, int birth_month, int birth_day, Sex sex);

  // How many numbers this generator has returned.
  size_t issued() const { return issued_.size(); }

 private:
  uint64_t Uniform(uint64_t bound);  // in [0, bound)
  Sex DrawSex();
  Date DrawBirthDate();
  // A free serial for these parts, starting from a random one and stepping
  // through those of the right parity; unavailable when none is left.
  Result<Number> Allocate(Kind kind, std::optional<int> birth_year, int birth_month, int birth_day,
                          Sex sex);

  std::mt19937_64 engine_;
  Date today_;
  Date born_from_;
  Date born_to_;
  std::unordered_set<uint64_t> issued_;
};

}  // namespace carrefour::niss
