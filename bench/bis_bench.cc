// SPDX-License-Identifier: EUPL-1.2
// Duplicate search in a BIS register of a million persons (docs/bis.md has
// the results and the reasoning), on SQLite and, when
// $CARREFOUR_TEST_POSTGRES (or --postgres URL) names a cluster, PostgreSQL:
//   (a) Register::FindDuplicates latency, p50 / p90 / p99 / max, for
//       look-alikes of registered persons and for newcomers;
//   (b) baselines measured in the same run on the same database: the
//       store's read of the candidate rows alone (FindByKeys, the blocking
//       without the scoring), and a point look-up of one person by number
//       (Find: one round trip, one B-tree descent);
//   (c) Register::Assign latency (detection + number + insert, durable) for
//       newcomers on the full register.
//
//   bis_bench [--persons N] [--queries N] [--creations N] [--dir DIR]
//             [--postgres URL] [--no-postgres] [--no-sqlite]
//
// The register is filled with raw batched INSERTs of the rows and keys the
// store would write (StoredKeys): loading a million persons one creation at a
// time measures the disk's fsync, not the search. The population: numbers
// from niss::Generator::NextBis (its shares of unknown dates and sexes),
// 30 % of the last names from a list of common Belgian and foreign names,
// the others made of syllables (about 60 000 different ones), first names
// from a list of 80 (first names concentrate; last names spread).

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bis/register.h"
#include "bis/testing/population.h"
#include "store/store.h"
#include "store/testing/test_database.h"

namespace {

using carrefour::Date;
using carrefour::ManualClock;
using carrefour::bis::BirthDate;
using carrefour::bis::Identity;
using carrefour::bis::testing::Draw;
using carrefour::store::testing::Engine;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  fmt::print(stderr, "bis_bench: {}\n", message);
  exit(1);
}

const Date kToday = *Date::Parse("2026-06-01");

const std::vector<std::string> kSyllables = {
    "ba", "ber", "bos", "da", "de", "dor", "el", "fa", "gan", "ge", "hal", "ho", "in", "ja",
    "ka", "ker", "la", "len", "ma", "mer", "mo", "na", "nel", "no", "ol", "pa", "per", "ra",
    "ren", "ro", "sa", "sen", "so", "ta", "ter", "to", "va", "ver", "wa", "zi"};
// First names concentrate: men's and women's from one list of 80.
const std::vector<std::string> kFirstNames = [] {
  std::vector<std::string> names = carrefour::bis::testing::kMen;
  names.insert(names.end(), carrefour::bis::testing::kWomen.begin(),
               carrefour::bis::testing::kWomen.end());
  return names;
}();

std::string LastName(Draw& draw) {
  if (draw.Below(100) < 30) return draw.Pick(carrefour::bis::testing::kSurnames);
  std::string name;
  for (int i = 0; i < 3; ++i) name += draw.Pick(kSyllables);
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

Identity PersonFor(Draw& draw, const carrefour::niss::Number& number) {
  Identity identity;
  identity.last_name = LastName(draw);
  identity.first_names = draw.Pick(kFirstNames);
  if (draw.Below(100) < 30) identity.first_names += " " + draw.Pick(kFirstNames);
  identity.birth_date = BirthDate{number.birth_year, number.birth_month, number.birth_day};
  identity.sex = number.sex;
  identity.nationality = draw.Pick(carrefour::bis::testing::kNationalities);
  return identity;
}

std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int SexNumber(carrefour::niss::Sex sex) {
  return sex == carrefour::niss::Sex::kMale ? 1 : sex == carrefour::niss::Sex::kFemale ? 2 : 0;
}

// Fills the register with `persons` rows and their keys; returns a sample of
// them (one in a thousand) to make look-alikes of.
std::vector<Identity> Load(const carrefour::store::testing::TestDatabase& database, bool postgres,
                           uint64_t persons) {
  carrefour::niss::Generator generator(7, kToday);
  Draw draw(11);
  std::vector<Identity> sample;
  constexpr uint64_t kBatch = 5000;
  SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t first = 0; first < persons; first += kBatch) {
    std::string people = "INSERT INTO bis_person VALUES ";
    std::string keys = "INSERT INTO bis_key (key, niss) VALUES ";
    bool first_key = true;
    for (uint64_t i = first; i < std::min(persons, first + kBatch); ++i) {
      carrefour::niss::Number number = generator.NextBis();
      Identity identity = PersonFor(draw, number);
      if (i % 1000 == 0) sample.push_back(identity);
      people += fmt::format("{}({},{},{},{},{},{},{},{},'bench',0,0,{})", i == first ? "" : ",",
                            number.digits, Quote(identity.last_name),
                            Quote(identity.first_names),
                            identity.birth_date.year ? std::to_string(*identity.birth_date.year)
                                                     : std::string("NULL"),
                            identity.birth_date.month, identity.birth_date.day,
                            SexNumber(identity.sex), Quote(identity.nationality),
                            postgres ? "false" : "0");
      for (int64_t key : carrefour::bis::StoredKeys(identity)) {
        keys += fmt::format("{}({},{})", first_key ? "" : ",", key, number.digits);
        first_key = false;
      }
    }
    carrefour::Status status =
        database.Execute("BEGIN; " + people + "; " + keys + "; COMMIT;");
    if (!status.ok()) Die("loading: " + status.ToString());
    if ((first / kBatch) % 20 == 19) {
      fmt::print(stderr, "  loaded {} persons ({:.0f} s)\n", first + kBatch,
                 std::chrono::duration<double>(SteadyClock::now() - start).count());
    }
  }
  carrefour::Status analyzed = database.Execute("ANALYZE");
  if (!analyzed.ok()) Die("analyzing: " + analyzed.ToString());
  fmt::print("  loaded {} persons in {:.0f} s\n", persons,
             std::chrono::duration<double>(SteadyClock::now() - start).count());
  return sample;
}

