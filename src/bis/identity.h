// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the BIS register knows of a person (docs/api.md section 4.4): names,
// birth date with unknown parts, sex, nationality. Plain values; validation
// and the JSON form live beside them.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/date.h"
#include "core/result.h"
#include "niss/niss.h"

namespace carrefour::bis {

// A birth date of which parts may be unknown, written "YYYY-MM-DD" with 00
// for an unknown part (docs/api.md 4.4): "1985-07-30", "1985-07-00" (day
// unknown), "1985-00-00" (month and day unknown), "0000-00-00" (unknown).
struct BirthDate {
  std::optional<int> year;  // nullopt: wholly unknown (month and day are 0)
  int month = 0;            // 1-12, 0 unknown
  int day = 0;              // 1-31, 0 unknown (always 0 when the month is)

  bool complete() const { return year && month != 0 && day != 0; }

  // invalid-request naming what is wrong: the shape, a day without a month,
  // a month or day without a year, a day that month does not have, a year
  // before 1900 or a date after `today`.
  static Result<BirthDate> Parse(std::string_view text, Date today);
  // "1985-07-30", "1985-07-00", "0000-00-00".
  std::string ToString() const;

  friend bool operator==(const BirthDate&, const BirthDate&) = default;
};

struct Identity {
  std::string last_name;    // as given, UTF-8
  std::string first_names;  // as given, UTF-8; may be empty (some people have none)
  BirthDate birth_date;
  niss::Sex sex = niss::Sex::kUnknown;
  std::string nationality;  // as given ("BE", "MA"...); may be empty (unknown)

  friend bool operator==(const Identity&, const Identity&) = default;
};

// The longest name or nationality the register keeps, in bytes.
inline constexpr size_t kMaxNameBytes = 200;
inline constexpr size_t kMaxNationalityBytes = 64;

// Reads {"last_name", "first_names", "birth_date", "sex", "nationality"}
// (docs/api.md 4.4), ignoring other keys (the caller refuses those it does not
// allow) and checks it: invalid-request naming the field (a last name
// without a letter, a name in another script than Latin, a digit or a sign
// no name has, too long; a birth date Parse refuses; sex not "m", "f" or
// null).
Result<Identity> IdentityFromJson(const boost::json::object& object, Date today);

// The same fields, as person.identity answers them: birth_date with 00 for
// unknown parts, sex "m", "f" or null, nationality null when unknown.
boost::json::object IdentityToJson(const Identity& identity);

// "m", "f", or "" for unknown.
std::string_view SexCode(niss::Sex sex);

}  // namespace carrefour::bis
