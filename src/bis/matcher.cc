// SPDX-License-Identifier: EUPL-1.2
#include "bis/matcher.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

namespace carrefour::bis {
namespace {

// Evidence weights, in the manner of Fellegi and Sunter: each field adds
// what its agreement says for "one person" and subtracts what its
// disagreement says against. The values were set from how often each kind
// of agreement happens by chance in a national population (a birth date is
// shared by ~1 in 30 000, a last name by ~1 in 1000) and tuned on the
// look-alike set of bis_matcher_test (docs/bis.md has the table).
constexpr double kLastEqual = 4.0, kLastParticles = 3.5, kLastSoundsAlike = 3.0,
                 kLastTypo = 2.5, kLastPartial = 2.0, kLastClose = 1.0, kLastDifferent = -4.0;
constexpr double kFirstEqual = 3.0, kFirstPartial = 2.5, kFirstTypo = 2.5,
                 kFirstSoundsAlike = 2.0, kFirstClose = 1.5, kFirstOther = 1.5,
                 kFirstInitial = 1.0, kFirstMissing = 0.0, kFirstDifferent = -3.0;
constexpr double kDateEqual = 4.0, kDateSwapped = 2.5, kDateCompatibleMonth = 2.0,
                 kDateTypo = 1.5, kDateCompatibleYear = 1.0, kDateUnknown = 0.0,
                 kDateSameYear = -2.0, kDateDifferent = -4.0;
constexpr double kSexEqual = 0.3, kSexDifferent = -2.0;
constexpr double kNationalityEqual = 0.3, kNationalityDifferent = -0.5;
// Last and first names swapped (a frequent slip with foreign names) costs
// this much on top of what the crossed comparison gives.
constexpr double kSwappedNamesPenalty = 1.0;
// Below this similarity of the query's last name to the stored first names,
// the crossed comparison could not come out ahead.
constexpr double kCrossedSimilarity = 0.7;
constexpr double kMaxEvidence =
    kLastEqual + kFirstEqual + kDateEqual + kSexEqual + kNationalityEqual;

// Jaro-Winkler similarities from which a name counts as a typo of the other,
// and as close; below four letters only exact and phonetic agreement count
// ("Li" and "Le" are not a typo of each other). Given names are short and
// their phonetic keys coarse ("Mamadou" and "Mehmet" are both MT): sounding
// alike counts only when the spellings are also close.
constexpr double kTypoSimilarity = 0.92, kCloseSimilarity = 0.85, kSoundsAlikeSimilarity = 0.8;
constexpr size_t kMinLettersForTypo = 4;

// One typing slip apart: a letter replaced, added, dropped, or two
// neighbours swapped (optimal string alignment distance <= 1).
bool OneSlipApart(std::string_view a, std::string_view b) {
  if (a == b) return false;
  if (a.size() < b.size()) std::swap(a, b);
  if (a.size() - b.size() > 1) return false;
  size_t i = 0;
  while (i < b.size() && a[i] == b[i]) ++i;
  if (a.size() != b.size()) return a.substr(i + 1) == b.substr(i);  // one letter more
  if (a.substr(i + 1) == b.substr(i + 1)) return true;               // one replaced
  return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
         a.substr(i + 2) == b.substr(i + 2);  // two swapped
}

bool IsSlip(const std::string& a, const std::string& b) {
  return std::min(a.size(), b.size()) >= kMinLettersForTypo && OneSlipApart(a, b);
}

struct Part {
  double weight = 0.0;
  const char* reason = nullptr;
};

Part CompareLast(const NameForms& a, const NameForms& b) {
  if (a.compact.empty() || b.compact.empty()) return {kLastDifferent, "last-name-different"};
  if (a.compact == b.compact) return {kLastEqual, "last-name-equal"};
  if (a.core == b.core) return {kLastParticles, "last-name-particles"};
  if (!a.key.empty() && a.key == b.key) return {kLastSoundsAlike, "last-name-sounds-alike"};
  const bool long_enough =
      std::min(a.compact.size(), b.compact.size()) >= kMinLettersForTypo;
  const double similarity =
      long_enough ? std::max(JaroWinkler(a.compact, b.compact), JaroWinkler(a.core, b.core)) : 0.0;
  if (similarity >= kTypoSimilarity || IsSlip(a.compact, b.compact)) {
    return {kLastTypo, "last-name-typo"};
  }
  // One name is a word of the other ("Garcia" and "Garcia Lopez").
  for (const std::string& word : a.tokens.size() < b.tokens.size() ? b.tokens : a.tokens) {
    const std::string& shorter = a.tokens.size() < b.tokens.size() ? a.compact : b.compact;
    if (word.size() >= kMinLettersForTypo && word == shorter) {
      return {kLastPartial, "last-name-partial"};
    }
  }
  if (similarity >= kCloseSimilarity) return {kLastClose, "last-name-close"};
  return {kLastDifferent, "last-name-different"};
}

bool SoundAlike(const std::string& a, const std::string& a_key, const std::string& b,
                const std::string& b_key) {
  return !a_key.empty() && a_key == b_key && JaroWinkler(a, b) >= kSoundsAlikeSimilarity;
}

Part CompareFirst(const NameForms& a, const NameForms& b) {
  if (a.tokens.empty() || b.tokens.empty()) return {kFirstMissing, "first-names-missing"};
  if (a.compact == b.compact) return {kFirstEqual, "first-names-equal"};
  const NameForms& shorter = a.tokens.size() <= b.tokens.size() ? a : b;
  const NameForms& longer = a.tokens.size() <= b.tokens.size() ? b : a;
  // "Jean" and "Jean Pierre Marie": every given name of the shorter list is
  // in the longer, the first one first.
  if (shorter.tokens.front() == longer.tokens.front()) {
    bool all = std::all_of(shorter.tokens.begin(), shorter.tokens.end(), [&](const std::string& t) {
      return std::find(longer.tokens.begin(), longer.tokens.end(), t) != longer.tokens.end();
    });
    if (all) return {kFirstPartial, "first-names-partial"};
  }
  if (IsSlip(a.compact, b.compact) || IsSlip(a.tokens.front(), b.tokens.front())) {
    return {kFirstTypo, "first-names-typo"};
  }
  if (SoundAlike(a.tokens.front(), a.token_keys.front(), b.tokens.front(), b.token_keys.front())) {
    return {kFirstSoundsAlike, "first-names-sounds-alike"};
  }
  const bool long_enough =
      std::min(a.tokens.front().size(), b.tokens.front().size()) >= kMinLettersForTypo;
  if (long_enough && (JaroWinkler(a.tokens.front(), b.tokens.front()) >= kTypoSimilarity ||
                      JaroWinkler(a.compact, b.compact) >= kTypoSimilarity)) {
    return {kFirstClose, "first-names-close"};
  }
  // The name in daily use is not the first given name ("Marie Anne" / "Anne").
  for (const std::string& x : a.tokens) {
    if (x.size() < 2) continue;
    if (std::find(b.tokens.begin(), b.tokens.end(), x) != b.tokens.end()) {
      return {kFirstOther, "first-names-other-given-name"};
    }
  }
  const std::string& x = a.tokens.front();
  const std::string& y = b.tokens.front();
  if ((x.size() == 1 || y.size() == 1) && x[0] == y[0]) return {kFirstInitial, "first-names-initial"};
  return {kFirstDifferent, "first-names-different"};
}

// Two numbers written with `width` digits differ by one digit, or by two
// neighbouring digits swapped: a typing slip.
bool IsDigitSlip(int a, int b, int width) {
  if (a == b) return false;
  std::string x = fmt::format("{:0{}}", a, width);
  std::string y = fmt::format("{:0{}}", b, width);
  int differences = 0;
  for (int i = 0; i < width; ++i) differences += x[i] != y[i] ? 1 : 0;
  if (differences == 1) return true;
  for (int i = 0; i + 1 < width; ++i) {
    if (x[i] != y[i] && x[i] == y[i + 1] && x[i + 1] == y[i]) {
      std::swap(x[i], x[i + 1]);
      return x == y;
    }
  }
  return false;
}

Part CompareDates(const BirthDate& a, const BirthDate& b) {
  if (!a.year || !b.year) return {kDateUnknown, "birth-date-unknown"};
  if (a.complete() && b.complete()) {
    if (a == b) return {kDateEqual, "birth-date-equal"};
    if (*a.year == *b.year && a.day == b.month && a.month == b.day) {
      return {kDateSwapped, "birth-date-day-month-swapped"};
    }
    const bool same_year = *a.year == *b.year;
    const bool same_month = a.month == b.month;
    const bool same_day = a.day == b.day;
    if ((same_year && same_month && IsDigitSlip(a.day, b.day, 2)) ||
        (same_year && same_day && IsDigitSlip(a.month, b.month, 2)) ||
        (same_month && same_day && IsDigitSlip(*a.year, *b.year, 4))) {
      return {kDateTypo, "birth-date-typo"};
    }
    return same_year ? Part{kDateSameYear, "birth-date-different"}
                     : Part{kDateDifferent, "birth-date-different"};
  }
  // Unknown parts on at least one side: what both know must agree.
  if (*a.year != *b.year) return {kDateDifferent, "birth-date-different"};
  if (a.month != 0 && b.month != 0) {
    if (a.month != b.month) {
      // 1985-03-00 against 1985-07-03: one side may have day and month
      // swapped while the other lacks the day.
      const bool swapped = (a.day == 0 && b.day == a.month) || (b.day == 0 && a.day == b.month);
      return swapped ? Part{kDateCompatibleYear, "birth-date-compatible"}
                     : Part{kDateSameYear, "birth-date-different"};
    }
    return {kDateCompatibleMonth, "birth-date-compatible"};
  }
  return {kDateCompatibleYear, "birth-date-compatible"};
}

Part CompareSex(niss::Sex a, niss::Sex b) {
  if (a == niss::Sex::kUnknown || b == niss::Sex::kUnknown) return {};
  return a == b ? Part{kSexEqual, nullptr} : Part{kSexDifferent, "sex-different"};
}

Part CompareNationality(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return {};
  return Compact(FoldName(a)) == Compact(FoldName(b))
             ? Part{kNationalityEqual, "nationality-equal"}
             : Part{kNationalityDifferent, "nationality-different"};
}

// 63 bits of FNV-1a: non-negative in a signed 64-bit column of both engines.
int64_t KeyHash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash >> 1);
}

