// SPDX-License-Identifier: EUPL-1.2
// The BIS register over both store engines: numbers, uniqueness under
// concurrency, duplicate detection, and precision and recall on a generated
// set of look-alike identities.

#include "bis/register.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "bis/testing/population.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::bis {
namespace {

using store::testing::StoreTest;

const Date kToday = *Date::Parse("2026-06-01");

Identity Make(std::string last, std::string first, std::string birth,
              niss::Sex sex = niss::Sex::kMale, std::string nationality = "MA") {
  Identity identity;
  identity.last_name = std::move(last);
  identity.first_names = std::move(first);
  Result<BirthDate> date = BirthDate::Parse(birth, kToday);
  EXPECT_TRUE(date) << birth << ": " << date.error().ToString();
  if (date) identity.birth_date = *date;
  identity.sex = sex;
  identity.nationality = std::move(nationality);
  return identity;
}

class RegisterTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore(clock_);
    ASSERT_NE(store_, nullptr);
    register_ = std::make_unique<Register>(store_->bis(), clock_);
  }
  void TearDown() override {
    register_.reset();
    store_.reset();
    StoreTest::TearDown();
  }

  std::string MustAssign(const Identity& identity, bool force = false) {
    Result<Assignment> assignment = register_->Assign(identity, force, "cpas");
    EXPECT_TRUE(assignment) << assignment.error().ToString();
    if (!assignment) return "";
    EXPECT_FALSE(assignment->niss.empty()) << identity.last_name << ": refused as a duplicate";
    return assignment->niss;
  }

  ManualClock clock_{kToday};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Register> register_;
};

TEST_P(RegisterTest, AssignsTheRightNumberForEveryShapeOfBirthDateAndSex) {
  struct Row {
    std::string birth;
    std::optional<int> year;
    int month, day;
  };
  const Row dates[] = {
      {"1985-07-30", 1985, 7, 30}, {"2004-02-29", 2004, 2, 29}, {"1999-12-31", 1999, 12, 31},
      {"2000-01-01", 2000, 1, 1},  {"1985-07-00", 1985, 7, 0},  {"2012-11-00", 2012, 11, 0},
      {"1985-00-00", 1985, 0, 0},  {"2003-00-00", 2003, 0, 0},  {"2000-00-00", 2000, 0, 0},
      {"1900-00-00", 1900, 0, 0},  {"0000-00-00", std::nullopt, 0, 0},
  };
  const niss::Sex sexes[] = {niss::Sex::kMale, niss::Sex::kFemale, niss::Sex::kUnknown};
  std::set<std::string> seen;
  int n = 0;
  for (const Row& row : dates) {
    for (niss::Sex sex : sexes) {
      SCOPED_TRACE(fmt::format("{} sex {}", row.birth, SexCode(sex)));
      // Distinct people: no duplicate detection in the way.
      std::string niss =
          MustAssign(Make(fmt::format("Testperson{}", char('a' + n % 26)) + std::string(n / 26 + 1, 'x'),
                          "", row.birth, sex),
                     true);
      ++n;
      ASSERT_EQ(niss.size(), 11u);
      EXPECT_TRUE(seen.insert(niss).second) << niss << " twice";
      Result<niss::Number> number = niss::Parse(niss, kToday);
      ASSERT_TRUE(number) << niss << ": " << number.error().ToString();
      EXPECT_EQ(number->kind, niss::Kind::kBis) << niss;
      EXPECT_EQ(number->sex, sex) << niss;
      EXPECT_EQ(number->birth_year, row.year) << niss;
      EXPECT_EQ(number->birth_month, row.month) << niss;
      EXPECT_EQ(number->birth_day, row.day) << niss;
      const int mm = (niss[2] - '0') * 10 + (niss[3] - '0');
      const int offset = sex == niss::Sex::kUnknown ? 20 : 40;
      EXPECT_EQ(mm - offset, row.year ? row.month : 0) << niss;
      const int serial = number->Serial();
      EXPECT_GE(serial, 1);
      EXPECT_LE(serial, 998);
      if (sex != niss::Sex::kUnknown) {
        EXPECT_EQ(serial % 2, sex == niss::Sex::kMale ? 1 : 0) << niss;
      }
      if (!row.year) {
        EXPECT_EQ(niss.substr(0, 6), sex == niss::Sex::kUnknown ? "002001" : "004001");
      }
      // The check digits carry the century (docs/api.md section 1).
      const int64_t body = std::stoll(niss.substr(0, 9));
      const int64_t check = std::stoll(niss.substr(9));
      const bool twenty_first = row.year && *row.year >= 2000;
      EXPECT_EQ(check, 97 - ((twenty_first ? 2000000000 + body : body) % 97)) << niss;
    }
  }
}

