// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A synthetic Belgian-style population for `carrefour demo` (docs/api.md
// section 2; docs/demo.md). Start here, then institutions.h.
//
//   demo::Population p = demo::GeneratePopulation({.persons = 100000, .seed = 1,
//                                                  .today = today});
//   for (const demo::Person& person : p.persons) ...
//
// Everything is generated from embedded lists (names, municipalities,
// streets, employers): no real personal data. The population is a pure
// function of the options: the same (persons, seed, today) gives the same
// values on every machine (the PRNG is std::mt19937_64 and every draw is
// written out, never left to the library's distributions).
//
// What the institutions of examples/network.toml hold is read from these
// plain structs: the national register holds every person who is not BIS;
// the others hold the files listed by Files() (institution ids as in the
// network: onss, capac, mut-100, mut-300, famiwal, sfp, cpas-brussels).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/date.h"
#include "niss/niss.h"

namespace carrefour::demo {

enum class Region { kBrussels, kFlanders, kWallonia, kAbroad };

std::string_view RegionName(Region region);  // "Brussels", "Flanders", "Wallonia", "abroad"

struct Address {
  std::string street;        // with the house number: "Kerkstraat 12 bus 3"
  std::string postal_code;   // "9000"; a foreign one for frontier workers
  std::string municipality;  // "Gent"
  std::string country;       // ISO 3166 alpha-2: "BE", "FR", "NL", "DE", "LU"
  Region region = Region::kFlanders;

  friend bool operator==(const Address&, const Address&) = default;
};

// Where a person lived, from `from` to `to` (inclusive; nullopt = still).
struct Residence {
  Address address;
  Date from;
  std::optional<Date> to;

  friend bool operator==(const Residence&, const Residence&) = default;
};

// A household of the national register: who lives together, at which
// address, since when. Members are indexes into Population::persons.
struct Household {
  size_t id = 0;  // its index in Population::households
  size_t reference_person = 0;
  std::vector<size_t> members;  // the reference person first, then by age
  Address address;
  Date since;

  friend bool operator==(const Household&, const Household&) = default;
};

struct Employer {
  std::string id;    // enterprise number, 10 digits with its mod-97 check
  std::string name;  // "Bouwbedrijf Peeters NV"
  int joint_committee = 200;
  Region region = Region::kFlanders;

  friend bool operator==(const Employer&, const Employer&) = default;
};

struct Employment {
  size_t employer = 0;       // index into Population::employers
  std::string worker_class;  // "white-collar" | "blue-collar"
  int joint_committee = 200;
  Date start;
  std::optional<Date> end;
  int part_time_percent = 100;
  int64_t monthly_gross_cents = 0;

  friend bool operator==(const Employment&, const Employment&) = default;
};

// Wages declared for one quarter by one employer (the last 8 complete
// quarters before `today`).
struct QuarterlyWage {
  int year = 0;
  int quarter = 1;  // 1-4
  size_t employer = 0;
  int64_t gross_cents = 0;
  int days_worked = 0;

  std::string QuarterText() const;  // "2024-Q3"
  Date FirstDay() const;
  Date LastDay() const;

  friend bool operator==(const QuarterlyWage&, const QuarterlyWage&) = default;
};

struct UnemploymentSpell {
  std::string status;    // "entitled" (current) | "ended"
  std::string category;  // "head-of-household" | "single" | "cohabitant"
  int64_t daily_allowance_cents = 0;
  Date since;
  std::optional<Date> end;

  friend bool operator==(const UnemploymentSpell&, const UnemploymentSpell&) = default;
};

// Membership of a health insurer, as the insured member (capacity
// "insured") or as a dependant of `holder` (capacity "dependent").
struct Membership {
  std::string insurer;   // "mut-100", "mut-300" (in the network) or another one
  std::string capacity;  // "insured" | "dependent"
  size_t holder = 0;     // the insured member (the person himself when insured)
  std::string status;    // "in-order" | "not-in-order"
  bool preferential_rate = false;
  Date since;
  std::optional<Date> until;  // a former insurer; closed at death

  friend bool operator==(const Membership&, const Membership&) = default;
};

// A child's right to family allowance, paid to `recipient`.
struct AllowanceRight {
  std::string fund;         // "famiwal" (in the network) or the fund of another region
  std::string entitlement;  // "base" | "base+social-supplement"
  int64_t monthly_cents = 0;
  size_t recipient = 0;  // the parent who receives the allowance
  Date since;
  std::optional<Date> until;  // closed at death

  friend bool operator==(const AllowanceRight&, const AllowanceRight&) = default;
};

struct Pension {
  std::string type;  // "retirement" | "survivor"
  int64_t monthly_cents = 0;
  Date start;
  std::optional<Date> end;  // closed at death

