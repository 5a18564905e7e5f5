// SPDX-License-Identifier: EUPL-1.2
// Coarsening ladders and k-anonymity.

#include "research/internal/generalize.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "research/internal/kanon.h"

namespace carrefour::research::internal {
namespace {

using network::Coarsening;

network::QuasiIdentifier Qi(Coarsening coarsen, int64_t width = 0) {
  network::QuasiIdentifier qi;
  qi.data_type = "t";
  qi.field = "f";
  qi.coarsen = coarsen;
  qi.width = width;
  return qi;
}

TEST(Ladder, CoarsensAndClimbs) {
  struct Case {
    Coarsening coarsen;
    int64_t width;
    const char* raw;
    std::vector<const char*> levels;  // the value at level 0, 1, ...
  };
  const Case cases[] = {
      {Coarsening::kYear, 0, "1985-07-30", {"1985", "1980-1989", "*"}},
      {Coarsening::kMonth, 0, "1985-07-30", {"1985-07", "1985", "1980-1989", "*"}},
      {Coarsening::kDecade, 0, "2003-01-02", {"2000-2009", "*"}},
      {Coarsening::kProvince, 0, "4000", {"Liège", "Wallonia", "*"}},
      {Coarsening::kProvince, 0, "1050", {"Brussels", "Brussels", "*"}},
      {Coarsening::kRegion, 0, "9000", {"Flanders", "*"}},
      {Coarsening::kBand, 500, "3100.5", {"[3000,3500)", "[0,5000)", "*"}},
      {Coarsening::kBand, 500, "7499", {"[7000,7500)", "[5000,10000)", "*"}},
      {Coarsening::kKeep, 0, "f", {"f", "*"}},
      // What cannot be coarsened as declared never passes as it is.
      {Coarsening::kYear, 0, "Rue Haute 1", {"?", "?", "*"}},
      {Coarsening::kProvince, 0, "B-1000", {"?", "?", "*"}},
      {Coarsening::kBand, 500, "lots", {"?", "?", "*"}},
      // Missing stays missing until withheld.
      {Coarsening::kYear, 0, "", {"", "", "*"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.raw));
    Ladder ladder(Qi(c.coarsen, c.width));
    ASSERT_EQ(ladder.top() + 1, c.levels.size());
    std::string level0 = ladder.Coarsen(c.raw);
    for (size_t level = 0; level < c.levels.size(); ++level) {
      EXPECT_EQ(ladder.At(level0, level), c.levels[level]) << "level " << level;
    }
    EXPECT_EQ(ladder.LevelName(ladder.top()), "suppressed");
  }
}

TEST(Ladder, MapsThroughTheProjectTable) {
  network::QuasiIdentifier qi = Qi(Coarsening::kMap);
  qi.map = {{"Bruxelles", "Brussels"}, {"Gent", "Flanders"}};
  qi.map_default = "elsewhere";
  Ladder ladder(qi);
  EXPECT_EQ(ladder.Coarsen("Gent"), "Flanders");
  EXPECT_EQ(ladder.Coarsen("Arlon"), "elsewhere");
  EXPECT_EQ(ladder.At("Flanders", 1), "*");
}

// Every released group has at least k persons; the suppressed are within
// the budget (unless everything is withheld already).
void ExpectKAnonymous(const std::vector<Ladder>& ladders,
                      const std::vector<std::vector<QiValues>>& persons, const KAnonymity& result,
                      size_t k) {
  std::map<std::string, size_t> groups;
  for (size_t p = 0; p < persons.size(); ++p) {
    if (!result.suppressed[p]) ++groups[GroupKey(ladders, persons[p], result.levels)];
  }
  for (const auto& [key, size] : groups) EXPECT_GE(size, k) << key;
  EXPECT_EQ(result.groups, groups.size());
}

TEST(KAnonymity, NothingToDoWhenEveryGroupIsLargeEnough) {
  std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kYear)), Ladder(Qi(Coarsening::kKeep))};
  std::vector<std::vector<QiValues>> persons;
  for (int i = 0; i < 20; ++i)
    persons.push_back({{i % 2 ? "1985" : "1990"}, {i % 4 < 2 ? "m" : "f"}});
  KAnonymity result = MakeKAnonymous(ladders, persons, 5, 0);
  EXPECT_EQ(result.levels, (std::vector<size_t>{0, 0}));
  EXPECT_EQ(result.suppressed_count, 0u);
  EXPECT_EQ(result.smallest_group, 5u);
  ExpectKAnonymous(ladders, persons, result, 5);
}

