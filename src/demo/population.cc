// SPDX-License-Identifier: EUPL-1.2
#include "demo/population.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>
#include <unordered_set>

#include "demo/internal/lists.h"

namespace carrefour::demo {
namespace {

using internal::Flavour;
using internal::Language;
using internal::Municipality;

// --- Deterministic draws ----------------------------------------------------------
// std::mt19937_64's output is fixed by the standard; the distributions of
// <random> are not. Every draw is therefore written out here (as niss.cc
// does), so that a seed means the same population everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, bound); unbiased (draws in the incomplete last block of
  // 2^64 are rejected).
  uint64_t Below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      uint64_t draw = engine_();
      if (draw >= threshold) return draw % bound;
    }
  }
  // Uniform in [lo, hi]; lo when hi < lo.
  int Between(int lo, int hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Percent(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  bool PerTenThousand(int n) { return Below(10000) < static_cast<uint64_t>(n); }

  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(items.size())];
  }
  // An index drawn with the given weights (at least one positive).
  template <typename Weights>
  size_t Weighted(const Weights& weights) {
    int64_t total = 0;
    for (auto w : weights) total += w;
    int64_t draw = static_cast<int64_t>(Below(static_cast<uint64_t>(total)));
    size_t i = 0;
    for (auto w : weights) {
      if (draw < w) return i;
      draw -= w;
      ++i;
    }
    return i - 1;
  }

 private:
  std::mt19937_64 engine_;
};

// --- Dates ----------------------------------------------------------------------------

Date Civil(int year, int month, int day) {
  return *Date::FromCivil(year, month, std::min(day, DaysInMonth(year, month)));
}
Date AddYears(Date date, int years) { return Civil(date.year() + years, date.month(), date.day()); }
Date AddMonths(Date date, int months) {
  int index = date.year() * 12 + (date.month() - 1) + months;
  return Civil(index / 12, index % 12 + 1, date.day());
}
Date FirstOfNextMonth(Date date) { return AddMonths(Civil(date.year(), date.month(), 1), 1); }
int DaysBetween(Date from, Date to) { return to.days_since_epoch() - from.days_since_epoch(); }

int Age(Date birth, Date day) {
  int age = day.year() - birth.year();
  if (day.month() < birth.month() || (day.month() == birth.month() && day.day() < birth.day())) {
    --age;
  }
  return age;
}

// A day drawn uniformly in [from, to] (from when to < from).
Date DayBetween(Rng& rng, Date from, Date to) {
  if (to <= from) return from;
  return from.AddDays(
      static_cast<int32_t>(rng.Below(static_cast<uint64_t>(DaysBetween(from, to)) + 1)));
}

const Date kFamiwalStart = *Date::FromCivil(2019, 1, 1);        // the regional funds took over
const Date kNewAllowanceSystem = *Date::FromCivil(2020, 1, 1);  // Walloon reform: flat amounts

// --- What each person does (internal to the generation) --------------------------------

enum class Activity { kChild, kStudent, kEmployed, kUnemployed, kInactive, kPensioner };

enum class Role { kReference, kPartner, kChild, kGrandparent, kFlatmate };

std::string RelationName(Role role) {
  switch (role) {
    case Role::kReference:
      return "reference";
    case Role::kPartner:
      return "partner";
    case Role::kChild:
      return "child";
    case Role::kGrandparent:
      return "parent";
    case Role::kFlatmate:
      return "other";
  }
  return "other";
}

struct Draft {
  int age;
  niss::Sex sex;
  Flavour flavour;
  Role role;
  std::string last_name;  // empty: drawn from the flavour
};

class Builder {
 public:
  explicit Builder(const PopulationOptions& options)
      : options_(options),
        today_(options.today),
        rng_(options.seed * 0x9E3779B97F4A7C15ULL + 17),
        numbers_(options.seed, options.today) {
    population_.options = options;
  }

  Population Build() {
    const size_t persons = options_.persons;
    // Frontier workers: a few in 200 (at least one in any population of 200+).
    const size_t frontier = persons / 200;
    population_.persons.reserve(persons);
    population_.households.reserve(persons / 2 + 1);
    roles_.reserve(persons);
    MakeEmployers(std::max<size_t>(20, persons / 40));
    while (population_.persons.size() < persons - frontier) {
      MakeHousehold(persons - frontier - population_.persons.size());
    }
    for (size_t i = 0; i < frontier; ++i) MakeFrontierWorker();
    activity_.resize(population_.persons.size(), Activity::kInactive);

    for (const Household& household : population_.households) AssignDeaths(household);
    for (Person& person : population_.persons) AssignActivity(person);
    for (Person& person : population_.persons) {
      if (person.bis) {
        AssignFrontierWork(person);
      } else {
        AssignWork(person);
      }
    }
    for (Person& person : population_.persons) {
      if (!person.bis) AssignRetirementAndWelfare(person);
    }
    for (const Household& household : population_.households) AssignMemberships(household);
    for (const Household& household : population_.households) AssignAllowances(household);
    for (Person& person : population_.persons) AssignWages(person);
    for (Person& person : population_.persons) AssignFormerNumber(person);
    MakeSpareNumbers(100);

    population_.niss_index.reserve(population_.persons.size());
    for (const Person& person : population_.persons) {
      population_.niss_index.emplace(person.niss, person.index);
    }
    return std::move(population_);
  }

 private:
  // --- People ------------------------------------------------------------------------

  int DrawAdultAge(int lo, int hi) {
    struct Band {
      int from, to, weight;
    };
    static constexpr Band kBands[] = {{18, 24, 9},  {25, 34, 16}, {35, 44, 16}, {45, 54, 16},
                                      {55, 64, 16}, {65, 74, 13}, {75, 84, 9},  {85, 99, 4}};
    std::array<int64_t, std::size(kBands)> weights{};
    for (size_t i = 0; i < std::size(kBands); ++i) {
      int from = std::max(lo, kBands[i].from), to = std::min(hi, kBands[i].to);
      if (from <= to) {
        weights[i] =
            int64_t{kBands[i].weight} * (to - from + 1) * 100 / (kBands[i].to - kBands[i].from + 1);
        weights[i] = std::max<int64_t>(weights[i], 1);
      }
    }
    const Band& band = kBands[rng_.Weighted(weights)];
    return rng_.Between(std::max(lo, band.from), std::min(hi, band.to));
  }