std::string YearText(const BirthDate& date) {
  return date.year ? std::to_string(*date.year) : std::string("?");
}

void AddUnique(std::vector<int64_t>& keys, std::string_view text) {
  int64_t key = KeyHash(text);
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
}

}  // namespace

Matcher::Matcher(Identity query)
    : query_(std::move(query)),
      last_(LastNameForms(query_.last_name)),
      first_(FirstNamesForms(query_.first_names)) {}

Match Matcher::Against(const Identity& stored) const {
  const NameForms last = LastNameForms(stored.last_name);
  const NameForms first = FirstNamesForms(stored.first_names);
  Part last_part = CompareLast(last_, last);
  Part first_part = CompareFirst(first_, first);
  bool swapped = false;
  // Last and first names swapped: compare them crossed — only when they
  // look alike at all, which spares most candidates the second set of forms.
  if (last_part.weight < kLastTypo && !first.tokens.empty() && !first_.tokens.empty() &&
      JaroWinkler(last_.compact, first.compact) >= kCrossedSimilarity) {
    NameForms stored_first_as_last = LastNameForms(stored.first_names);
    NameForms stored_last_as_first = FirstNamesForms(stored.last_name);
    Part crossed_last = CompareLast(last_, stored_first_as_last);
    Part crossed_first = CompareFirst(first_, stored_last_as_first);
    if (crossed_last.weight + crossed_first.weight - kSwappedNamesPenalty >
        last_part.weight + first_part.weight) {
      last_part = crossed_last;
      first_part = crossed_first;
      last_part.weight -= kSwappedNamesPenalty;
      swapped = true;
    }
  }
  const Part parts[] = {last_part, first_part, CompareDates(query_.birth_date, stored.birth_date),
                        CompareSex(query_.sex, stored.sex),
                        CompareNationality(query_.nationality, stored.nationality)};
  double evidence = 0.0;
  for (const Part& part : parts) evidence += part.weight;

  Match match;
  match.score = std::clamp(evidence / kMaxEvidence, 0.0, 1.0);
  // Two decimals: what is shown is what is compared.
  match.score = static_cast<double>(std::lround(match.score * 100)) / 100.0;
  if (swapped) match.reasons.emplace_back("names-swapped");
  std::vector<const Part*> ordered;
  for (const Part& part : parts) {
    if (part.reason != nullptr) ordered.push_back(&part);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Part* x, const Part* y) { return x->weight > y->weight; });
  for (const Part* part : ordered) match.reasons.emplace_back(part->reason);
  return match;
}