TEST_P(RegisterTest, MovesToTheOverflowBlocksWhenADayIsFullAndNeverReuses) {
  // 499 odd serials for the men of one day, then month 00 (+40) with DD 01.
  std::set<std::string> numbers;
  for (int i = 0; i < 501; ++i) {
    numbers.insert(MustAssign(Make(fmt::format("Overflow{}", i), "", "1977-05-17"), true));
  }
  ASSERT_EQ(numbers.size(), 501u);
  int in_day = 0, overflow = 0;
  for (const std::string& niss : numbers) {
    Result<niss::Number> number = niss::Parse(niss, kToday);
    ASSERT_TRUE(number) << niss;
    EXPECT_EQ(number->sex, niss::Sex::kMale);
    EXPECT_EQ(number->birth_year, 1977);
    if (niss.starts_with("774517")) ++in_day;
    if (niss.starts_with("774001")) ++overflow;
  }
  EXPECT_EQ(in_day, 499);
  EXPECT_EQ(overflow, 2);
}

TEST_P(RegisterTest, AWhollyUnknownBirthDateHasOneBlockAndSaysSoWhenFull) {
  // Fill the block of unknown women directly through its counter.
  for (const NumberBlock& block : BlocksFor(BirthDate{}, niss::Sex::kFemale)) {
    ASSERT_TRUE(database()
                    .Execute(fmt::format("INSERT INTO bis_serial (block, used) VALUES ({}, {})",
                                         block.serial.key, block.serial.capacity))
                    .ok());
  }
  Result<Assignment> refused =
      register_->Assign(Make("Nobody", "", "0000-00-00", niss::Sex::kFemale), true, "cpas");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.error().message().find("give at least the year"), std::string::npos)
      << refused.error().message();
  // Men with an unknown date still have theirs.
  EXPECT_EQ(MustAssign(Make("Nobody", "", "0000-00-00", niss::Sex::kMale)).substr(0, 6), "004001");
}

// A register imported with its numbers: the counters do not know them,
// and the numbers stay with their holders.
TEST_P(RegisterTest, SkipsANumberAlreadyHeldByAnImportedPerson) {
  Result<niss::Number> first =
      niss::Compose(niss::Kind::kBis, 1980, 1, 1, niss::Sex::kMale, 1, kToday);
  ASSERT_TRUE(first);
  ASSERT_TRUE(database()
                  .Execute(fmt::format(
                      "INSERT INTO bis_person VALUES ({}, 'Imported', '', 1980, 1, 1, 1, '', "
                      "'import', 0, 0, {})",
                      first->digits, GetParam() == store::testing::Engine::kPostgres ? "false" : "0"))
                  .ok());
  const std::string niss = MustAssign(Make("Newcomer", "", "1980-01-01"));
  Result<niss::Number> second =
      niss::Compose(niss::Kind::kBis, 1980, 1, 1, niss::Sex::kMale, 3, kToday);
  EXPECT_EQ(niss, second->digits);
  EXPECT_EQ((*register_->Find(first->digits))->identity.last_name, "Imported");
}