  Date BirthDateForAge(int age) {
    // Born between (age + 1) years and a day ago and `age` years ago.
    Date latest = AddYears(today_, -age);
    Date earliest = AddYears(today_, -(age + 1)).AddDays(1);
    Date birth = DayBetween(rng_, earliest, latest);
    const Date floor = *Date::FromCivil(1900, 1, 1);
    return birth < floor ? floor.AddDays(rng_.Between(0, 364)) : birth;
  }

  std::string FirstNames(Flavour flavour, niss::Sex sex) {
    const internal::NameLists& names = internal::Names(flavour);
    std::span<const std::string_view> list = sex == niss::Sex::kFemale ? names.female : names.male;
    const int count = rng_.Percent(45) ? 1 : rng_.Percent(73) ? 2 : 3;
    std::string out;
    std::vector<size_t> used;
    for (int i = 0; i < count; ++i) {
      size_t pick = rng_.Below(list.size());
      if (std::find(used.begin(), used.end(), pick) != used.end()) continue;
      used.push_back(pick);
      if (!out.empty()) out += ' ';
      out += list[pick];
    }
    return out;
  }

  std::string Nationality(Flavour flavour, bool child) {
    // Children born here are mostly Belgian whatever their names.
    const int belgian = child ? 90 : 0;
    auto pick = [&](int percent_belgian, std::string_view other) {
      return rng_.Percent(std::max(percent_belgian, belgian)) ? std::string("BE")
                                                              : std::string(other);
    };
    switch (flavour) {
      case Flavour::kFlemish:
        return pick(98, "NL");
      case Flavour::kFrench:
        return pick(96, "FR");
      case Flavour::kGerman:
        return pick(93, "DE");
      case Flavour::kNetherlands:
        return pick(40, "NL");
      case Flavour::kItalian:
        return pick(55, "IT");
      case Flavour::kMaghreb:
        return pick(75, "MA");
      case Flavour::kTurkish:
        return pick(75, "TR");
      case Flavour::kPolish:
        return pick(30, "PL");
      case Flavour::kRomanian:
        return pick(20, "RO");
    }
    return "BE";
  }

  // A resident person (national register number) of that age.
  size_t AddPerson(const Draft& draft) {
    // Built in place: a Person is large, moving it in would cost a copy of
    // every member.
    Person& person = population_.persons.emplace_back();
    person.index = population_.persons.size() - 1;
    person.sex = draft.sex;
    person.birth_date = BirthDateForAge(draft.age);
    const internal::NameLists& names = internal::Names(draft.flavour);
    person.last_name =
        draft.last_name.empty() ? std::string(rng_.Pick(names.last)) : draft.last_name;
    person.first_names = FirstNames(draft.flavour, draft.sex);
    person.nationality = Nationality(draft.flavour, draft.role == Role::kChild);
    // A day's serials for one sex run out after 499 numbers: take the next
    // day then (never happens below millions of persons).
    for (;;) {
      Result<niss::Number> number = numbers_.NextBornOn(person.birth_date, person.sex);
      if (number) {
        person.niss = number->digits;
        break;
      }
      person.birth_date = person.birth_date.AddDays(-1);
    }
    person.residences.reserve(2);
    return person.index;
  }

  // --- Places ------------------------------------------------------------------------

  const Municipality& DrawMunicipality(std::optional<Region> region = std::nullopt) {
    std::span<const Municipality> all = internal::Municipalities();
    if (!region) {
      // Brussels 10.5 %, Flanders 58 %, Wallonia 31.5 % of the inhabitants.
      static constexpr int kShares[] = {105, 580, 315};
      region = static_cast<Region>(rng_.Weighted(kShares));
    }
    std::vector<int64_t> weights(all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      weights[i] = all[i].region == *region ? all[i].weight : 0;
    }
    return all[rng_.Weighted(weights)];
  }

  std::string StreetAddress(std::span<const std::string_view> streets, Language language,
                            bool city) {
    std::string street = fmt::format("{} {}", rng_.Pick(streets), rng_.Between(1, 240));
    if (city && rng_.Percent(45)) {
      const int box =
          rng_.Percent(50) ? rng_.Between(1, 12) : rng_.Between(1, 6) * 100 + rng_.Between(1, 8);
      switch (language) {
        case Language::kDutch:
          street += fmt::format(" bus {}", box);
          break;
        case Language::kFrench:
          street += fmt::format(" boîte {}", box);
          break;
        case Language::kGerman:
          street += fmt::format("/{}", box);
          break;
      }
    }
    return street;
  }

  Address DrawAddress(const Municipality& m) {
    Address address;
    address.street = StreetAddress(internal::Streets(m.language), m.language,
                                   m.region == Region::kBrussels || m.weight >= 80);
    address.postal_code = std::string(m.postal_code);
    address.municipality = std::string(m.name);
    address.country = "BE";
    address.region = m.region;
    return address;
  }

  Flavour DrawFlavour(const Municipality& m) {
    static constexpr Flavour kOthers[] = {Flavour::kItalian, Flavour::kMaghreb, Flavour::kTurkish,
                                          Flavour::kPolish, Flavour::kRomanian};
    int other_percent = m.region == Region::kBrussels ? 35 : m.region == Region::kWallonia ? 12 : 8;
    if (rng_.Percent(other_percent)) return rng_.Pick(std::span<const Flavour>(kOthers));
    if (m.language == Language::kGerman) return Flavour::kGerman;
    if (m.region == Region::kBrussels)
      return rng_.Percent(80) ? Flavour::kFrench : Flavour::kFlemish;
    if (m.language == Language::kDutch)
      return rng_.Percent(97) ? Flavour::kFlemish : Flavour::kFrench;
    return rng_.Percent(96) ? Flavour::kFrench : Flavour::kFlemish;
  }

