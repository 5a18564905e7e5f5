// SPDX-License-Identifier: EUPL-1.2
#include "bis/identity.h"

#include <fmt/format.h>

#include "api/json.h"
#include "bis/names.h"

namespace carrefour::bis {
namespace json = boost::json;
namespace {

constexpr int kFirstYear = 1900;  // docs/api.md section 1: the 1900s and the 2000s

Result<int> Digits(std::string_view text) {
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Error(InvalidRequest(""));
    value = value * 10 + (c - '0');
  }
  return value;
}

Result<std::string> NameField(const json::object& object, std::string_view key, bool required) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    if (required) return Error(InvalidRequest(fmt::format("'{}' is required", key)));
    return std::string();
  }
  if (!value->is_string()) return Error(InvalidRequest(fmt::format("'{}' must be a string", key)));
  std::string text(value->as_string());
  if (text.size() > kMaxNameBytes) {
    return Error(InvalidRequest(fmt::format("'{}' is longer than {} bytes", key, kMaxNameBytes)));
  }
  std::string problem;
  std::string folded = FoldName(text, &problem);
  if (!problem.empty()) {
    return Error(InvalidRequest(fmt::format(
        "'{}' holds {}, which is not part of a name written in Latin letters (give the name as "
        "in the passport's machine-readable zone)",
        key, problem)));
  }
  if (required && folded.empty()) {
    return Error(InvalidRequest(fmt::format("'{}' holds no letter", key)));
  }
  return text;
}

}  // namespace

Result<BirthDate> BirthDate::Parse(std::string_view text, Date today) {
  auto bad = [&](std::string_view why) {
    return Error(InvalidRequest(fmt::format("'birth_date' {}", why)));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return bad("must be YYYY-MM-DD, with 00 for an unknown part (0000-00-00 when unknown)");
  }
  Result<int> year = Digits(text.substr(0, 4));
  Result<int> month = Digits(text.substr(5, 2));
  Result<int> day = Digits(text.substr(8, 2));
  if (!year || !month || !day) {
    return bad("must be YYYY-MM-DD, with 00 for an unknown part (0000-00-00 when unknown)");
  }
  BirthDate date;
  date.month = *month;
  date.day = *day;
  if (*year == 0) {
    if (*month != 0 || *day != 0) return bad("has a month or a day but no year: write 0000-00-00");
    return date;
  }
  if (*month == 0 && *day != 0) return bad("has a day but no month: write YYYY-00-00");
  if (*month > 12) return bad(fmt::format("has month {}: expected 01-12, or 00 if unknown", *month));
  if (*year < kFirstYear) return bad(fmt::format("is before {}", kFirstYear));
  if (*day > DaysInMonth(*year, *month)) {
    return bad(fmt::format("has day {}, which {:04}-{:02} does not have", *day, *year, *month));
  }
  date.year = *year;
  // The latest day the known parts allow: a birth cannot be in the future.
  Date earliest = *Date::FromCivil(*year, std::max(1, *month), std::max(1, *day));
  if (earliest > today) return bad(fmt::format("is after today ({})", today.ToString()));
  return date;
}

std::string BirthDate::ToString() const {
  return fmt::format("{:04}-{:02}-{:02}", year.value_or(0), month, day);
}

std::string_view SexCode(niss::Sex sex) {
  switch (sex) {
    case niss::Sex::kMale: return "m";
    case niss::Sex::kFemale: return "f";
    case niss::Sex::kUnknown: return "";
  }
  return "";
}

Result<Identity> IdentityFromJson(const json::object& object, Date today) {
  Identity identity;
  CARREFOUR_ASSIGN_OR_RETURN(identity.last_name, NameField(object, "last_name", true));
  CARREFOUR_ASSIGN_OR_RETURN(identity.first_names, NameField(object, "first_names", false));
  const json::value* birth = object.if_contains("birth_date");
  if (birth == nullptr || !birth->is_string()) {
    return Error(InvalidRequest(
        "'birth_date' must be a string YYYY-MM-DD, with 00 for an unknown part (0000-00-00 when "
        "unknown)"));
  }
  CARREFOUR_ASSIGN_OR_RETURN(identity.birth_date, BirthDate::Parse(birth->as_string(), today));
  const json::value* sex = object.if_contains("sex");
  if (sex != nullptr && !sex->is_null()) {
    if (sex->is_string() && sex->as_string() == "m") {
      identity.sex = niss::Sex::kMale;
    } else if (sex->is_string() && sex->as_string() == "f") {
      identity.sex = niss::Sex::kFemale;
    } else {
      return Error(InvalidRequest("'sex' must be \"m\", \"f\" or null (unknown)"));
    }
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<std::string> nationality,
                             api::OptionalString(object, "nationality"));
  if (nationality) {
    if (nationality->size() > kMaxNationalityBytes) {
      return Error(InvalidRequest(
          fmt::format("'nationality' is longer than {} bytes", kMaxNationalityBytes)));
    }
    identity.nationality = std::move(*nationality);
  }
  return identity;
}

json::object IdentityToJson(const Identity& identity) {
  json::object out;
  out["last_name"] = identity.last_name;
  out["first_names"] = identity.first_names;
  out["birth_date"] = identity.birth_date.ToString();
  std::string_view sex = SexCode(identity.sex);
  out["sex"] = sex.empty() ? json::value(nullptr) : json::value(sex);
  out["nationality"] =
      identity.nationality.empty() ? json::value(nullptr) : json::value(identity.nationality);
  return out;
}

}  // namespace carrefour::bis