TEST_P(RegisterTest, AThousandConcurrentAssignmentsOnOneBirthDateAreDistinctAndValid) {
  // Two stores stand for two hub processes (on SQLite: two connections to
  // one file, serialized by SQLite's lock; on PostgreSQL: two pools).
  std::unique_ptr<store::Store> second = OpenTestStore(clock_);
  ASSERT_NE(second, nullptr);
  Register other(second->bis(), clock_);
  constexpr int kThreads = 8, kEach = 125;
  std::vector<std::vector<std::string>> numbers(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Register& on = t % 2 == 0 ? *register_ : other;
      for (int i = 0; i < kEach; ++i) {
        // Sex unknown: 998 serials in the day, then the year's overflow.
        Result<Assignment> assignment = on.Assign(
            Make(fmt::format("Concurrent{}x{}", t, i), "", "1990-03-15", niss::Sex::kUnknown), true,
            "cpas");
        if (!assignment || assignment->niss.empty()) {
          ++failures;
          if (!assignment) std::fprintf(stderr, "%s\n", assignment.error().ToString().c_str());
          continue;
        }
        numbers[t].push_back(assignment->niss);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<std::string> all;
  for (const auto& list : numbers) all.insert(list.begin(), list.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});
  int in_day = 0;
  for (const std::string& niss : all) {
    Result<niss::Number> number = niss::Parse(niss, kToday);
    ASSERT_TRUE(number) << niss;
    EXPECT_EQ(number->kind, niss::Kind::kBis);
    EXPECT_EQ(number->sex, niss::Sex::kUnknown);
    EXPECT_EQ(number->birth_year, 1990);
    in_day += niss.starts_with("902315") ? 1 : 0;
  }
  EXPECT_EQ(in_day, 998);
  Result<int64_t> count = register_->Count();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, kThreads * kEach);
}

TEST_P(RegisterTest, RefusesAPossibleDuplicateUnlessForced) {
  const std::string first = MustAssign(Make("Van den Bossche", "Jean-Pierre", "1985-07-03"));
  Result<Assignment> refused =
      register_->Assign(Make("VANDENBOSSCHE", "Jean Pierre", "1985-03-07"), false, "cpas");
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_TRUE(refused->niss.empty());
  ASSERT_EQ(refused->candidates.size(), 1u);
  EXPECT_EQ(refused->candidates[0].person.niss, first);
  EXPECT_GE(refused->candidates[0].match.score, kDuplicateScore);
  const std::vector<std::string>& reasons = refused->candidates[0].match.reasons;
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "birth-date-day-month-swapped"), reasons.end());
  Result<int64_t> count = register_->Count();
  EXPECT_EQ(*count, 1);  // nothing written

  Result<Assignment> forced =
      register_->Assign(Make("VANDENBOSSCHE", "Jean Pierre", "1985-03-07"), true, "cpas");
  ASSERT_TRUE(forced);
  ASSERT_FALSE(forced->niss.empty());
  EXPECT_EQ(forced->candidates.size(), 1u);
  Result<std::optional<Person>> stored = register_->Find(forced->niss);
  ASSERT_TRUE(stored && *stored);
  EXPECT_TRUE((*stored)->forced);
  EXPECT_EQ((*stored)->created_by, "cpas");
  EXPECT_EQ((*stored)->identity.birth_date.ToString(), "1985-03-07");
  EXPECT_FALSE((*register_->Find(first))->forced);
}