std::vector<int64_t> StoredKeys(const Identity& identity) {
  const NameForms last = LastNameForms(identity.last_name);
  const NameForms first = FirstNamesForms(identity.first_names);
  const BirthDate& date = identity.birth_date;
  std::vector<int64_t> keys;
  if (date.complete()) AddUnique(keys, fmt::format("D|{}|{}|{}", *date.year, date.month, date.day));
  AddUnique(keys, fmt::format("L|{}|{}", last.key, YearText(date)));
  AddUnique(keys, fmt::format("S|{}", last.key));
  if (!first.key.empty()) {
    AddUnique(keys, fmt::format("F|{}|{}", first.key, YearText(date)));
    AddUnique(keys, fmt::format("N|{}|{}", last.key, first.key));
  }
  return keys;
}

std::vector<int64_t> QueryKeys(const Identity& identity) {
  const NameForms last = LastNameForms(identity.last_name);
  const NameForms first = FirstNamesForms(identity.first_names);
  const BirthDate& date = identity.birth_date;
  std::vector<int64_t> keys;
  if (date.complete()) {
    AddUnique(keys, fmt::format("D|{}|{}|{}", *date.year, date.month, date.day));
    if (date.day <= 12 && date.day != date.month) {
      AddUnique(keys, fmt::format("D|{}|{}|{}", *date.year, date.day, date.month));
    }
  }
  // The same year, or a stored person whose year is unknown.
  AddUnique(keys, fmt::format("L|{}|{}", last.key, YearText(date)));
  AddUnique(keys, fmt::format("L|{}|?", last.key));
  if (!first.key.empty()) {
    AddUnique(keys, fmt::format("F|{}|{}", first.key, YearText(date)));
    AddUnique(keys, fmt::format("F|{}|?", first.key));
    AddUnique(keys, fmt::format("N|{}|{}", last.key, first.key));
    // Last and first names swapped: the first name's sound as a last name.
    NameForms first_as_last = LastNameForms(identity.first_names);
    NameForms last_as_first = FirstNamesForms(identity.last_name);
    if (!last_as_first.key.empty()) {
      AddUnique(keys, fmt::format("N|{}|{}", first_as_last.key, last_as_first.key));
    }
  }
  return keys;
}

std::vector<int64_t> NameSearchKeys(const Identity& identity) {
  std::vector<int64_t> keys = QueryKeys(identity);
  AddUnique(keys, fmt::format("S|{}", LastNameForms(identity.last_name).key));
  return keys;
}

}  // namespace carrefour::bis