  friend bool operator==(const Pension&, const Pension&) = default;
};

struct IntegrationIncome {
  std::string centre;    // "cpas-brussels" for people of the Brussels region
  std::string category;  // "cohabitant" | "single" | "family-dependent"
  int64_t monthly_cents = 0;
  Date since;
  std::optional<Date> until;

  friend bool operator==(const IntegrationIncome&, const IntegrationIncome&) = default;
};

struct Death {
  Date date;
  std::string municipality;

  friend bool operator==(const Death&, const Death&) = default;
};

struct NumberChange {
  std::string old_niss;
  Date effective;

  friend bool operator==(const NumberChange&, const NumberChange&) = default;
};

struct Person {
  size_t index = 0;         // in Population::persons
  std::string niss;         // 11 digits; a BIS number when `bis`
  bool bis = false;         // not in the national register (frontier workers)
  std::string last_name;    // "Van den Bossche", "de Smet", "Lemaître"
  std::string first_names;  // one to three, space-separated
  niss::Sex sex = niss::Sex::kMale;
  Date birth_date;
  std::string nationality;          // ISO 3166 alpha-2
  std::optional<size_t> household;  // nullopt for BIS persons (they live abroad)
  // To the household's reference person: "reference", "partner", "child",
  // "parent", "other"; empty for BIS persons.
  std::string relation;
  std::vector<Residence> residences;  // oldest first; the last one is current
  std::optional<Death> death;
  // The number this person had before (a BIS number, until registered in
  // Belgium): the national register holds the replacement.
  std::optional<NumberChange> former;
  // For BIS persons: a national register number kept free for them, should a
  // scenario register them in Belgium (person.niss-replaced).
  std::optional<std::string> reserved_niss;

  std::vector<Employment> employments;          // oldest first
  std::vector<QuarterlyWage> wages;             // by quarter, then employer
  std::vector<UnemploymentSpell> unemployment;  // oldest first
  std::vector<Membership> memberships;          // oldest first; the last one is current
  std::optional<AllowanceRight> allowance;      // as a child
  std::vector<size_t> allowance_children;       // as the recipient
  std::optional<Pension> pension;
  std::optional<IntegrationIncome> integration_income;

  bool AliveOn(Date day) const { return !death || day < death->date; }
  int AgeOn(Date day) const;
  const Address& CurrentAddress() const { return residences.back().address; }
  // The membership in force on `day`, or nullptr.
  const Membership* MembershipOn(Date day) const;
  const Employment* EmploymentOn(Date day) const;
  const UnemploymentSpell* UnemploymentOn(Date day) const;

  friend bool operator==(const Person&, const Person&) = default;
};

// A file an institution of the network holds on a person: one directory
// entry (docs/api.md 4.1) that the institution's connector declares.
struct FileEntry {
  std::string institution;  // "onss", "mut-100", ...
  std::string capacity;     // "employee", "insured", ...
  std::string niss;
  Date from;
  std::optional<Date> to;

  friend bool operator==(const FileEntry&, const FileEntry&) = default;
};

struct PopulationOptions {
  size_t persons = 100000;
  uint64_t seed = 1;
  // Every date is relative to it (ages, open files, the last 8 quarters).
  Date today = SystemClock().Today();

  friend bool operator==(const PopulationOptions&, const PopulationOptions&) = default;
};

struct Population {
  PopulationOptions options;
  std::vector<Person> persons;
  std::vector<Household> households;
  std::vector<Employer> employers;
  // Valid national register numbers that nobody in the population has:
  // numbers to consult "a person nobody knows", or to give in a scenario.
  std::vector<std::string> spare_niss;

  // Number -> index in `persons`, for Find.
  std::unordered_map<std::string, size_t> niss_index;

  // nullptr when nobody has that number (11 bare digits).
  const Person* Find(std::string_view niss) const;

  friend bool operator==(const Population&, const Population&) = default;
};

// Builds the population (about a second of CPU for 100 000 persons:
// bench/demo_bench.cc). `options.persons` may be anything from 0; the result
// has exactly that many persons. Pure: safe to call from any thread.
Population GeneratePopulation(const PopulationOptions& options);

// The files held on `person` by the institutions of examples/network.toml
// (the national register holds no files: it knows everybody in it).
std::vector<FileEntry> Files(const Population& population, const Person& person);

// Every file that `institution` holds, person by person: what its connector
// declares. Empty for an institution the population knows nothing of.
std::vector<FileEntry> DirectoryEntries(const Population& population, std::string_view institution);

}  // namespace carrefour::demo