  // --- Households ----------------------------------------------------------------------

  niss::Sex RandomSex() { return rng_.Percent(50) ? niss::Sex::kMale : niss::Sex::kFemale; }
  static niss::Sex Other(niss::Sex sex) {
    return sex == niss::Sex::kMale ? niss::Sex::kFemale : niss::Sex::kMale;
  }

  void AddChildren(std::vector<Draft>& drafts, int count, int max_age, Flavour flavour,
                   const std::string& last_name) {
    for (int i = 0; i < count; ++i) {
      drafts.push_back(Draft{rng_.Between(0, std::max(0, max_age)), RandomSex(), flavour,
                             Role::kChild, last_name});
    }
  }

  Flavour PartnerFlavour(Flavour flavour, const Municipality& municipality) {
    return rng_.Percent(85) ? flavour : DrawFlavour(municipality);
  }

  std::vector<Draft> DraftCouple(Flavour flavour, const Municipality& municipality) {
    std::vector<Draft> drafts;
    int age = DrawAdultAge(22, 95);
    niss::Sex sex = RandomSex();
    drafts.push_back({age, sex, flavour, Role::kReference, ""});
    drafts.push_back({std::clamp(age + rng_.Between(-7, 7), 20, 99), rng_.Percent(95) ? Other(sex) : sex,
                      PartnerFlavour(flavour, municipality), Role::kPartner, ""});
    return drafts;
  }

  // A couple with children, and a grandparent when `grandparent`.
  std::vector<Draft> DraftFamily(Flavour flavour, const Municipality& municipality, bool grandparent) {
    std::vector<Draft> drafts;
    int age = DrawAdultAge(25, 58);
    niss::Sex sex = RandomSex();
    int partner_age = std::clamp(age + rng_.Between(-6, 6), 22, 70);
    niss::Sex partner_sex = rng_.Percent(96) ? Other(sex) : sex;
    drafts.push_back({age, sex, flavour, Role::kReference, ""});
    drafts.push_back({partner_age, partner_sex, PartnerFlavour(flavour, municipality), Role::kPartner, ""});
    const std::string family(rng_.Pick(internal::Names(flavour).last));
    drafts[0].last_name = family;
    static constexpr int kChildren[] = {35, 42, 17, 6};
    AddChildren(drafts, static_cast<int>(rng_.Weighted(kChildren)) + 1,
                std::min(24, std::min(age, partner_age) - 20), flavour, family);
    if (grandparent) {
      drafts.push_back({std::min(99, std::max(age, partner_age) + rng_.Between(24, 34)), RandomSex(), flavour,
                        Role::kGrandparent, rng_.Percent(50) ? family : ""});
    }
    return drafts;
  }

  std::vector<Draft> DraftSingleParent(Flavour flavour) {
    const internal::NameLists& names = internal::Names(flavour);
    std::vector<Draft> drafts;
    int age = DrawAdultAge(22, 60);
    drafts.push_back({age, rng_.Percent(82) ? niss::Sex::kFemale : niss::Sex::kMale, flavour,
                      Role::kReference, ""});
    const std::string family = rng_.Percent(50) ? std::string(rng_.Pick(names.last)) : std::string();
    static constexpr int kChildren[] = {55, 35, 10};
    AddChildren(drafts, static_cast<int>(rng_.Weighted(kChildren)) + 1, std::min(24, age - 19), flavour,
                family);
    if (family.empty()) {
      drafts[0].last_name = std::string(rng_.Pick(names.last));
      for (Draft& d : drafts) d.last_name = drafts[0].last_name;
    }
    return drafts;
  }

  std::vector<Draft> DraftFlatShare(const Municipality& municipality) {
    std::vector<Draft> drafts;
    int count = rng_.Between(2, 3);
    for (int i = 0; i < count; ++i) {
      drafts.push_back({DrawAdultAge(19, 34), RandomSex(), DrawFlavour(municipality),
                        i == 0 ? Role::kReference : Role::kFlatmate, ""});
    }
    return drafts;
  }

  // An elderly parent with an adult child.
  std::vector<Draft> DraftElderlyWithChild(Flavour flavour) {
    std::vector<Draft> drafts;
    int age = DrawAdultAge(68, 95);
    const std::string family(rng_.Pick(internal::Names(flavour).last));
    drafts.push_back({age, RandomSex(), flavour, Role::kReference, family});
    drafts.push_back({std::max(25, age - rng_.Between(22, 40)), RandomSex(), flavour, Role::kChild, family});
    return drafts;
  }

  // The members of a household of a kind drawn as often as in Belgium's
  // statistics.
  std::vector<Draft> DraftHousehold(const Municipality& municipality, Flavour flavour) {
    // Kinds of household, in % of households.
    static constexpr int kKinds[] = {34, 22, 26, 9, 3, 3, 3};
    const size_t kind = rng_.Weighted(kKinds);
    switch (kind) {
      case 0:  // single
        return {Draft{DrawAdultAge(18, 99), RandomSex(), flavour, Role::kReference, ""}};
      case 1:
        return DraftCouple(flavour, municipality);
      case 2:  // couple with children
      case 5:  // the same with a grandparent
        return DraftFamily(flavour, municipality, kind == 5);
      case 3:
        return DraftSingleParent(flavour);
      case 4:
        return DraftFlatShare(municipality);
      default:
        return DraftElderlyWithChild(flavour);
    }
  }

  // The drafts made persons: the reference person first, then the others
  // from the eldest.
  Household AddMembers(const std::vector<Draft>& drafts) {
    Household household;
    household.id = population_.households.size();
    for (const Draft& draft : drafts) {
      size_t index = AddPerson(draft);
      household.members.push_back(index);
      roles_.resize(index + 1);
      roles_[index] = draft.role;
      population_.persons[index].relation = RelationName(draft.role);
    }
    household.reference_person = household.members.front();
    std::stable_sort(household.members.begin() + 1, household.members.end(),
                     [&](size_t a, size_t b) {
                       return population_.persons[a].birth_date < population_.persons[b].birth_date;
                     });
    return household;
  }