// Eight clerks create the same person at the same moment: the creations are
// serialized with their duplicate check, so exactly one gets a number.
TEST_P(RegisterTest, ConcurrentCreationsOfOnePersonGiveOneNumber) {
  std::unique_ptr<store::Store> second = OpenTestStore(clock_);
  ASSERT_NE(second, nullptr);
  Register other(second->bis(), clock_);
  std::atomic<int> created{0}, refused{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Result<Assignment> assignment = (t % 2 == 0 ? *register_ : other)
          .Assign(Make("Kowalczyk", "Agnieszka", "1979-10-12", niss::Sex::kFemale, "PL"), false,
                  "cpas");
      if (!assignment) {
        ++errors;
      } else if (assignment->niss.empty()) {
        ++refused;
      } else {
        ++created;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(errors.load(), 0);
}

TEST_P(RegisterTest, UpdatesAnIdentityAndItsKeys) {
  const std::string niss = MustAssign(Make("Nowak", "Piotr", "1980-04-04", niss::Sex::kMale, "PL"));
  clock_.Advance(std::chrono::seconds(1));
  Result<std::optional<Register::Updated>> unchanged =
      register_->Update(niss, Make("Nowak", "Piotr", "1980-04-04", niss::Sex::kMale, "PL"));
  ASSERT_TRUE(unchanged && *unchanged);
  EXPECT_FALSE((*unchanged)->changed);
  clock_.Advance(std::chrono::seconds(1));
  Result<std::optional<Register::Updated>> updated =
      register_->Update(niss, Make("Zieliński", "Piotr Jan", "1980-04-04", niss::Sex::kMale, "PL"));
  ASSERT_TRUE(updated && *updated);
  EXPECT_TRUE((*updated)->changed);
  EXPECT_EQ((*updated)->person.identity.last_name, "Zieliński");
  EXPECT_GT((*updated)->person.updated_us, (*updated)->person.created_us);
  // Found under the new name (with another date, so only the name keys
  // lead there), no longer under the old one.
  Result<std::vector<Candidate>> by_new =
      register_->FindDuplicates(Make("Zielinski", "Piotr", "1980-00-00"));
  ASSERT_TRUE(by_new);
  ASSERT_EQ(by_new->size(), 1u);
  EXPECT_EQ((*by_new)[0].person.niss, niss);
  Result<std::vector<Candidate>> by_old = register_->FindDuplicates(Make("Nowak", "Piotr", "1980-00-00"));
  ASSERT_TRUE(by_old);
  EXPECT_TRUE(by_old->empty());
  Result<std::optional<Register::Updated>> missing =
      register_->Update("00200100112", Make("X", "", "0000-00-00"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(RegisterTest, ShowsTheReplacementOfANumber) {
  const std::string niss = MustAssign(Make("Popescu", "Ion", "1971-09-09", niss::Sex::kMale, "RO"));
  EXPECT_FALSE((*register_->Find(niss))->replaced_by);
  store::NewMutation replacement;
  replacement.source = "nr";
  replacement.id = "r1";
  replacement.data_type = "person.niss-replaced";
  replacement.niss = niss;
  replacement.effective = kToday;
  replacement.replaced_by = "71090900122";
  ASSERT_TRUE(store_->mutations().AcceptMutations({&replacement, 1}, 1));
  EXPECT_EQ((*register_->Find(niss))->replaced_by, "71090900122");
  Result<std::vector<Candidate>> candidates =
      register_->FindDuplicates(Make("Popescu", "Ion", "1971-09-09"));
  ASSERT_TRUE(candidates);
  ASSERT_EQ(candidates->size(), 1u);
  EXPECT_EQ((*candidates)[0].person.replaced_by, "71090900122");
}

TEST_P(RegisterTest, SearchesByNameForTheAdministrator) {
  const std::string a = MustAssign(Make("De Smet", "Els", "1968-01-20", niss::Sex::kFemale, "BE"));
  const std::string b = MustAssign(Make("Desmet", "Koen", "1991-08-02", niss::Sex::kMale, "BE"));
  MustAssign(Make("Peeters", "Els", "1968-01-20", niss::Sex::kFemale, "BE"));
  Identity query;
  query.last_name = "de smet";
  Result<std::vector<Candidate>> found = register_->Search(query, 10, 0.3);
  ASSERT_TRUE(found) << found.error().ToString();
  std::set<std::string> numbers;
  for (const Candidate& candidate : *found) numbers.insert(candidate.person.niss);
  EXPECT_EQ(numbers, (std::set<std::string>{a, b}));
  query.first_names = "els";
  found = register_->Search(query, 10, 0.3);
  ASSERT_TRUE(found);
  ASSERT_FALSE(found->empty());
  EXPECT_EQ((*found)[0].person.niss, a);  // the better match first
}

// --- the look-alike set -----------------------------------------------------

using testing::Draw;
using testing::kMen;
using testing::kNationalities;
using testing::kSurnames;
using testing::kWomen;

std::string FirstNamesFor(Draw& draw, niss::Sex sex) {
  const std::vector<std::string>& pool = sex == niss::Sex::kFemale ? kWomen : kMen;
  std::string out = draw.Pick(pool);
  int more = draw.Chance(40) ? (draw.Chance(30) ? 2 : 1) : 0;
  for (int i = 0; i < more; ++i) {
    std::string next = draw.Pick(pool);
    if (out.find(next) == std::string::npos) out += (draw.Chance(30) ? "-" : " ") + next;
  }
  return out;
}

BirthDate RandomDate(Draw& draw) {
  BirthDate date;
  date.year = 1940 + static_cast<int>(draw.Below(80));
  date.month = 1 + static_cast<int>(draw.Below(12));
  date.day = 1 + static_cast<int>(draw.Below(static_cast<size_t>(DaysInMonth(*date.year, date.month))));
  size_t unknown = draw.Below(100);
  if (unknown < 2) {
    date = BirthDate{};
  } else if (unknown < 7) {
    date.month = date.day = 0;
  } else if (unknown < 17) {
    date.day = 0;
  }
  return date;
}

Identity RandomPerson(Draw& draw) {
  Identity identity;
  identity.sex = draw.Chance(50) ? niss::Sex::kFemale : niss::Sex::kMale;
  if (draw.Chance(10)) identity.sex = niss::Sex::kUnknown;
  identity.last_name = draw.Pick(kSurnames);
  identity.first_names = FirstNamesFor(draw, identity.sex == niss::Sex::kUnknown
                                                 ? niss::Sex::kMale
                                                 : identity.sex);
  identity.birth_date = RandomDate(draw);
  identity.nationality = draw.Pick(kNationalities);
  return identity;
}

// A typing slip in the letters of `text` (not the first one): a letter
// replaced, dropped, doubled, or swapped with its neighbour.
std::string Typo(Draw& draw, const std::string& text) {
  std::vector<size_t> letters;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] >= 'a' && text[i] <= 'z') letters.push_back(i);
  }
  if (letters.size() < 3) return text;
  size_t at = letters[draw.Below(letters.size())];
  std::string out = text;
  switch (draw.Below(4)) {
    case 0: out[at] = static_cast<char>('a' + (out[at] - 'a' + 1 + draw.Below(25)) % 26); break;
    case 1: out.erase(at, 1); break;
    case 2: out.insert(at, 1, out[at]); break;
    default:
      if (at + 1 < out.size() && out[at + 1] >= 'a' && out[at + 1] <= 'z') std::swap(out[at], out[at + 1]);
      else out.erase(at, 1);
  }
  return out;
}

// The names as typed on a keyboard without accents ("Müller" -> "Muller"),
// by a table of its own: not by FoldName, the code under test, whose
// breakage would otherwise leave this variant unchanged and the test blind.
std::string WithoutAccents(const std::string& text) {
  static const std::pair<std::string_view, std::string_view> kPlain[] = {
      {"á", "a"}, {"ã", "a"}, {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ễ", "e"}, {"í", "i"}, {"ï", "i"},
      {"ı", "i"}, {"ó", "o"}, {"ö", "o"}, {"Ö", "O"}, {"ü", "u"}, {"ç", "c"}, {"Ç", "C"}, {"ş", "s"},
      {"Ş", "S"}, {"ś", "s"}, {"ř", "r"}, {"ń", "n"}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [accented, plain] : kPlain) {
      if (std::string_view(text).substr(i).starts_with(accented)) {
        out += plain;
        i += accented.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string Upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// The kinds of difference between two records of one person.
enum class Change {
  kCase, kAccents, kParticles, kLastTypo, kFirstTypo, kSwappedDate, kDayUnknown,
  kMonthUnknown, kDateUnknown, kGivenNames, kSexUnknown, kNationalityUnknown, kCount
};
const char* ChangeName(Change change) {
  constexpr const char* kNames[] = {"case", "accents", "particles/spacing", "typo in last name",
                                    "typo in first names", "day and month swapped", "day unknown",
                                    "month unknown", "birth date unknown", "given names",
                                    "sex unknown", "nationality unknown"};
  return kNames[static_cast<int>(change)];
}

void Apply(Draw& draw, Change change, Identity& identity) {
  switch (change) {
    case Change::kCase:
      identity.last_name = Upper(identity.last_name);
      break;
    case Change::kAccents:
      identity.last_name = WithoutAccents(identity.last_name);
      identity.first_names = WithoutAccents(identity.first_names);
      break;
    case Change::kParticles: {
      std::string joined;
      for (char c : identity.last_name) {
        if (c != ' ') joined += c;
      }
      identity.last_name = joined != identity.last_name ? joined : identity.last_name + " ";
      break;
    }
    case Change::kLastTypo:
      identity.last_name = Typo(draw, identity.last_name);
      break;
    case Change::kFirstTypo:
      identity.first_names = Typo(draw, identity.first_names);
      break;
    case Change::kSwappedDate: {
      BirthDate& date = identity.birth_date;
      if (date.complete() && date.day <= 12 && date.day != date.month) std::swap(date.day, date.month);
      break;
    }
    case Change::kDayUnknown:
      if (identity.birth_date.year) identity.birth_date.day = 0;
      break;
    case Change::kMonthUnknown:
      if (identity.birth_date.year) identity.birth_date.month = identity.birth_date.day = 0;
      break;
    case Change::kDateUnknown:
      identity.birth_date = BirthDate{};
      break;
    case Change::kGivenNames: {
      std::string& first = identity.first_names;
      size_t cut = first.find_first_of(" -");
      if (cut != std::string::npos) {
        first = draw.Chance(50) ? first.substr(0, cut) : first.substr(0, cut) + " " + first.substr(cut + 1);
      }
      break;
    }
    case Change::kSexUnknown:
      identity.sex = niss::Sex::kUnknown;
      break;
    case Change::kNationalityUnknown:
      identity.nationality.clear();
      break;
    case Change::kCount:
      break;
  }
}

TEST_P(RegisterTest, LookAlikeSetPrecisionAndRecallAbove95Percent) {
  Draw draw(20261128);
  // The register: random people, and for some of them the people who
  // resemble them most without being them — a twin (same family name and
  // birth date), a namesake born another year.
  std::vector<std::pair<std::string, Identity>> base;
  auto store = [&](const Identity& identity) {
    Result<Assignment> assignment = register_->Assign(identity, true, "cpas");
    ASSERT_TRUE(assignment) << assignment.error().ToString();
    base.emplace_back(assignment->niss, identity);
  };
  constexpr int kBase = 1200, kTwins = 100, kNamesakes = 100;
  for (int i = 0; i < kBase; ++i) store(RandomPerson(draw));
  for (int i = 0; i < kTwins; ++i) {
    Identity twin = base[draw.Below(kBase)].second;
    if (!twin.birth_date.year) continue;
    std::string first = FirstNamesFor(draw, twin.sex == niss::Sex::kFemale ? niss::Sex::kMale : niss::Sex::kFemale);
    twin.first_names = first;
    twin.sex = niss::Sex::kUnknown;
    store(twin);
  }
  for (int i = 0; i < kNamesakes; ++i) {
    Identity namesake = base[draw.Below(kBase)].second;
    namesake.birth_date = RandomDate(draw);
    if (!namesake.birth_date.year) namesake.birth_date.year = 1930;
    store(namesake);
  }

  // Queries: records of people in the register with one or two changes
  // (each must find its original), and people who are not in it (each
  // must find nobody).
  struct Query {
    Identity identity;
    std::string original;  // empty: nobody
    std::vector<Change> changes;
  };
  std::vector<Query> queries;
  constexpr int kDuplicates = 600, kNewcomers = 400;
  for (int i = 0; i < kDuplicates; ++i) {
    const auto& [niss, identity] = base[draw.Below(kBase)];
    Query query{identity, niss, {}};
    int changes = draw.Chance(50) ? 1 : 2;
    for (int c = 0; c < changes; ++c) {
      Change change = static_cast<Change>(draw.Below(static_cast<size_t>(Change::kCount)));
      Apply(draw, change, query.identity);
      query.changes.push_back(change);
    }
    queries.push_back(std::move(query));
  }
  for (int i = 0; i < kNewcomers; ++i) {
    Identity like = base[draw.Below(kBase)].second;
    Query query{RandomPerson(draw), "", {}};
    switch (i % 4) {
      case 0:  // a namesake: same names, born years apart
        query.identity.last_name = like.last_name;
        query.identity.first_names = like.first_names;
        query.identity.sex = like.sex;
        query.identity.birth_date.year = like.birth_date.year ? *like.birth_date.year + 5 + static_cast<int>(draw.Below(20)) : 1950;
        if (*query.identity.birth_date.year > 2025) *query.identity.birth_date.year -= 60;
        break;
      case 1:  // a sibling born the same day: same family name and date
        query.identity.last_name = like.last_name;
        query.identity.birth_date = like.birth_date;
        if (!like.birth_date.year) query.identity.birth_date.year = 1960;
        break;
      case 2:  // same given names and birth date, another family
        query.identity.first_names = like.first_names;
        query.identity.birth_date = like.birth_date;
        if (!like.birth_date.year) query.identity.birth_date.year = 1960;
        break;
      default:
        break;
    }
    // A truly new person: not someone the register already holds.
    bool known = std::any_of(base.begin(), base.end(), [&](const auto& entry) {
      return entry.second.last_name == query.identity.last_name &&
             entry.second.first_names == query.identity.first_names &&
             entry.second.birth_date == query.identity.birth_date;
    });
    if (!known) queries.push_back(std::move(query));
  }

  int true_positives = 0, false_positives = 0, duplicates = 0;
  // Namesakes found by a query without a birth date: nothing tells them apart.
  int false_positives_without_date = 0;
  std::map<std::string, std::pair<int, int>> by_change;  // found, total
  for (const Query& query : queries) {
    Result<std::vector<Candidate>> candidates = register_->FindDuplicates(query.identity);
    ASSERT_TRUE(candidates) << candidates.error().ToString();
    bool found = false;
    for (const Candidate& candidate : *candidates) {
      if (!query.original.empty() && candidate.person.niss == query.original) {
        found = true;
        ++true_positives;
      } else {
        ++false_positives;
        if (!query.identity.birth_date.year || !candidate.person.identity.birth_date.year) {
          ++false_positives_without_date;
        }
      }
    }
    if (query.original.empty()) continue;
    ++duplicates;
    for (Change change : query.changes) {
      auto& [hits, total] = by_change[ChangeName(change)];
      hits += found ? 1 : 0;
      ++total;
    }
  }
  const double precision = static_cast<double>(true_positives) / (true_positives + false_positives);
  const double recall = static_cast<double>(true_positives) / duplicates;
  std::printf("look-alike set (%s): %zu persons in the register, %zu queries (%d duplicates)\n",
              std::string(store::testing::EngineName(GetParam())).c_str(), base.size(),
              queries.size(), duplicates);
  std::printf("  precision %.3f (%d of %d candidates right), recall %.3f (%d of %d found)\n",
              precision, true_positives, true_positives + false_positives, recall,
              true_positives, duplicates);
  std::printf("  %d of the %d wrong candidates are namesakes where one side has no birth date\n",
              false_positives_without_date, false_positives);
  for (const auto& [change, counts] : by_change) {
    std::printf("  recall with %-22s %3d / %3d\n", (change + ":").c_str(), counts.first,
                counts.second);
  }
  EXPECT_GT(precision, 0.95);
  EXPECT_GT(recall, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Engines, RegisterTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::bis
