// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/generalize.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace carrefour::research::internal {
namespace {

constexpr std::string_view kUnknown = "?";
constexpr std::string_view kStar = "*";

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYY" from "YYYY", "YYYY-MM" or "YYYY-MM-DD" (a provider's date); empty otherwise.
std::string_view YearOf(std::string_view value) {
  if (value.size() < 4 || !IsDigits(value.substr(0, 4))) return {};
  if (value.size() == 4) return value;
  if (value[4] != '-') return {};
  return value.substr(0, 4);
}

std::string_view MonthOf(std::string_view value) {
  if (YearOf(value).empty() || value.size() < 7 || !IsDigits(value.substr(5, 2))) return {};
  if (value.size() > 7 && value[7] != '-') return {};
  return value.substr(0, 7);
}

std::string DecadeOf(std::string_view value) {
  std::string_view year = YearOf(value);
  if (year.empty()) {
    // Already a decade ("1980-1989"): stays.
    if (value.size() == 9 && value[4] == '-' && IsDigits(value.substr(0, 4)))
      return std::string(value);
    return std::string(kUnknown);
  }
  int start = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10;
  return fmt::format("{:04}-{:04}", start, start + 9);
}

// "[lo,hi)" with whole numbers written without decimals.
std::string Band(double value, double width) {
  double low = std::floor(value / width) * width;
  return fmt::format("[{},{})", low, low + width);
}

// The lower bound of a band "[lo,hi)".
bool BandLow(std::string_view band, double* low) {
  if (band.size() < 4 || band.front() != '[') return false;
  size_t comma = band.find(',');
  if (comma == std::string_view::npos) return false;
  std::string text(band.substr(1, comma - 1));
  char* end = nullptr;
  *low = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0' && !text.empty();
}

bool ParseNumber(std::string_view text, double* value) {
  std::string copy(text);
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end != nullptr && *end == '\0' && std::isfinite(*value);
}

}  // namespace

std::string_view ProvinceOfPostalCode(std::string_view code) {
  if (code.size() != 4 || !IsDigits(code)) return {};
  int n = 0;
  std::from_chars(code.data(), code.data() + code.size(), n);
  if (n < 1000) return {};
  if (n < 1300) return "Brussels";
  if (n < 1500) return "Walloon Brabant";
  if (n < 2000) return "Flemish Brabant";
  if (n < 3000) return "Antwerp";
  if (n < 3500) return "Flemish Brabant";
  if (n < 4000) return "Limburg";
  if (n < 5000) return "Liège";
  if (n < 6000) return "Namur";
  if (n < 6600) return "Hainaut";
  if (n < 7000) return "Luxembourg";
  if (n < 8000) return "Hainaut";
  if (n < 9000) return "West Flanders";
  return "East Flanders";
}

std::string_view RegionOfProvince(std::string_view province) {
  if (province == "Brussels") return "Brussels";
  if (province == "Walloon Brabant" || province == "Liège" || province == "Namur" ||
      province == "Hainaut" || province == "Luxembourg") {
    return "Wallonia";
  }
  if (province == "Flemish Brabant" || province == "Antwerp" || province == "Limburg" ||
      province == "West Flanders" || province == "East Flanders") {
    return "Flanders";
  }
  return {};
}

Ladder::Ladder(const network::QuasiIdentifier& qi) : qi_(qi) {
  using C = network::Coarsening;
  switch (qi.coarsen) {
    case C::kKeep: steps_ = {Step::kKeep}; break;
    case C::kMonth: steps_ = {Step::kMonth, Step::kYear, Step::kDecade}; break;
    case C::kYear: steps_ = {Step::kYear, Step::kDecade}; break;
    case C::kDecade: steps_ = {Step::kDecade}; break;
    case C::kProvince: steps_ = {Step::kProvince, Step::kRegion}; break;
    case C::kRegion: steps_ = {Step::kRegion}; break;
    case C::kBand: steps_ = {Step::kBand, Step::kWideBand}; break;
    case C::kMap: steps_ = {Step::kMap}; break;
  }
  steps_.push_back(Step::kStar);
}

std::string Ladder::Apply(Step step, std::string_view value) const {
  if (step == Step::kStar) return std::string(kStar);
  // Missing and uncoarsenable values stay what they are below the top.
  if (value.empty() || value == kUnknown) return std::string(value);
  switch (step) {
    case Step::kKeep: return std::string(value);
    case Step::kMonth: {
      std::string_view month = MonthOf(value);
      return month.empty() ? std::string(kUnknown) : std::string(month);
    }
    case Step::kYear: {
      std::string_view year = YearOf(value);
      return year.empty() ? std::string(kUnknown) : std::string(year);
    }
    case Step::kDecade: return DecadeOf(value);
    case Step::kProvince: {
      std::string_view province = ProvinceOfPostalCode(value);
      return province.empty() ? std::string(kUnknown) : std::string(province);
    }
    case Step::kRegion: {
      // From a postal code (declared "region") or from a province (the
      // step above "province").
      std::string_view province = ProvinceOfPostalCode(value);
      std::string_view region = RegionOfProvince(province.empty() ? value : province);
      return region.empty() ? std::string(kUnknown) : std::string(region);
    }
    case Step::kBand: {
      double number = 0;
      if (!ParseNumber(value, &number)) return std::string(kUnknown);
      return Band(number, static_cast<double>(qi_.width));
    }
    case Step::kWideBand: {
      double low = 0;
      if (!BandLow(value, &low)) return std::string(kUnknown);
      return Band(low, static_cast<double>(qi_.width) * 10);
    }
    case Step::kMap: {
      for (const auto& [from, to] : qi_.map) {
        if (from == value) return to;
      }
      return qi_.map_default;
    }
    case Step::kStar: break;
  }
  return std::string(kStar);
}

std::string Ladder::Coarsen(std::string_view raw) const {
  return Apply(steps_.front(), raw);
}

std::string Ladder::At(std::string_view value, size_t level) const {
  std::string out(value);
  for (size_t i = 1; i <= level && i < steps_.size(); ++i) out = Apply(steps_[i], out);
  return out;
}

std::string_view Ladder::LevelName(size_t level) const {
  if (level >= steps_.size()) level = steps_.size() - 1;
  switch (steps_[level]) {
    case Step::kKeep: return "keep";
    case Step::kMonth: return "month";
    case Step::kYear: return "year";
    case Step::kDecade: return "decade";
    case Step::kProvince: return "province";
    case Step::kRegion: return "region";
    case Step::kBand: return "band";
    case Step::kWideBand: return "band x10";
    case Step::kMap: return "map";
    case Step::kStar: return "suppressed";
  }
  return "suppressed";
}

}  // namespace carrefour::research::internal