  // Since when they live here: after the youngest adult came of age.
  Date MovedInOn(const Household& household) {
    Date of_age = Date::Min();
    for (size_t index : household.members) {
      const Person& p = population_.persons[index];
      if (Age(p.birth_date, today_) >= 18) {
        of_age = std::max(of_age, AddYears(p.birth_date, 18));
      }
    }
    return DayBetween(rng_, std::max(of_age, AddYears(today_, -30)), today_);
  }

  // Each member's residences: the household's address, and the one before
  // it when there was one.
  void Settle(Household& household, const std::optional<Residence>& before) {
    for (size_t index : household.members) {
      Person& p = population_.persons[index];
      p.household = household.id;
      if (before && p.birth_date < household.since) {
        p.residences.push_back(
            Residence{before->address, std::max(before->from, p.birth_date), before->to});
      }
      p.residences.push_back(
          Residence{household.address, std::max(household.since, p.birth_date), std::nullopt});
    }
  }

  void MakeHousehold(size_t room) {
    const Municipality& municipality = DrawMunicipality();
    const Flavour flavour = DrawFlavour(municipality);
    std::vector<Draft> drafts = DraftHousehold(municipality, flavour);
    if (drafts.size() > room) drafts.resize(room);

    Household household = AddMembers(drafts);
    household.address = DrawAddress(municipality);
    household.since = MovedInOn(household);

    // Most households lived elsewhere before: the register keeps that address.
    std::optional<Residence> before;
    if (rng_.Percent(55)) {
      const Municipality& previous =
          rng_.Percent(75) ? DrawMunicipality(municipality.region) : DrawMunicipality();
      before = Residence{DrawAddress(previous), household.since.AddDays(-rng_.Between(365, 3650)),
                         household.since.AddDays(-1)};
    }
    Settle(household, before);
    population_.households.push_back(std::move(household));
  }

  // A cross-border worker: lives abroad, not in the national register, works
  // (mostly) in Belgium under a BIS number.
  void MakeFrontierWorker() {
    const internal::ForeignTown& town = rng_.Pick(internal::ForeignTowns());
    Person& person = population_.persons.emplace_back();
    person.index = population_.persons.size() - 1;
    person.bis = true;
    person.sex = RandomSex();
    person.birth_date = BirthDateForAge(DrawAdultAge(22, 62));
    const internal::NameLists& names = internal::Names(town.flavour);
    person.last_name = std::string(rng_.Pick(names.last));
    person.first_names = FirstNames(town.flavour, person.sex);
    person.nationality = std::string(town.country);
    // The BIS register knows the sex; one in ten without the day of birth.
    const int day = rng_.Percent(10) ? 0 : person.birth_date.day();
    for (;;) {
      Result<niss::Number> number =
          numbers_.NextBisFor(person.birth_date.year(), person.birth_date.month(), day, person.sex);
      if (number) {
        person.niss = number->digits;
        break;
      }
      person.birth_date = person.birth_date.AddDays(-1);
    }
    for (Date born = person.birth_date;; born = born.AddDays(-1)) {
      Result<niss::Number> number = numbers_.NextBornOn(born, person.sex);
      if (number) {
        person.reserved_niss = number->digits;
        break;
      }
    }
    Address address;
    address.street = StreetAddress(internal::Streets(town.language), town.language, true);
    address.postal_code = std::string(town.postal_code);
    address.municipality = std::string(town.name);
    address.country = std::string(town.country);
    address.region = Region::kAbroad;
    person.residences.push_back(Residence{
        address, DayBetween(rng_, AddYears(person.birth_date, 18), today_), std::nullopt});
    roles_.resize(population_.persons.size(), Role::kReference);
  }

  // --- Life events ------------------------------------------------------------------------

  void AssignDeaths(const Household& household) {
    for (size_t index : household.members) {
      Person& p = population_.persons[index];
      const int age = Age(p.birth_date, today_);
      const int per_ten_thousand = age >= 85   ? 400
                                   : age >= 75 ? 150
                                   : age >= 60 ? 40
                                   : age >= 18 ? 3
                                               : 0;
      if (!rng_.PerTenThousand(per_ten_thousand)) continue;
      Date earliest = std::max(AddYears(today_, -3), p.residences.back().from.AddDays(1));
      Date latest = today_.AddDays(-1);
      if (latest < earliest) continue;
      Date date = DayBetween(rng_, earliest, latest);
      p.death = Death{date, household.address.municipality};
      p.residences.back().to = date;
    }
  }

  void AssignActivity(Person& p) {
    Activity& activity = activity_[p.index];
    const Date reference = p.death ? p.death->date : today_;
    const int age = Age(p.birth_date, reference);
    if (p.bis) {
      activity = rng_.Percent(90) ? Activity::kEmployed : Activity::kInactive;
      return;
    }
    if (p.death) {
      activity = age >= 65 ? Activity::kPensioner : Activity::kInactive;
      return;
    }
    const uint64_t draw = rng_.Below(100);
    if (age < 18) {
      activity = Activity::kChild;
    } else if (age <= 22 && roles_[p.index] == Role::kChild) {
      activity = draw < 70   ? Activity::kStudent
                 : draw < 88 ? Activity::kEmployed
                 : draw < 94 ? Activity::kUnemployed
                             : Activity::kInactive;
    } else if (age <= 22) {
      activity = draw < 40   ? Activity::kStudent
                 : draw < 80 ? Activity::kEmployed
                 : draw < 90 ? Activity::kUnemployed
                             : Activity::kInactive;
    } else if (age < 60) {
      activity = draw < 72   ? Activity::kEmployed
                 : draw < 79 ? Activity::kUnemployed
                             : Activity::kInactive;
    } else if (age < 65) {
      activity = draw < 25   ? Activity::kPensioner
                 : draw < 77 ? Activity::kEmployed
                 : draw < 82 ? Activity::kUnemployed
                             : Activity::kInactive;
    } else {
      activity = draw < 97 ? Activity::kPensioner : Activity::kInactive;
    }
  }

