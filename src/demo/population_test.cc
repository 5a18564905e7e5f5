// SPDX-License-Identifier: EUPL-1.2
// The synthetic population: reproducible per seed, valid and unique numbers,
// plausible proportions, and the consistency the institutions' databases
// rely on (files inside lifetimes, households that hold together).

#include "demo/population.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "niss/niss.h"

namespace carrefour::demo {
namespace {

Date D(int y, int m, int d) { return *Date::FromCivil(y, m, d); }

const Date kToday = D(2025, 9, 15);

const Population& Shared() {
  static const Population population =
      GeneratePopulation({.persons = 20000, .seed = 7, .today = kToday});
  return population;
}

TEST(GeneratePopulation, SameSeedSamePopulation) {
  const PopulationOptions options{.persons = 3000, .seed = 42, .today = kToday};
  Population a = GeneratePopulation(options);
  Population b = GeneratePopulation(options);
  EXPECT_TRUE(a == b);
  ASSERT_EQ(a.persons.size(), 3000u);

  Population other = GeneratePopulation({.persons = 3000, .seed = 43, .today = kToday});
  EXPECT_FALSE(a == other);
  EXPECT_NE(a.persons[0].niss, other.persons[0].niss);
}

TEST(GeneratePopulation, GivesExactlyTheNumberAsked) {
  for (size_t n : {0u, 1u, 2u, 199u, 200u, 1001u}) {
    SCOPED_TRACE(n);
    Population p = GeneratePopulation({.persons = n, .seed = 3, .today = kToday});
    EXPECT_EQ(p.persons.size(), n);
    for (size_t i = 0; i < p.persons.size(); ++i) EXPECT_EQ(p.persons[i].index, i);
  }
}

TEST(GeneratePopulation, EveryNumberIsValidUniqueAndTellsTheTruth) {
  const Population& p = Shared();
  std::set<std::string> seen;
  auto unique = [&](const std::string& number) {
    EXPECT_TRUE(seen.insert(number).second) << number << " given twice";
  };
  for (const Person& person : p.persons) {
    Result<niss::Number> number = niss::Parse(person.niss, kToday);
    ASSERT_TRUE(number) << person.niss << ": " << number.error().ToString();
    unique(person.niss);
    EXPECT_EQ(number->kind, person.bis ? niss::Kind::kBis : niss::Kind::kNationalRegister);
    EXPECT_EQ(number->sex, person.sex) << person.niss;
    EXPECT_EQ(number->birth_year, person.birth_date.year()) << person.niss;
    EXPECT_EQ(number->birth_month, person.birth_date.month()) << person.niss;
    if (!person.bis) {
      EXPECT_EQ(number->BirthDate(), person.birth_date) << person.niss;
    }
    if (person.former) {
      Result<niss::Number> former = niss::Parse(person.former->old_niss, kToday);
      ASSERT_TRUE(former);
      EXPECT_EQ(former->kind, niss::Kind::kBis);
      unique(person.former->old_niss);
    }
    if (person.reserved_niss) {
      Result<niss::Number> reserved = niss::Parse(*person.reserved_niss, kToday);
      ASSERT_TRUE(reserved);
      EXPECT_EQ(reserved->kind, niss::Kind::kNationalRegister);
      EXPECT_EQ(reserved->BirthDate(), person.birth_date);
      unique(*person.reserved_niss);
    }
  }
  ASSERT_EQ(p.spare_niss.size(), 100u);
  for (const std::string& spare : p.spare_niss) {
    EXPECT_TRUE(niss::Parse(spare, kToday)) << spare;
    unique(spare);
    EXPECT_EQ(p.Find(spare), nullptr);
  }
}

TEST(GeneratePopulation, PeopleBornInThe2000sCarryTheCenturyInTheirCheckDigits) {
  size_t checked = 0;
  for (const Person& person : Shared().persons) {
    if (person.bis || person.birth_date.year() < 2000) continue;
    // 97 - (2YYMMDDSSS mod 97): the 1900s formula would not match.
    const int64_t body = std::stoll(person.niss.substr(0, 9));
    const int64_t check = std::stoll(person.niss.substr(9));
    EXPECT_EQ(check, 97 - (2'000'000'000 + body) % 97) << person.niss;
    EXPECT_NE(check, 97 - body % 97) << person.niss;
    ++checked;
  }
  EXPECT_GT(checked, 1000u);
}

TEST(GeneratePopulation, ProportionsAreRoughlyBelgian) {
  const Population& p = Shared();
  const double n = static_cast<double>(p.persons.size());
  size_t born_2000s = 0, bis = 0, dead = 0, children = 0, children_with_allowance = 0,
         working_age = 0, employed = 0, unemployed = 0, elderly = 0, pensioners = 0, residents = 0,
         mut100 = 0, mut300 = 0, insured_anywhere = 0, famiwal = 0, cpas = 0, switched_insurer = 0,
         former = 0;
  std::map<Region, size_t> regions;
  for (const Person& person : p.persons) {
    const int age = person.AgeOn(kToday);
    if (person.birth_date.year() >= 2000) ++born_2000s;
    if (person.bis) {
      ++bis;
      continue;
    }
    ++residents;
    ++regions[person.CurrentAddress().region];
    if (person.death) {
      ++dead;
      continue;
    }
    if (age < 18) {
      ++children;
      if (person.allowance) ++children_with_allowance;
    }
    if (age >= 25 && age < 60) {
      ++working_age;
      if (person.EmploymentOn(kToday)) ++employed;
      if (person.UnemploymentOn(kToday)) ++unemployed;
    }
    if (age >= 67) {
      ++elderly;
      if (person.pension) ++pensioners;
    }
    if (const Membership* m = person.MembershipOn(kToday)) {
      ++insured_anywhere;
      if (m->insurer == "mut-100") ++mut100;
      if (m->insurer == "mut-300") ++mut300;
    }
    if (person.memberships.size() > 1) ++switched_insurer;
    if (person.allowance && person.allowance->fund == "famiwal") ++famiwal;
    if (person.integration_income && person.integration_income->centre == "cpas-brussels") ++cpas;
    if (person.former) ++former;
  }
  auto share = [](size_t part, size_t whole) {
    return static_cast<double>(part) / static_cast<double>(whole);
  };
  EXPECT_GT(share(born_2000s, p.persons.size()), 0.18);
  EXPECT_LT(share(born_2000s, p.persons.size()), 0.40);
  EXPECT_GT(bis, n * 0.003);
  EXPECT_LT(bis, n * 0.01);
  EXPECT_GT(dead, n * 0.001);
  EXPECT_LT(dead, n * 0.02);
  EXPECT_GT(share(regions[Region::kFlanders], residents), 0.50);
  EXPECT_GT(share(regions[Region::kWallonia], residents), 0.25);
  EXPECT_GT(share(regions[Region::kBrussels], residents), 0.07);
  EXPECT_GT(share(employed, working_age), 0.60);
  EXPECT_LT(share(employed, working_age), 0.85);
  EXPECT_GT(share(unemployed, working_age), 0.03);
  EXPECT_LT(share(unemployed, working_age), 0.15);
  EXPECT_GT(share(children_with_allowance, children), 0.95);
  EXPECT_GT(share(pensioners, elderly), 0.90);
  EXPECT_EQ(insured_anywhere, residents - dead);  // everybody living here is insured somewhere
  EXPECT_GT(share(mut100, insured_anywhere), 0.30);
  EXPECT_GT(share(mut300, insured_anywhere), 0.20);
  EXPECT_GT(switched_insurer, 100u);
  EXPECT_GT(famiwal, 500u);
  EXPECT_GT(cpas, 20u);
  EXPECT_GT(former, 3u);
}

TEST(GeneratePopulation, NamesAndPlacesLookBelgian) {
  const Population& p = Shared();
  bool particle = false, accent = false, german_street = false, box = false;
  std::set<std::string> nationalities, last_names;
  for (const Person& person : p.persons) {
    EXPECT_FALSE(person.last_name.empty());
    EXPECT_FALSE(person.first_names.empty());
    last_names.insert(person.last_name);
    nationalities.insert(person.nationality);
    particle |= person.last_name.starts_with("Van den ") || person.last_name.starts_with("de ");
    for (unsigned char c : person.last_name + person.first_names) accent |= c >= 0x80;
    const Address& address = person.CurrentAddress();
    german_street |= address.street.find("straße") != std::string::npos;
    box |= address.street.find(" bus ") != std::string::npos ||
           address.street.find(" boîte ") != std::string::npos;
    if (!person.bis) {
      EXPECT_EQ(address.country, "BE");
      EXPECT_EQ(address.postal_code.size(), 4u) << address.postal_code;
    } else {
      EXPECT_NE(address.country, "BE");
      EXPECT_EQ(address.region, Region::kAbroad);
    }
  }
  EXPECT_TRUE(particle);
  EXPECT_TRUE(accent);
  EXPECT_TRUE(german_street);
  EXPECT_TRUE(box);
  EXPECT_GT(last_names.size(), 200u);
  EXPECT_TRUE(nationalities.count("BE"));
  EXPECT_GT(nationalities.size(), 5u);
}

TEST(GeneratePopulation, HouseholdsAndLifetimesHoldTogether) {
  const Population& p = Shared();
  size_t in_households = 0;
  for (const Household& h : p.households) {
    ASSERT_FALSE(h.members.empty());
    EXPECT_EQ(h.members.front(), h.reference_person);
    EXPECT_LE(h.since, kToday);
    for (size_t m : h.members) {
      const Person& person = p.persons[m];
      EXPECT_EQ(person.household, h.id);
      EXPECT_EQ(person.CurrentAddress(), h.address);
      EXPECT_EQ(person.relation == "reference", m == h.reference_person);
      ++in_households;
    }
    EXPECT_GE(p.persons[h.reference_person].AgeOn(kToday), 18);
  }
  size_t bis = 0;
  for (const Person& person : p.persons) {
    SCOPED_TRACE(person.niss);
    EXPECT_EQ(p.Find(person.niss), &person);
    if (person.bis) {
      ++bis;
      EXPECT_FALSE(person.household);
      EXPECT_TRUE(person.reserved_niss);
    }
    // Residences follow one another, from birth at the earliest.
    ASSERT_FALSE(person.residences.empty());
    for (size_t i = 0; i < person.residences.size(); ++i) {
      const Residence& r = person.residences[i];
      EXPECT_GE(r.from, person.birth_date);
      if (r.to) {
        EXPECT_LE(r.from, *r.to);
      }
      if (i + 1 < person.residences.size()) {
        ASSERT_TRUE(r.to);
        EXPECT_LT(*r.to, person.residences[i + 1].from);
      }
    }
    if (person.death) {
      EXPECT_LT(person.death->date, kToday);
      EXPECT_EQ(person.residences.back().to, person.death->date);
    }
    // Work starts at 18; wages fall in the last 8 quarters.
    for (const Employment& job : person.employments) {
      EXPECT_GE(job.start, *Date::FromCivil(person.birth_date.year() + 18, 1, 1));
      if (job.end) {
        EXPECT_LE(job.start, *job.end);
      }
    }
    for (const QuarterlyWage& wage : person.wages) {
      EXPECT_LT(wage.LastDay(), D(2025, 7, 1));
      EXPECT_GE(wage.FirstDay(), D(2023, 7, 1));
      EXPECT_GT(wage.gross_cents, 0);
      EXPECT_GT(wage.days_worked, 0);
      EXPECT_LE(wage.days_worked, 66);
    }
    // Every file starts after birth, ends after it starts, and ends by death.
    for (const FileEntry& entry : Files(p, person)) {
      EXPECT_GE(entry.from, person.birth_date) << entry.institution << " " << entry.capacity;
      if (entry.to) {
        EXPECT_LE(entry.from, *entry.to) << entry.institution;
      }
      if (person.death) {
        ASSERT_TRUE(entry.to) << entry.institution << " " << entry.capacity;
        EXPECT_LE(*entry.to, person.death->date);
      }
      EXPECT_EQ(entry.niss, person.niss);
    }
  }
  EXPECT_EQ(in_households + bis, p.persons.size());
}

TEST(GeneratePopulation, FamilyAllowanceGoesToAParentWhoseFileSaysSo) {
  const Population& p = Shared();
  size_t recipients_with_wages = 0;
  for (const Person& child : p.persons) {
    if (!child.allowance) continue;
    const Person& parent = p.persons[child.allowance->recipient];
    EXPECT_EQ(parent.household, child.household);
    EXPECT_NE(
        std::find(parent.allowance_children.begin(), parent.allowance_children.end(), child.index),
        parent.allowance_children.end());
    if (child.allowance->fund != "famiwal") continue;
    EXPECT_EQ(p.households[*child.household].address.region, Region::kWallonia);
    bool child_file = false, parent_file = false;
    for (const FileEntry& e : Files(p, child)) child_file |= e.capacity == "child-beneficiary";
    for (const FileEntry& e : Files(p, parent)) parent_file |= e.capacity == "allowance-recipient";
    EXPECT_TRUE(child_file);
    EXPECT_TRUE(parent_file);
    if (!parent.wages.empty()) ++recipients_with_wages;
  }
  EXPECT_GT(recipients_with_wages, 100u);
}

TEST(GeneratePopulation, SomePeopleAreKnownToNobodyButTheHub) {
  // BIS persons without work or insurance: no institution holds a file.
  size_t unknown = 0;
  for (const Person& person : Shared().persons) {
    if (person.bis && Files(Shared(), person).empty()) ++unknown;
  }
  EXPECT_GT(unknown, 0u);
}

TEST(DirectoryEntries, ListEachInstitutionsFilesAndOnlyThose) {
  const Population& p = Shared();
  const std::map<std::string, std::set<std::string>> capacities = {
      {"onss", {"employee"}},
      {"capac", {"unemployed"}},
      {"mut-100", {"insured", "dependent"}},
      {"mut-300", {"insured", "dependent"}},
      {"famiwal", {"child-beneficiary", "allowance-recipient"}},
      {"sfp", {"pensioner"}},
      {"cpas-brussels", {"beneficiary"}},
  };
  for (const auto& [institution, allowed] : capacities) {
    SCOPED_TRACE(institution);
    std::vector<FileEntry> entries = DirectoryEntries(p, institution);
    EXPECT_GT(entries.size(), 20u);
    std::set<std::string> seen;
    for (const FileEntry& e : entries) {
      EXPECT_EQ(e.institution, institution);
      EXPECT_TRUE(allowed.count(e.capacity)) << e.capacity;
      seen.insert(e.capacity);
      const Person* person = p.Find(e.niss);
      ASSERT_NE(person, nullptr);
    }
    EXPECT_EQ(seen, allowed);
  }
  EXPECT_TRUE(DirectoryEntries(p, "nr").empty());
  EXPECT_TRUE(DirectoryEntries(p, "mut-200").empty());
}

TEST(GeneratePopulation, WorksForAnyToday) {
  // Early in the century (few people born in the 2000s yet) and later.
  for (Date today : {D(2001, 3, 1), D(2040, 12, 31)}) {
    SCOPED_TRACE(today.ToString());
    Population p = GeneratePopulation({.persons = 2000, .seed = 5, .today = today});
    ASSERT_EQ(p.persons.size(), 2000u);
    for (const Person& person : p.persons) {
      ASSERT_TRUE(niss::Parse(person.niss, today)) << person.niss;
      EXPECT_LE(person.birth_date, today);
    }
  }
}

}  // namespace
}  // namespace carrefour::demo
