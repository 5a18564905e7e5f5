// SPDX-License-Identifier: EUPL-1.2
#include "bis/matcher.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::bis {
namespace {

Identity Person(std::string last, std::string first, std::string birth, niss::Sex sex = niss::Sex::kMale,
                std::string nationality = "MA") {
  Identity identity;
  identity.last_name = std::move(last);
  identity.first_names = std::move(first);
  Result<BirthDate> date = BirthDate::Parse(birth, *Date::Parse("2026-06-01"));
  EXPECT_TRUE(date) << birth;
  if (date) identity.birth_date = *date;
  identity.sex = sex;
  identity.nationality = std::move(nationality);
  return identity;
}

bool Has(const Match& match, const std::string& reason) {
  return std::find(match.reasons.begin(), match.reasons.end(), reason) != match.reasons.end();
}

std::string Describe(const Match& match) {
  std::string out = std::to_string(match.score);
  for (const std::string& reason : match.reasons) out += " " + reason;
  return out;
}

TEST(Matcher, TellsLookAlikesFromOtherPeopleAndSaysWhy) {
  const Identity base = Person("Van den Bossche", "Jean-Pierre Marie", "1985-07-03");
  struct Row {
    std::string name;
    Identity other;
    bool duplicate;
    std::string reason;  // must be among the reasons
  };
  const Row rows[] = {
      {"the same", base, true, "birth-date-equal"},
      {"spacing of the particles", Person("Vandenbossche", "Jean-Pierre Marie", "1985-07-03"), true,
       "last-name-equal"},
      {"case and accents", Person("VAN DEN BÖSSCHE", "JEAN-PIERRE MARIE", "1985-07-03"), true,
       "last-name-equal"},
      {"particles dropped", Person("Bossche", "Jean-Pierre Marie", "1985-07-03"), true,
       "last-name-particles"},
      {"a typo", Person("Van den Bosscha", "Jean-Pierre Marie", "1985-07-03"), true, ""},
      {"day and month swapped", Person("Van den Bossche", "Jean-Pierre Marie", "1985-03-07"), true,
       "birth-date-day-month-swapped"},
      {"day unknown", Person("Van den Bossche", "Jean-Pierre Marie", "1985-07-00"), true,
       "birth-date-compatible"},
      {"month and day unknown", Person("Van den Bossche", "Jean-Pierre", "1985-00-00"), true,
       "birth-date-compatible"},
      {"birth date unknown", Person("Van den Bossche", "Jean-Pierre Marie", "0000-00-00"), true,
       "birth-date-unknown"},
      {"first given name only", Person("Van den Bossche", "Jean", "1985-07-03"), true,
       "first-names-partial"},
      {"hyphen as a space", Person("Van den Bossche", "Jean Pierre Marie", "1985-07-03"), true,
       "first-names-equal"},
      {"a typo in the date", Person("Van den Bossche", "Jean-Pierre Marie", "1985-07-08"), true,
       "birth-date-typo"},
      {"sex recorded differently", Person("Van den Bossche", "Jean-Pierre Marie", "1985-07-03",
                                          niss::Sex::kFemale),
       true, "sex-different"},
      {"twins", Person("Van den Bossche", "Luc", "1985-07-03"), false, ""},
      {"same first name and birth date", Person("Peeters", "Jean-Pierre Marie", "1985-07-03"),
       false, ""},
      {"same name, other date that year", Person("Van den Bossche", "Jean-Pierre Marie", "1985-11-21"),
       false, ""},
      {"same name, another year", Person("Van den Bossche", "Jean-Pierre Marie", "1962-02-14"),
       false, ""},
  };
  const Matcher matcher(base);
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Match match = matcher.Against(row.other);
    EXPECT_EQ(match.score >= kDuplicateScore, row.duplicate) << Describe(match);
    if (!row.reason.empty()) {
      EXPECT_TRUE(Has(match, row.reason)) << Describe(match);
    }
    EXPECT_GE(match.score, 0.0);
    EXPECT_LE(match.score, 1.0);
  }
  EXPECT_DOUBLE_EQ(matcher.Against(base).score, 1.0);
}

TEST(Matcher, RecognisesLastAndFirstNamesSwapped) {
  const Matcher matcher(Person("Ahmed", "Ali", "1990-01-15"));
  Match match = matcher.Against(Person("Ali", "Ahmed", "1990-01-15"));
  EXPECT_GE(match.score, kDuplicateScore) << Describe(match);
  ASSERT_FALSE(match.reasons.empty());
  EXPECT_EQ(match.reasons.front(), "names-swapped");
}

TEST(Matcher, OrdersReasonsStrongestFirst) {
  const Matcher matcher(Person("Peeters", "Anna", "1970-05-06", niss::Sex::kFemale, "NL"));
  Match match = matcher.Against(Person("Pieters", "Anna", "1970-06-05", niss::Sex::kFemale, "BE"));
  EXPECT_EQ(match.reasons,
            (std::vector<std::string>{"last-name-sounds-alike", "first-names-equal",
                                      "birth-date-day-month-swapped", "nationality-different"}));
}

// Whatever a duplicate's differences, one of its query keys is one of the
// original's stored keys: blocking never hides a pair the score would keep.
TEST(BlockingKeys, ReachEveryLookAlike) {
  const Identity stored = Person("Van den Bossche", "Jean-Pierre", "1985-07-03");
  const std::vector<int64_t> stored_keys = StoredKeys(stored);
  const Identity queries[] = {
      Person("Vandenbossche", "Jean-Pierre", "1985-07-03"),
      Person("Van den Bossche", "Jean", "1985-03-07"),
      Person("Van den Bossche", "Jean-Pierre", "1985-00-00"),
      Person("Van den Bossche", "Jean-Pierre", "0000-00-00"),
      Person("Van den Bossche", "Jean-Pierre", "1958-07-03"),
      Person("Xan den Bossche", "Jean-Pierre", "1985-07-03"),
      Person("Xan den Bossche", "Jean-Pierre", "1985-00-00"),
      Person("Jean-Pierre", "Van den Bossche", "1985-07-03"),
  };
  for (const Identity& query : queries) {
    SCOPED_TRACE(query.last_name + " " + query.first_names + " " + query.birth_date.ToString());
    std::vector<int64_t> keys = QueryKeys(query);
    bool shared = std::any_of(keys.begin(), keys.end(), [&](int64_t key) {
      return std::find(stored_keys.begin(), stored_keys.end(), key) != stored_keys.end();
    });
    EXPECT_TRUE(shared);
  }
  for (int64_t key : stored_keys) EXPECT_GE(key, 0);
}

}  // namespace
}  // namespace carrefour::bis