  void MakeEmployers(size_t count) {
    std::unordered_set<std::string> used;
    std::vector<int64_t> weights;
    for (const internal::Sector& sector : internal::Sectors()) weights.push_back(sector.weight);
    for (size_t i = 0; i < count; ++i) {
      const internal::Sector& sector = internal::Sectors()[rng_.Weighted(weights)];
      static constexpr int kRegionShares[] = {15, 55, 30};
      const Municipality& place =
          DrawMunicipality(static_cast<Region>(rng_.Weighted(kRegionShares)));
      Flavour flavour = place.language == Language::kDutch    ? Flavour::kFlemish
                        : place.language == Language::kGerman ? Flavour::kGerman
                                                              : Flavour::kFrench;
      std::string_view pattern = place.language == Language::kDutch    ? sector.dutch
                                 : place.language == Language::kGerman ? sector.german
                                                                       : sector.french;
      std::string name;
      for (size_t k = 0; k < pattern.size(); ++k) {
        if (pattern[k] == '{' && k + 2 < pattern.size() && pattern[k + 2] == '}') {
          switch (pattern[k + 1]) {
            case 'L':
              name += rng_.Pick(internal::Names(flavour).last);
              break;
            case 'C':
              name += place.name;
              break;
            default:
              name += rng_.Pick(internal::Saints());
              break;
          }
          k += 2;
        } else {
          name += pattern[k];
        }
      }
      const bool non_profit = sector.joint_committee == 330 || sector.joint_committee == 152;
      if (non_profit) {
        name += place.language == Language::kDutch    ? " VZW"
                : place.language == Language::kGerman ? " VoG"
                                                      : " ASBL";
      } else {
        name += ' ';
        name += internal::LegalForm(place.language, rng_.Percent(20));
      }
      // Enterprise number: 0 + 7 digits, then 97 - (those 8 digits mod 97).
      std::string id;
      do {
        const int body = rng_.Between(2000000, 9999999);
        id = fmt::format("{:08}{:02}", body, 97 - body % 97);
      } while (!used.insert(id).second);
      population_.employers.push_back(
          Employer{id, std::move(name), sector.joint_committee, place.region});
      blue_percent_.push_back(sector.blue_collar_percent);
    }
  }

  size_t DrawEmployer(Region region, std::optional<size_t> not_this = std::nullopt) {
    const auto& employers = population_.employers;
    for (int attempt = 0; attempt < 50; ++attempt) {
      size_t pick = rng_.Below(employers.size());
      if (not_this && pick == *not_this) continue;
      if (employers[pick].region == region || attempt >= 20 || rng_.Percent(20)) return pick;
    }
    return rng_.Below(employers.size());
  }

  Employment MakeEmployment(size_t employer, Date start, std::optional<Date> end) {
    Employment job;
    job.employer = employer;
    job.joint_committee = population_.employers[employer].joint_committee;
    const bool blue = rng_.Percent(blue_percent_[employer]);
    job.worker_class = blue ? "blue-collar" : "white-collar";
    job.start = start;
    job.end = end;
    job.part_time_percent = rng_.Percent(75) ? 100 : rng_.Percent(50) ? 80 : 50;
    int64_t euros = blue ? rng_.Between(2300, 3400) : rng_.Between(2700, 4200);
    if (!blue && rng_.Percent(20)) euros += rng_.Between(0, 3000);
    job.monthly_gross_cents = (euros * 100 + rng_.Between(0, 99)) * job.part_time_percent / 100;
    return job;
  }

  std::string UnemploymentCategory(const Person& p) {
    if (!p.household) return "single";
    const Household& h = population_.households[*p.household];
    if (h.members.size() == 1) return "single";
    const Role role = roles_[p.index];
    if (role == Role::kReference || role == Role::kPartner) {
      for (size_t m : h.members) {
        if (roles_[m] == Role::kChild && Age(population_.persons[m].birth_date, today_) < 18) {
          return "head-of-household";
        }
      }
    }
    return "cohabitant";
  }

  UnemploymentSpell MakeSpell(const Person& p, Date since, std::optional<Date> end) {
    UnemploymentSpell spell;
    spell.category = UnemploymentCategory(p);
    spell.status = end ? "ended" : "entitled";
    spell.since = since;
    spell.end = end;
    const int euros = spell.category == "head-of-household" ? rng_.Between(62, 75)
                      : spell.category == "single"          ? rng_.Between(50, 66)
                                                            : rng_.Between(30, 50);
    spell.daily_allowance_cents = euros * 100 + rng_.Between(0, 99);
    return spell;
  }

  Region WorkRegion(const Person& p) const {
    const Region region = p.residences.back().address.region;
    if (region != Region::kAbroad) return region;
    const std::string& country = p.residences.back().address.country;
    return country == "NL" ? Region::kFlanders : Region::kWallonia;
  }

