// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Names as the BIS register compares them (docs/bis.md, "Names"): folded to
// lower-case ASCII, particles recognised, a phonetic key for Dutch, French
// and German spellings, and a typo-tolerant similarity. Pure functions: safe
// from any thread.

#include <string>
#include <string_view>
#include <vector>

namespace carrefour::bis {

// Folds a name written in Latin letters to lower-case ASCII words separated
// by single spaces: diacritics dropped ("Müller" -> "muller", "Çelik" ->
// "celik"), ligatures spelled out ("Æ" -> "ae", "ß" -> "ss", "Ĳ" -> "ij"),
// hyphens, dots, commas and runs of spaces become one space, apostrophes
// vanish ("D'Hondt" -> "dhondt"). A character that is not part of a Latin
// name (a digit, "@", a Cyrillic letter...) is dropped; when `problem` is
// given, it receives a description of the first such character (empty if
// none), which validation turns into an error.
std::string FoldName(std::string_view utf8, std::string* problem = nullptr);

// `folded` without its spaces: "van den bossche" -> "vandenbossche", the
// form that makes "Van den Bossche", "Vandenbossche" and "VAN DEN BOSSCHE"
// one name.
std::string Compact(std::string_view folded);

// A compact last name without its leading particle ("vandenbossche" ->
// "bossche", "desmet" -> "smet", "lefebvre" -> "febvre"), keeping at least
// three letters. A function of the compact form only,
// so that every spelling of the spacing gives the same core.
std::string StripParticles(std::string_view compact);

// The phonetic key of lower-case ASCII letters: consonant classes that
// merge the spellings of one sound across Dutch, French and German ("ij",
// "ei", "ey", "y" are one vowel; "sch" and "s"; "ch", "gh" and "g"; "c"/"k"/
// "q"; "d"/"t"/"dt"; "v"/"f"/"ph"; "z"/"s"/"tz"), vowels dropped after the
// first letter, repeated codes once. "Peeters", "Pieters", "Peters" ->
// "PTRS"; "Meyer", "Meijer", "Mayer" -> "MR".
std::string PhoneticKey(std::string_view letters);

// Jaro-Winkler similarity in [0, 1] (1 = equal): tolerant of a typo, a
// missing or doubled letter, two letters swapped.
double JaroWinkler(std::string_view a, std::string_view b);

// The forms of one name that matching uses, computed once.
struct NameForms {
  std::string folded;   // "van den bossche"
  std::string compact;  // "vandenbossche"
  std::string core;     // "bossche" (last names: particles stripped)
  std::string key;      // phonetic key of `core`
  // First names: each given name ("jean", "pierre") and its phonetic key.
  std::vector<std::string> tokens;
  std::vector<std::string> token_keys;
};

NameForms LastNameForms(std::string_view utf8);
NameForms FirstNamesForms(std::string_view utf8);

}  // namespace carrefour::bis