// A record of the same person with a typical difference.
Identity LookAlike(Draw& draw, Identity identity) {
  switch (draw.Below(4)) {
    case 0: {  // a typo in the last name
      std::string& name = identity.last_name;
      if (name.size() > 3) std::swap(name[1], name[2]);
      break;
    }
    case 1:  // day and month swapped, or the day unknown
      if (identity.birth_date.complete() && identity.birth_date.day <= 12) {
        std::swap(identity.birth_date.day, identity.birth_date.month);
      } else if (identity.birth_date.year) {
        identity.birth_date.day = 0;
      }
      break;
    case 2:  // spacing and case
      for (char& c : identity.last_name) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      break;
    default:  // the first given name only, sex unknown
      identity.first_names = identity.first_names.substr(0, identity.first_names.find(' '));
      identity.sex = carrefour::niss::Sex::kUnknown;
      break;
  }
  return identity;
}

struct Latencies {
  std::vector<double> micros;
  double Percentile(double p) {
    if (micros.empty()) return 0;
    std::sort(micros.begin(), micros.end());
    size_t at = static_cast<size_t>(p * static_cast<double>(micros.size() - 1) + 0.5);
    return micros[at];
  }
  std::string Row(std::string_view what) {
    return fmt::format("  {:<44} p50 {:>8.0f} µs   p90 {:>8.0f}   p99 {:>8.0f}   max {:>8.0f}",
                       what, Percentile(0.5), Percentile(0.9), Percentile(0.99),
                       Percentile(1.0));
  }
};

template <typename Fn>
double Time(Fn fn) {
  SteadyClock::time_point start = SteadyClock::now();
  fn();
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
}