  void AssignWork(Person& p) {
    const Activity activity = activity_[p.index];
    const Date of_age = AddYears(p.birth_date, 18);
    const Region region = WorkRegion(p);
    if (activity == Activity::kEmployed) {
      const int span = std::clamp(DaysBetween(of_age, today_), 31, 20 * 365);
      const Date start = std::max(of_age, today_.AddDays(-rng_.Between(30, span)));
      const size_t employer = DrawEmployer(region);
      std::optional<UnemploymentSpell> spell;
      if (rng_.Percent(12) && DaysBetween(of_age, start) > 120) {
        const Date since = std::max(of_age, start.AddDays(-rng_.Between(60, 500)));
        spell = MakeSpell(p, since, start.AddDays(-1));
      }
      if (rng_.Percent(35)) {
        const Date before = spell ? spell->since : start;
        const Date end = before.AddDays(-rng_.Between(1, 400));
        const Date from = end.AddDays(-rng_.Between(180, 3650));
        if (from >= of_age) {
          p.employments.push_back(MakeEmployment(DrawEmployer(region, employer), from, end));
        }
      }
      if (spell) p.unemployment.push_back(*spell);
      p.employments.push_back(MakeEmployment(employer, start, std::nullopt));
    } else if (activity == Activity::kUnemployed) {
      const Date since = std::max(of_age, today_.AddDays(-rng_.Between(14, 1100)));
      if (rng_.Percent(80) && DaysBetween(of_age, since) > 200) {
        const Date end = since.AddDays(-1);
        const Date from = std::max(of_age, end.AddDays(-rng_.Between(180, 3650)));
        p.employments.push_back(MakeEmployment(DrawEmployer(region), from, end));
      }
      p.unemployment.push_back(MakeSpell(p, since, std::nullopt));
    }
  }

  void AssignFrontierWork(Person& p) {
    if (activity_[p.index] != Activity::kEmployed) return;
    const Date start =
        std::max(p.residences.back().from, today_.AddDays(-rng_.Between(30, 15 * 365)));
    p.employments.push_back(MakeEmployment(DrawEmployer(WorkRegion(p)), start, std::nullopt));
    // Frontier workers are insured in the country where they work.
    if (rng_.Percent(80)) {
      Membership membership;
      membership.insurer = rng_.Percent(55) ? "mut-100" : "mut-300";
      membership.capacity = "insured";
      membership.holder = p.index;
      membership.status = "in-order";
      membership.since = start;
      p.memberships.push_back(membership);
    }
  }

  bool LivesWithChildren(const Person& p) const {
    if (!p.household) return false;
    const Role role = roles_[p.index];
    if (role != Role::kReference && role != Role::kPartner) return false;
    for (size_t m : population_.households[*p.household].members) {
      if (roles_[m] == Role::kChild && Age(population_.persons[m].birth_date, today_) < 18)
        return true;
    }
    return false;
  }

  void AssignRetirementAndWelfare(Person& p) {
    const Activity activity = activity_[p.index];
    if (activity == Activity::kPensioner) {
      Pension pension;
      const Date at_65 = AddYears(p.birth_date, 65);
      const Date until = p.death ? p.death->date : today_;
      if (at_65 <= until) {
        pension.start = FirstOfNextMonth(at_65) <= until ? FirstOfNextMonth(at_65) : at_65;
      } else {  // early retirement, from 60
        pension.start = DayBetween(rng_, std::min(AddYears(p.birth_date, 60), until), until);
      }
      const bool alone = p.household && population_.households[*p.household].members.size() == 1;
      const bool survivor = p.sex == niss::Sex::kFemale && alone && rng_.Percent(35);
      pension.type = survivor ? "survivor" : "retirement";
      pension.monthly_cents =
          (survivor ? rng_.Between(1000, 2000) : rng_.Between(1150, 2600)) * 100 +
          rng_.Between(0, 99);
      pension.end = p.death ? std::optional<Date>(p.death->date) : std::nullopt;
      p.pension = pension;
      return;
    }
    // The social integration income: a last resort, for people with no
    // work, no unemployment benefit and no pension.
    if (p.death || (activity != Activity::kInactive && activity != Activity::kStudent)) return;
    const int age = Age(p.birth_date, today_);
    if (age < 18 || age >= 65) return;
    const Address& address = p.residences.back().address;
    const bool brussels = address.region == Region::kBrussels;
    const int percent = activity == Activity::kStudent ? (brussels ? 8 : 2) : (brussels ? 40 : 12);
    if (!rng_.Percent(percent)) return;
    IntegrationIncome income;
    // The demo's one welfare centre stands for the whole Brussels region;
    // elsewhere the municipality's centre (not in the network).
    income.centre = brussels ? "cpas-brussels" : "cpas-" + address.postal_code;
    const bool alone = population_.households[*p.household].members.size() == 1;
    if (alone) {
      income.category = "single";
      income.monthly_cents = 131420;
    } else if (LivesWithChildren(p)) {
      income.category = "family-dependent";
      income.monthly_cents = 177607;
    } else {
      income.category = "cohabitant";
      income.monthly_cents = 87613;
    }
    income.since = std::max(AddYears(p.birth_date, 18), today_.AddDays(-rng_.Between(30, 1500)));
    p.integration_income = income;
  }

  // --- Health insurance ------------------------------------------------------------------

  std::string DrawInsurer(Region region) {
    static constexpr std::string_view kOthers[] = {"mut-200", "mut-400", "mut-500", "caami"};
    const int christian = region == Region::kFlanders ? 48 : 33;
    const int socialist = region == Region::kFlanders ? 25 : 40;
    const uint64_t draw = rng_.Below(100);
    if (draw < static_cast<uint64_t>(christian)) return "mut-100";
    if (draw < static_cast<uint64_t>(christian + socialist)) return "mut-300";
    return std::string(rng_.Pick(std::span<const std::string_view>(kOthers)));
  }

  bool HasOwnRights(const Person& p) const {
    const Activity a = activity_[p.index];
    return a == Activity::kEmployed || a == Activity::kUnemployed || a == Activity::kPensioner ||
           p.integration_income.has_value();
  }

  bool PreferentialRate(const Person& p) {
    if (p.integration_income) return true;
    if (!p.unemployment.empty() && !p.unemployment.back().end) return true;
    if (p.pension && p.pension->monthly_cents < 140000) return true;
    return rng_.Percent(8);
  }

