// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Coarsening and generalization of quasi-identifiers (docs/research.md).
//
// Each quasi-identifier has a ladder of levels: level 0 is the coarsening the
// project declared, each next level is coarser, and the last is "*" (the
// value withheld). The extract stores values at level 0 only, so nothing
// finer than the project asked for ever reaches the output folder; k-anonymity
// then climbs the ladder from there.
//
//   year:     1985          -> 1980-1989     -> *
//   month:    1985-07       -> 1985          -> 1980-1989 -> *
//   province: Liège         -> Wallonia      -> *
//   band 500: [3000,3500)   -> [0,5000)      -> *
//
// A value that cannot be coarsened as declared (not a date, not a postal
// code) becomes "?": the raw value never passes. A missing value stays "".

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "network/model.h"

namespace carrefour::research::internal {

class Ladder {
 public:
  explicit Ladder(const network::QuasiIdentifier& qi);

  // The declared coarsening (level 0) of a raw value in its text form.
  std::string Coarsen(std::string_view raw) const;

  // The level-0 `value` at `level` (0..top()).
  std::string At(std::string_view value, size_t level) const;

  // The index of the last level ("*").
  size_t top() const { return steps_.size() - 1; }

  // "year", "decade", ..., "suppressed" for the top.
  std::string_view LevelName(size_t level) const;

 private:
  enum class Step {
    kKeep,
    kMonth,
    kYear,
    kDecade,
    kProvince,
    kRegion,
    kBand,
    kWideBand,
    kMap,
    kStar
  };
  std::string Apply(Step step, std::string_view value) const;

  network::QuasiIdentifier qi_;
  std::vector<Step> steps_;
};

// The province and region of a Belgian postal code (1000-9999); empty when
// it is not one.
std::string_view ProvinceOfPostalCode(std::string_view code);
std::string_view RegionOfProvince(std::string_view province);

}  // namespace carrefour::research::internal