TEST(KAnonymity, ARareCombinationIsSuppressedWithinTheBudget) {
  std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kYear)), Ladder(Qi(Coarsening::kKeep))};
  std::vector<std::vector<QiValues>> persons;
  for (int i = 0; i < 40; ++i)
    persons.push_back({{i % 2 ? "1985" : "1990"}, {i % 4 < 2 ? "m" : "f"}});
  persons.push_back({{"1931"}, {"f"}});  // the only one born in 1931
  KAnonymity result = MakeKAnonymous(ladders, persons, 5, 2);
  EXPECT_EQ(result.levels, (std::vector<size_t>{0, 0}));
  EXPECT_EQ(result.suppressed_count, 1u);
  EXPECT_TRUE(result.suppressed.back());
  ExpectKAnonymous(ladders, persons, result, 5);
}

TEST(KAnonymity, GeneralizesWhenSuppressingWouldCostTooMuch) {
  // Ten birth years, three persons each: every (year) group is under k = 5,
  // so without a suppression budget the years become decades.
  std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kYear)), Ladder(Qi(Coarsening::kKeep))};
  std::vector<std::vector<QiValues>> persons;
  for (int year = 1980; year < 1990; ++year) {
    for (int i = 0; i < 3; ++i) persons.push_back({{std::to_string(year)}, {"f"}});
  }
  KAnonymity result = MakeKAnonymous(ladders, persons, 5, 0);
  EXPECT_EQ(result.levels, (std::vector<size_t>{1, 0}));
  EXPECT_EQ(result.suppressed_count, 0u);
  EXPECT_EQ(result.groups, 1u);
  ExpectKAnonymous(ladders, persons, result, 5);
}

TEST(KAnonymity, ACohortSmallerThanKIsNeverReleased) {
  std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kYear))};
  std::vector<std::vector<QiValues>> persons = {{{"1985"}}, {{"1985"}}, {{"1986"}}};
  KAnonymity result = MakeKAnonymous(ladders, persons, 5, 0);
  EXPECT_EQ(result.suppressed_count, 3u);
  EXPECT_EQ(result.groups, 0u);
}

TEST(KAnonymity, SeveralValuesOfAPersonMakeOneGroupKey) {
  // A quasi-identifier of a data type answered as a list: the person's set
  // of values is what must be shared.
  std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kKeep))};
  std::vector<std::vector<QiValues>> persons;
  for (int i = 0; i < 5; ++i) persons.push_back({{"a", "b"}});
  persons.push_back({{"a"}});
  KAnonymity result = MakeKAnonymous(ladders, persons, 5, 1);
  EXPECT_EQ(result.suppressed_count, 1u);
  EXPECT_TRUE(result.suppressed.back());
}

TEST(KAnonymity, RandomPopulationsAreAlwaysKAnonymous) {
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE(round);
    std::vector<Ladder> ladders = {Ladder(Qi(Coarsening::kMonth)),
                                   Ladder(Qi(Coarsening::kProvince)),
                                   Ladder(Qi(Coarsening::kKeep))};
    std::vector<std::vector<QiValues>> persons;
    size_t n = 50 + rng() % 400;
    for (size_t i = 0; i < n; ++i) {
      std::string month = std::to_string(1930 + rng() % 80) + "-0" + std::to_string(1 + rng() % 9);
      std::string postal = std::to_string(1000 + rng() % 9000);
      std::string sex = rng() % 2 ? "m" : "f";
      persons.push_back({{ladders[0].Coarsen(month)}, {ladders[1].Coarsen(postal)}, {sex}});
    }
    size_t k = 2 + rng() % 9;
    size_t budget = n * (rng() % 10) / 100;
    KAnonymity result = MakeKAnonymous(ladders, persons, k, budget);
    ExpectKAnonymous(ladders, persons, result, k);
    // n >= k: climbing to "*" everywhere always fits the budget.
    EXPECT_LE(result.suppressed_count, budget);
  }
}

}  // namespace
}  // namespace carrefour::research::internal
