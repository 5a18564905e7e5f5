// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/stretch.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::directory::internal {
namespace {

Date D(const char* text) { return *Date::Parse(text); }

TEST(LatestStretch, MergesTouchingAndOverlappingPiecesAndKeepsTheLatest) {
  struct Case {
    std::string name;
    std::vector<Period> pieces;
    std::optional<Period> expected;
  };
  const std::vector<Case> cases = {
      {"none", {}, std::nullopt},
      {"one", {{D("2024-01-01"), D("2024-03-31")}}, Period{D("2024-01-01"), D("2024-03-31")}},
      {"one open", {{D("2024-01-01"), std::nullopt}}, Period{D("2024-01-01"), std::nullopt}},
      {"touching merge",
       {{D("2024-04-01"), D("2024-12-31")}, {D("2024-01-01"), D("2024-03-31")}},
       Period{D("2024-01-01"), D("2024-12-31")}},
      {"overlapping merge",
       {{D("2024-01-01"), D("2024-06-30")}, {D("2024-03-01"), D("2024-12-31")}},
       Period{D("2024-01-01"), D("2024-12-31")}},
      {"contained piece does not shorten",
       {{D("2024-01-01"), D("2024-12-31")}, {D("2024-02-01"), D("2024-02-29")}},
       Period{D("2024-01-01"), D("2024-12-31")}},
      {"open piece absorbs later ones",
       {{D("2024-01-01"), std::nullopt}, {D("2024-05-01"), D("2024-05-31")}},
       Period{D("2024-01-01"), std::nullopt}},
      {"gap keeps the latest",
       {{D("2024-01-01"), D("2024-03-30")}, {D("2024-04-01"), D("2024-12-31")}},
       Period{D("2024-04-01"), D("2024-12-31")}},
      {"gap, latest given first",
       {{D("2024-06-01"), std::nullopt},
        {D("2024-01-01"), D("2024-02-01")},
        {D("2024-02-02"), D("2024-03-01")}},
       Period{D("2024-06-01"), std::nullopt}},
      {"chain of three",
       {{D("2024-03-01"), D("2024-03-31")},
        {D("2024-01-01"), D("2024-01-31")},
        {D("2024-02-01"), D("2024-02-29")}},
       Period{D("2024-01-01"), D("2024-03-31")}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Period> pieces = c.pieces;
    EXPECT_EQ(LatestStretch(pieces), c.expected);
  }
}

}  // namespace
}  // namespace carrefour::directory::internal
