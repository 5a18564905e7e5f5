// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The embedded lists the synthetic population is drawn from: names,
// municipalities, streets, employer sectors. Invented or common enough to be
// nobody in particular; no real personal data. Private to src/demo.

#include <span>
#include <string_view>

#include "demo/population.h"

namespace carrefour::demo::internal {

// The origin that a person's names are drawn from. Not a nationality: most
// people with Italian or Moroccan names in the population are Belgian.
enum class Flavour {
  kFlemish,
  kFrench,
  kGerman,
  kNetherlands,
  kItalian,
  kMaghreb,
  kTurkish,
  kPolish,
  kRomanian,
};

struct NameLists {
  std::span<const std::string_view> last;
  std::span<const std::string_view> male;
  std::span<const std::string_view> female;
};
const NameLists& Names(Flavour flavour);

enum class Language { kDutch, kFrench, kGerman };

struct Municipality {
  std::string_view name;
  std::string_view postal_code;
  Region region;
  Language language;
  int weight;  // thousands of inhabitants, roughly: how often it is drawn
};
std::span<const Municipality> Municipalities();

// Towns abroad where the frontier workers (BIS numbers) live.
struct ForeignTown {
  std::string_view name;
  std::string_view postal_code;
  std::string_view country;  // ISO 3166 alpha-2
  Language language;
  Flavour flavour;
};
std::span<const ForeignTown> ForeignTowns();

std::span<const std::string_view> Streets(Language language);

// An employer sector: its joint committee, how many of its workers are
// blue-collar, and name patterns per language ("{L}" a last name, "{C}" a
// municipality, "{S}" a saint).
struct Sector {
  int joint_committee;
  int blue_collar_percent;
  std::string_view dutch, french, german;
  int weight;
};
std::span<const Sector> Sectors();
std::span<const std::string_view> Saints();
std::string_view LegalForm(Language language, bool large);

}  // namespace carrefour::demo::internal