  void AssignMemberships(const Household& household) {
    const std::string insurer = DrawInsurer(household.address.region);
    // Who is insured in their own right, who as a dependant of whom.
    std::vector<size_t> insured, dependants;
    for (size_t m : household.members) {
      const Person& p = population_.persons[m];
      const int age = Age(p.birth_date, today_);
      const Role role = roles_[m];
      const bool young_child = role == Role::kChild && age < 25 && !HasOwnRights(p);
      const bool dependent_partner = role == Role::kPartner && !HasOwnRights(p);
      (young_child || dependent_partner ? dependants : insured).push_back(m);
    }
    if (insured.empty()) {
      insured.push_back(dependants.front());
      dependants.erase(dependants.begin());
    }
    // The holder of the dependants: the reference person when insured.
    const size_t holder =
        std::find(insured.begin(), insured.end(), household.reference_person) != insured.end()
            ? household.reference_person
            : insured.front();
    Date holder_since = today_;
    bool holder_rate = false;
    auto close_at_death = [](const Person& p, Membership& membership) {
      if (p.death) {
        if (membership.since >= p.death->date) membership.since = p.death->date.AddDays(-1);
        membership.until = p.death->date;
      }
    };
    for (size_t m : insured) {
      Person& p = population_.persons[m];
      Membership membership;
      membership.insurer = insurer;
      membership.capacity = "insured";
      membership.holder = m;
      membership.status = rng_.Percent(97) ? "in-order" : "not-in-order";
      membership.preferential_rate = PreferentialRate(p);
      const Date of_age = AddYears(p.birth_date, rng_.Between(18, 25));
      membership.since =
          std::max(p.birth_date,
                   std::min(today_, std::max(of_age, today_.AddDays(-rng_.Between(0, 30 * 365)))));
      close_at_death(p, membership);
      if (m == holder) {
        holder_since = membership.since;
        holder_rate = membership.preferential_rate;
      }
      p.memberships.push_back(membership);
    }
    for (size_t m : dependants) {
      Person& p = population_.persons[m];
      Membership membership;
      membership.insurer = insurer;
      membership.capacity = "dependent";
      membership.holder = holder;
      membership.status = "in-order";
      membership.preferential_rate = holder_rate;
      membership.since = std::max(p.birth_date, holder_since);
      close_at_death(p, membership);
      p.memberships.push_back(membership);
    }
    // A few households changed insurer: the former membership is closed the
    // day before the switch (the directory keeps both, in their periods).
    if (rng_.Percent(4)) {
      const Date switched = today_.AddDays(-rng_.Between(90, 1500));
      const std::string former = insurer == "mut-100" ? "mut-300" : "mut-100";
      for (size_t m : household.members) {
        Person& p = population_.persons[m];
        Membership& current = p.memberships.back();
        if (current.since >= switched || (current.until && *current.until <= switched)) continue;
        Membership old = current;
        old.insurer = former;
        old.until = switched.AddDays(-1);
        current.since = switched;
        p.memberships.insert(p.memberships.end() - 1, old);
      }
    }
  }

  // --- Family allowance -----------------------------------------------------------------

  std::string Fund(const Household& household) {
    static constexpr std::string_view kFlemishFunds[] = {"fons", "kidslife", "infino", "parentia",
                                                         "myfamily"};
    static constexpr std::string_view kBrusselsFunds[] = {"famiris", "parentia-brussels",
                                                          "infino-brussels"};
    switch (household.address.region) {
      case Region::kWallonia: {
        for (const Municipality& m : internal::Municipalities()) {
          if (m.postal_code == household.address.postal_code && m.language == Language::kGerman) {
            return "ostbelgien";  // the German-speaking community pays its own
          }
        }
        return "famiwal";
      }
      case Region::kFlanders:
        return std::string(rng_.Pick(std::span<const std::string_view>(kFlemishFunds)));
      case Region::kBrussels:
        return std::string(rng_.Pick(std::span<const std::string_view>(kBrusselsFunds)));
      case Region::kAbroad:
        break;
    }
    return "";
  }

  void AssignAllowances(const Household& household) {
    std::vector<size_t> children;
    for (size_t m : household.members) {
      const Person& p = population_.persons[m];
      const int age = Age(p.birth_date, today_);
      if (roles_[m] != Role::kChild || p.death) continue;
      if (age < 18 || (age < 25 && activity_[m] == Activity::kStudent)) children.push_back(m);
    }
    if (children.empty()) return;
    // The allowance is paid to the mother when she lives there, else to the
    // reference person.
    std::optional<size_t> recipient;
    for (size_t m : household.members) {
      const Person& p = population_.persons[m];
      const Role role = roles_[m];
      if ((role == Role::kReference || role == Role::kPartner) && !p.death) {
        if (!recipient || (p.sex == niss::Sex::kFemale &&
                           population_.persons[*recipient].sex != niss::Sex::kFemale)) {
          recipient = m;
        }
      }
    }
    if (!recipient) return;
    bool social_supplement = false;
    for (size_t m : household.members) {
      const Person& p = population_.persons[m];
      if (p.integration_income || (!p.unemployment.empty() && !p.unemployment.back().end)) {
        social_supplement = true;
      }
    }
    const std::string fund = Fund(household);
    // Children are in household order: eldest first, which gives the rank.
    int rank = 0;
    for (size_t m : children) {
      Person& child = population_.persons[m];
      ++rank;
      const int age = Age(child.birth_date, today_);
      AllowanceRight right;
      right.fund = fund;
      right.recipient = *recipient;
      right.since = std::max(child.birth_date, kFamiwalStart);
      int64_t cents;
      if (child.birth_date >= kNewAllowanceSystem) {
        cents = age < 18 ? 18161 : 19253;
      } else {
        cents = rank == 1 ? 9939 : rank == 2 ? 18390 : 27442;
        cents += age >= 18 ? 3480 : age >= 12 ? 3100 : age >= 6 ? 2032 : 0;
      }
      right.entitlement = social_supplement ? "base+social-supplement" : "base";
      if (social_supplement) cents += 5527;
      right.monthly_cents = cents;
      child.allowance = right;
      population_.persons[*recipient].allowance_children.push_back(m);
    }
  }

  // --- Wages ------------------------------------------------------------------------------

