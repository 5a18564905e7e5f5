// SPDX-License-Identifier: EUPL-1.2
// Small-cell and complementary suppression.

#include "research/internal/suppress.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace carrefour::research::internal {
namespace {

const std::string kAll(AggregateTable::kTotal);

AggregateCell Cell(std::vector<std::string> key, size_t persons) {
  AggregateCell cell;
  cell.key = std::move(key);
  cell.persons = persons;
  return cell;
}

// The property that matters: no published cell under k, and no line with
// exactly one suppressed cell (it would be its margin minus the others).
void ExpectSafe(const std::vector<AggregateCell>& cells, size_t dimensions, int64_t k) {
  for (const AggregateCell& cell : cells) {
    if (cell.persons > 0 && static_cast<int64_t>(cell.persons) < k) {
      EXPECT_TRUE(cell.suppressed) << "a cell of " << cell.persons << " persons is published";
    }
  }
  std::map<std::pair<size_t, std::vector<std::string>>, size_t> suppressed_per_line;
  for (const AggregateCell& cell : cells) {
    for (size_t j = 0; j < dimensions; ++j) {
      std::vector<std::string> line = cell.key;
      line[j] = kAll;
      suppressed_per_line[{j, line}] += cell.suppressed;  // the margin itself included
    }
  }
  for (const auto& [line, suppressed] : suppressed_per_line) {
    EXPECT_NE(suppressed, 1u) << "a line of dimension " << line.first << " has one suppressed cell";
  }
}

TEST(SuppressCells, OneDimensionHidesASecondCell) {
  std::vector<AggregateCell> cells = {Cell({"a"}, 10), Cell({"b"}, 3), Cell({"c"}, 12),
                                      Cell({kAll}, 25)};
  size_t primary = 0, complementary = 0;
  SuppressCells(cells, 1, 5, &primary, &complementary);
  EXPECT_EQ(primary, 1u);
  EXPECT_EQ(complementary, 1u);
  EXPECT_TRUE(cells[1].suppressed);
  EXPECT_TRUE(cells[0].suppressed);  // the smallest other cell
  EXPECT_FALSE(cells[2].suppressed);
  EXPECT_FALSE(cells[3].suppressed);
  ExpectSafe(cells, 1, 5);
}

TEST(SuppressCells, ALoneCellTakesItsMarginWithIt) {
  // One value only: the margin equals it.
  std::vector<AggregateCell> cells = {Cell({"a"}, 3), Cell({kAll}, 3)};
  size_t primary = 0, complementary = 0;
  SuppressCells(cells, 1, 5, &primary, &complementary);
  EXPECT_TRUE(cells[0].suppressed);
  EXPECT_TRUE(cells[1].suppressed);
  ExpectSafe(cells, 1, 5);
}

TEST(SuppressCells, TwoDimensionsWithMargins) {
  // rows x, y; columns m, f.  x,m = 2 is under k.
  std::vector<AggregateCell> cells = {
      Cell({"x", "m"}, 2),   Cell({"x", "f"}, 9),   Cell({"x", kAll}, 11),
      Cell({"y", "m"}, 8),   Cell({"y", "f"}, 7),   Cell({"y", kAll}, 15),
      Cell({kAll, "m"}, 10), Cell({kAll, "f"}, 16), Cell({kAll, kAll}, 26)};
  size_t primary = 0, complementary = 0;
  SuppressCells(cells, 2, 5, &primary, &complementary);
  EXPECT_EQ(primary, 1u);
  // Exactly the rectangle of four inner cells (x,m and the smallest cells
  // that hide it in its row, its column, and the fourth corner), and no
  // margin: suppressing more would be safe too, but would throw away
  // publishable figures (suppressing everything satisfies ExpectSafe).
  EXPECT_EQ(complementary, 3u);
  std::vector<bool> suppressed;
  for (const AggregateCell& cell : cells) suppressed.push_back(cell.suppressed);
  EXPECT_EQ(suppressed, (std::vector<bool>{true, true, false, true, true, false, false, false, false}));
  ExpectSafe(cells, 2, 5);
}

TEST(SuppressCells, RandomTablesAreSafe) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(round);
    size_t dimensions = 1 + rng() % 3;
    std::map<std::vector<std::string>, size_t> counts;
    size_t values = 2 + rng() % 4;
    size_t combinations = 1;
    for (size_t i = 0; i < dimensions; ++i) combinations *= values;
    for (size_t c = 0; c < combinations; ++c) {
      if (rng() % 4 == 0) continue;  // some combinations are empty
      std::vector<std::string> key;
      size_t rest = c;
      for (size_t i = 0; i < dimensions; ++i) {
        key.push_back(std::string(1, static_cast<char>('a' + rest % values)));
        rest /= values;
      }
      size_t persons = 1 + rng() % 12;
      // Every margin of this cell gets its persons too.
      for (uint32_t mask = 0; mask < (1u << dimensions); ++mask) {
        std::vector<std::string> margin = key;
        for (size_t i = 0; i < dimensions; ++i) {
          if (mask & (1u << i)) margin[i] = kAll;
        }
        counts[margin] += persons;
      }
    }
    std::vector<AggregateCell> cells;
    for (const auto& [key, persons] : counts) cells.push_back(Cell(key, persons));
    size_t primary = 0, complementary = 0;
    SuppressCells(cells, dimensions, 5, &primary, &complementary);
    ExpectSafe(cells, dimensions, 5);
  }
}

}  // namespace
}  // namespace carrefour::research::internal