void Run(Engine engine, uint64_t persons, size_t queries, size_t creations) {
  fmt::print("\n{}: {} persons in the BIS register\n",
             carrefour::store::testing::EngineName(engine), persons);
  auto database = carrefour::store::testing::TestDatabase::Create(engine);
  if (!database) Die(database.error().ToString());
  ManualClock clock(kToday);
  auto store = carrefour::store::OpenStore((*database)->url(), clock);
  if (!store) Die(store.error().ToString());
  std::vector<Identity> sample = Load(**database, engine == Engine::kPostgres, persons);
  carrefour::bis::Register bis_register((*store)->bis(), clock);

  Draw draw(23);
  std::vector<Identity> asked;
  for (size_t i = 0; i < queries; ++i) {
    if (i % 4 < 2) {
      asked.push_back(LookAlike(draw, sample[draw.Below(sample.size())]));
    } else {
      carrefour::niss::Generator fresh(1000 + i, kToday);
      asked.push_back(PersonFor(draw, fresh.NextBis()));
    }
  }
  // Warm-up: the caches of a running hub.
  for (size_t i = 0; i < std::min<size_t>(200, asked.size()); ++i) {
    (void)bis_register.FindDuplicates(asked[i]);
  }

  Latencies search, look_alikes, newcomers, fetch, point, rows_read;
  size_t found = 0;
  for (size_t i = 0; i < asked.size(); ++i) {
    std::vector<int64_t> keys = carrefour::bis::QueryKeys(asked[i]);
    auto baseline = [&] {
      fetch.micros.push_back(Time([&] {
        auto candidates =
            (*store)->bis().FindByKeys(keys, carrefour::store::BisStore::kMaxCandidates);
        if (!candidates) Die(candidates.error().ToString());
        rows_read.micros.push_back(static_cast<double>(candidates->size()));
      }));
    };
    // The two read the same pages: each goes first half of the time, so
    // that neither always finds them warmed by the other.
    if (i % 2 == 1) baseline();
    double micros = Time([&] {
      auto candidates = bis_register.FindDuplicates(asked[i]);
      if (!candidates) Die(candidates.error().ToString());
      found += candidates->empty() ? 0 : 1;
    });
    if (i % 2 == 0) baseline();
    search.micros.push_back(micros);
    (i % 4 < 2 ? look_alikes : newcomers).micros.push_back(micros);
  }
  std::vector<std::string> numbers;
  {
    carrefour::niss::Generator again(7, kToday);
    for (size_t i = 0; i < asked.size(); ++i) numbers.push_back(again.NextBis().digits);
  }
  for (const std::string& niss : numbers) {
    point.micros.push_back(Time([&] {
      auto person = (*store)->bis().Find(niss);
      if (!person || !*person) Die("a loaded person is missing");
    }));
  }
  Latencies create;
  for (size_t i = 0; i < creations; ++i) {
    carrefour::niss::Generator fresh(900000 + i, kToday);
    Identity identity = PersonFor(draw, fresh.NextBis());
    identity.last_name += "x";  // not a look-alike of anybody by construction
    // The generator has used up the one block of wholly unknown dates.
    if (!identity.birth_date.year) identity.birth_date = BirthDate{1970, 0, 0};
    create.micros.push_back(Time([&] {
      auto assignment = bis_register.Assign(identity, true, "bench");
      if (!assignment) Die(assignment.error().ToString());
    }));
  }
  fmt::print("  {} searches, {} with possible duplicates; candidate rows read per search: p50 {:.0f}, "
             "p90 {:.0f}, p99 {:.0f}, max {:.0f}\n",
             asked.size(), found, rows_read.Percentile(0.5), rows_read.Percentile(0.9),
             rows_read.Percentile(0.99), rows_read.Percentile(1.0));
  fmt::print("{}\n", search.Row("FindDuplicates, all"));
  fmt::print("{}\n", look_alikes.Row("FindDuplicates, look-alikes"));
  fmt::print("{}\n", newcomers.Row("FindDuplicates, newcomers"));
  fmt::print("{}\n", fetch.Row("baseline: FindByKeys (rows, no scoring)"));
  fmt::print("{}\n", point.Row("baseline: Find (one person by number)"));
  fmt::print("{}\n", create.Row("Assign (detection + number + durable insert)"));
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t persons = 1'000'000;
  size_t queries = 2000, creations = 200;
  std::string postgres_url;
  bool sqlite = true, postgres = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--persons") {
      persons = std::stoull(value());
    } else if (arg == "--queries") {
      queries = std::stoul(value());
    } else if (arg == "--creations") {
      creations = std::stoul(value());
    } else if (arg == "--dir") {
      setenv("TMPDIR", value().c_str(), 1);
    } else if (arg == "--postgres") {
      postgres_url = value();
    } else if (arg == "--no-postgres") {
      postgres = false;
    } else if (arg == "--no-sqlite") {
      sqlite = false;
    } else {
      Die("unknown argument " + arg +
          " (--persons N --queries N --creations N --dir DIR --postgres URL --no-postgres "
          "--no-sqlite)");
    }
  }
  if (persons < 1000 || queries < 2) Die("--persons at least 1000, --queries at least 2");
  if (!postgres_url.empty()) setenv(carrefour::store::testing::kPostgresEnv, postgres_url.c_str(), 1);
  if (sqlite) Run(Engine::kSqlite, persons, queries, creations);
  const char* url = getenv(carrefour::store::testing::kPostgresEnv);
  if (postgres && url != nullptr && *url != '\0') {
    Run(Engine::kPostgres, persons, queries, creations);
  } else if (postgres) {
    fmt::print("\npostgresql: skipped (no $CARREFOUR_TEST_POSTGRES and no --postgres URL)\n");
  }
  return 0;
}