  void AssignWages(Person& p) {
    if (p.employments.empty()) return;
    // The last 8 complete quarters before today's.
    const int current = today_.year() * 4 + (today_.month() - 1) / 3;
    for (int q = current - 8; q < current; ++q) {
      QuarterlyWage wage;
      wage.year = q / 4;
      wage.quarter = q % 4 + 1;
      const Date first = wage.FirstDay(), last = wage.LastDay();
      const int days = DaysBetween(first, last) + 1;
      for (const Employment& job : p.employments) {
        const Date from = std::max(first, job.start);
        const Date to = std::min(last, job.end.value_or(last));
        if (to < from) continue;
        const int64_t overlap = DaysBetween(from, to) + 1;
        QuarterlyWage out = wage;
        out.employer = job.employer;
        out.gross_cents = job.monthly_gross_cents * 3 * overlap / days;
        out.days_worked =
            static_cast<int>((65 * overlap * job.part_time_percent + days * 50) / (days * 100));
        if (out.days_worked > 0) p.wages.push_back(out);
      }
    }
  }

  // --- Numbers ------------------------------------------------------------------------------

  // Some people arrived from abroad with a BIS number and were registered
  // later: the national register recorded the replacement.
  void AssignFormerNumber(Person& p) {
    if (p.bis || p.residences.empty()) return;
    const int per_ten_thousand = p.nationality == "BE" ? 5 : 800;
    if (!rng_.PerTenThousand(per_ten_thousand)) return;
    const Date arrived = p.residences.front().from;
    if (arrived <= AddYears(p.birth_date, 18)) return;
    Result<niss::Number> former =
        numbers_.NextBisFor(p.birth_date.year(), p.birth_date.month(), p.birth_date.day(), p.sex);
    if (former) p.former = NumberChange{former->digits, arrived};
  }

  void MakeSpareNumbers(size_t count) {
    const Date from = std::min(*Date::FromCivil(1930, 1, 1), today_);
    if (!numbers_.SetBirthRange(from, today_).ok()) return;
    for (size_t i = 0; i < count; ++i) population_.spare_niss.push_back(numbers_.Next().digits);
  }

  PopulationOptions options_;
  Date today_;
  Rng rng_;
  niss::Generator numbers_;
  Population population_;
  std::vector<Role> roles_;
  std::vector<Activity> activity_;
  std::vector<int> blue_percent_;  // per employer
};

}  // namespace

std::string_view RegionName(Region region) {
  switch (region) {
    case Region::kBrussels:
      return "Brussels";
    case Region::kFlanders:
      return "Flanders";
    case Region::kWallonia:
      return "Wallonia";
    case Region::kAbroad:
      return "abroad";
  }
  return "abroad";
}

std::string QuarterlyWage::QuarterText() const { return fmt::format("{}-Q{}", year, quarter); }
Date QuarterlyWage::FirstDay() const { return *Date::FromCivil(year, (quarter - 1) * 3 + 1, 1); }
Date QuarterlyWage::LastDay() const {
  return *Date::FromCivil(year, quarter * 3, DaysInMonth(year, quarter * 3));
}

int Person::AgeOn(Date day) const { return Age(birth_date, day); }

const Membership* Person::MembershipOn(Date day) const {
  for (auto it = memberships.rbegin(); it != memberships.rend(); ++it) {
    if (it->since <= day && (!it->until || day <= *it->until)) return &*it;
  }
  return nullptr;
}

const Employment* Person::EmploymentOn(Date day) const {
  for (auto it = employments.rbegin(); it != employments.rend(); ++it) {
    if (it->start <= day && (!it->end || day <= *it->end)) return &*it;
  }
  return nullptr;
}

const UnemploymentSpell* Person::UnemploymentOn(Date day) const {
  for (auto it = unemployment.rbegin(); it != unemployment.rend(); ++it) {
    if (it->since <= day && (!it->end || day <= *it->end)) return &*it;
  }
  return nullptr;
}

const Person* Population::Find(std::string_view niss) const {
  auto found = niss_index.find(std::string(niss));
  return found == niss_index.end() ? nullptr : &persons[found->second];
}

Population GeneratePopulation(const PopulationOptions& options) { return Builder(options).Build(); }

std::vector<FileEntry> Files(const Population& population, const Person& person) {
  std::vector<FileEntry> out;
  auto add = [&](std::string_view institution, std::string_view capacity, Date from,
                 std::optional<Date> to) {
    out.push_back(
        FileEntry{std::string(institution), std::string(capacity), person.niss, from, to});
  };
  for (const Employment& job : person.employments) add("onss", "employee", job.start, job.end);
  for (const UnemploymentSpell& spell : person.unemployment) {
    add("capac", "unemployed", spell.since, spell.end);
  }
  for (const Membership& m : person.memberships) {
    if (m.insurer == "mut-100" || m.insurer == "mut-300")
      add(m.insurer, m.capacity, m.since, m.until);
  }
  if (person.allowance && person.allowance->fund == "famiwal") {
    add("famiwal", "child-beneficiary", person.allowance->since, person.allowance->until);
  }
  std::optional<Date> receives_since;
  for (size_t child : person.allowance_children) {
    const std::optional<AllowanceRight>& right = population.persons[child].allowance;
    if (right && right->fund == "famiwal") {
      receives_since = receives_since ? std::min(*receives_since, right->since) : right->since;
    }
  }
  if (receives_since) {
    add("famiwal", "allowance-recipient", *receives_since,
        person.death ? std::optional<Date>(person.death->date) : std::nullopt);
  }
  if (person.pension) add("sfp", "pensioner", person.pension->start, person.pension->end);
  if (person.integration_income && person.integration_income->centre == "cpas-brussels") {
    add("cpas-brussels", "beneficiary", person.integration_income->since,
        person.integration_income->until);
  }
  return out;
}

std::vector<FileEntry> DirectoryEntries(const Population& population,
                                        std::string_view institution) {
  std::vector<FileEntry> out;
  for (const Person& person : population.persons) {
    for (FileEntry& entry : Files(population, person)) {
      if (entry.institution == institution) out.push_back(std::move(entry));
    }
  }
  return out;
}

}  // namespace carrefour::demo
