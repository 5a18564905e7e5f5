// SPDX-License-Identifier: EUPL-1.2
// Decisions per second on one core (docs/decision-engine.md).
//
// A synthetic network of 300 institutions, 200 data types and 3000
// authorizations, and a person directory of N persons with about 3 entries
// each, held in memory as a PersonDirectory (16-byte entries, an
// open-addressing table on the number). Benchmarks per size, over the same
// random sequence of keys:
//   lookup/persons:N     the bare look-up in a std::unordered_map from the
//                        number to (offset, count): the baseline;
//   directory+entries/.. PersonDirectory::Find and a read of the entries
//                        found (a yardstick: what any decision must do);
//   decision/persons:N   DecideCompact over the PersonDirectory (it finds
//                        the person under request.niss) into a Grant
//                        reused from one decision to the next;
//   decision-ahead/..    the same, with the next queries' persons and grant
//                        rows prefetched (as a server working through a
//                        batch can);
//   decision-result/..   the same through the Result<Grant> form (a new
//                        Grant, so its two vectors, per decision);
//   decision-strings/..  the string path as it was measured before the
//                        compact layout: the map above into a vector of
//                        string Entry, then Decide (which interns them);
//   lookup+entries/..    its yardstick: the map and a read of the strings.
// The goal is a decision rate of at least 25 % of the baseline's.
//
// Sizes: CARREFOUR_BENCH_PERSONS, a comma-separated list (default 1000000);
// "1000000,10000000" for the full run (the 10M world takes about 1.5 GB and
// a minute or two to build); "1000" keeps everything in the cache and shows
// the engine's own cost. The string entries (about 230 bytes a person) are
// kept, and the two string benchmarks run, only up to kStringsUpTo persons.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "directory/decision.h"
#include "directory/person_directory.h"
#include "network/model.h"

namespace carrefour::directory {
namespace {

constexpr int kCentralTypes = 4;  // one institution each, universal sources
constexpr int kSectorTypes = 16;  // the other 296 institutions
constexpr int kCapacitiesPerSector = 3;
constexpr int kInstitutions = 300;
constexpr int kDataTypes = 200;
constexpr int kFieldsPerDataType = 8;
constexpr int kAuthorizations = 3000;
constexpr int kSubscriptions = 600;
constexpr size_t kQueries = size_t{1} << 20;  // the key sequence, replayed
constexpr size_t kStringsUpTo = 2'000'000;

Date Day(int year, int month, int day) { return *Date::FromCivil(year, month, day); }
const Date kToday = Day(2024, 6, 15);

std::string SectorCapacity(int type, int capacity) {
  return "cap-" + std::to_string(type) + "-" + std::to_string(capacity);
}

// A realistic shape: a few central institutions (the National Register and
// the like) hold a third of the data types for everybody; sector
// institutions hold the rest for the persons they have a file on. Most
// authorizations are type-wide, a third name one institution; a tenth have
// expired and a few start in the future.
std::shared_ptr<const network::Definition> MakeDefinition(std::mt19937_64& rng) {
  std::vector<network::InstitutionType> types;
  for (int t = 0; t < kCentralTypes; ++t) {
    types.push_back({"central-" + std::to_string(t), {"registered"}, 0});
  }
  for (int t = 0; t < kSectorTypes; ++t) {
    network::InstitutionType type{"sector-" + std::to_string(t), {}, 0};
    for (int c = 0; c < kCapacitiesPerSector; ++c) type.capacities.push_back(SectorCapacity(t, c));
    types.push_back(std::move(type));
  }
  std::vector<network::Institution> institutions;
  for (int i = 0; i < kInstitutions; ++i) {
    int type = i < kCentralTypes ? i : kCentralTypes + (i - kCentralTypes) % kSectorTypes;
    institutions.push_back(
        {"inst-" + std::to_string(i), types[type].id, "Institution", "", "", 0, 0});
  }
  std::vector<network::DataType> data_types;
  for (int d = 0; d < kDataTypes; ++d) {
    network::DataType data_type;
    data_type.id = "data.type-" + std::to_string(d);
    for (int f = 0; f < kFieldsPerDataType; ++f)
      data_type.fields.push_back("field_" + std::to_string(f));
    data_types.push_back(std::move(data_type));
  }
  std::vector<network::Availability> availability;
  for (int d = 0; d < kDataTypes; ++d) {
    if (d % 3 == 0) {
      availability.push_back({data_types[d].id, types[d % kCentralTypes].id, std::nullopt, 0});
    } else {
      int sector = d % kSectorTypes;
      availability.push_back({data_types[d].id, types[kCentralTypes + sector].id,
                              SectorCapacity(sector, d % kCapacitiesPerSector), 0});
      if (d % 5 == 0) {
        int other = (sector + 7) % kSectorTypes;
        availability.push_back(
            {data_types[d].id, types[kCentralTypes + other].id, SectorCapacity(other, 0), 0});
      }
    }
  }
  std::vector<network::Authorization> authorizations;
  for (int a = 0; a < kAuthorizations; ++a) {
    network::Authorization authorization;
    authorization.data_type = data_types[rng() % kDataTypes].id;
    int sector = static_cast<int>(rng() % kSectorTypes);
    if (rng() % 3 == 0) {
      int member = kCentralTypes + sector + kSectorTypes * static_cast<int>(rng() % 18);
      authorization.requester = institutions[member].id;
    } else {
      authorization.requester_type = types[kCentralTypes + sector].id;
    }
    authorization.capacity = SectorCapacity(sector, static_cast<int>(rng() % kCapacitiesPerSector));
    uint64_t mask = rng() % 255 + 1;
    for (int f = 0; f < kFieldsPerDataType; ++f) {
      if (mask & (uint64_t{1} << f)) authorization.fields.push_back("field_" + std::to_string(f));
    }
    authorization.legal_basis = "ISC/" + std::to_string(a);
    switch (rng() % 20) {
      case 0:
      case 1:
        authorization.validity = {Day(2015, 1, 1), Day(2020, 12, 31)};
        break;
      case 2:
        authorization.validity = {Day(2030, 1, 1), std::nullopt};
        break;
      default:
        authorization.validity = {Day(2015, 1, 1), std::nullopt};
        break;
    }
    authorizations.push_back(std::move(authorization));
  }
  std::vector<network::Subscription> subscriptions;
  for (int s = 0; s < kSubscriptions; ++s) {
    int sector = static_cast<int>(rng() % kSectorTypes);
    subscriptions.push_back(
        {"", types[kCentralTypes + sector].id, data_types[rng() % kDataTypes].id,
         SectorCapacity(sector, static_cast<int>(rng() % kCapacitiesPerSector)), 0});
  }
  network::DefinitionLists lists;
  lists.institution_types = std::move(types);
  lists.institutions = std::move(institutions);
  lists.data_types = std::move(data_types);
  lists.availability = std::move(availability);
  lists.authorizations = std::move(authorizations);
  lists.subscriptions = std::move(subscriptions);
  return std::make_shared<const network::Definition>("generated", std::move(lists));
}

// The i-th synthetic national number: 998 serials per birth day from
// 1930-01-01 on (10M persons reach 1957), with its check digits.
uint64_t NumberOf(size_t i) {
  Date born = Day(1930, 1, 1).AddDays(static_cast<int32_t>(i / 998));
  uint64_t serial = i % 998 + 1;
  uint64_t base = (static_cast<uint64_t>(born.year() % 100) * 10000 +
                   static_cast<uint64_t>(born.month()) * 100 + static_cast<uint64_t>(born.day())) *
                      1000 +
                  serial;
  return base * 100 + (97 - base % 97);
}

std::string Digits(uint64_t number) {
  char text[12];
  std::snprintf(text, sizeof text, "%011llu", static_cast<unsigned long long>(number));
  return text;
}

struct Query {
  uint64_t key;
  std::string niss;              // the same, as the request carries it
  uint32_t requester;            // institution index
  uint32_t data_type;            // data type index
  std::optional<Period> period;  // nullopt: today
};

// One directory size: the network, the directories and the key sequence.
struct World {
  size_t persons = 0;
  std::shared_ptr<const network::Definition> definition;
  std::unique_ptr<DecisionEngine> engine;
  std::unique_ptr<PersonDirectory> people;
  // The baseline's map: number -> (offset, count) into `entries`, which is
  // empty above kStringsUpTo persons (the offsets are then what they would
  // be).
  std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> directory;
  std::vector<Entry> entries;  // grouped by person, in the order drawn
  std::vector<Query> queries;
};

// 1 to 5 entries on one person, at sector institutions, with distinct
// identities (institution, capacity, from).
std::vector<Entry> DrawPerson(const network::Definition& definition, const std::string& niss,
                              std::mt19937_64& rng) {
  std::vector<Entry> drawn;
  const size_t count = rng() % 5 + 1;
  while (drawn.size() < count) {
    const network::Institution& institution =
        definition.institutions()[kCentralTypes + rng() % (kInstitutions - kCentralTypes)];
    const network::InstitutionType& type = definition.TypeOf(institution);
    Date from = Day(2000, 1, 1).AddDays(static_cast<int32_t>(rng() % 9000));
    std::optional<Date> to;
    if (rng() % 10 < 3) to = from.AddDays(static_cast<int32_t>(rng() % 3000));
    Entry entry{niss, institution.id, type.capacities[rng() % type.capacities.size()], {from, to}};
    bool again = std::any_of(drawn.begin(), drawn.end(), [&](const Entry& other) {
      return other.institution == entry.institution && other.capacity == entry.capacity &&
             other.period.from == entry.period.from;
    });
    if (!again) drawn.push_back(std::move(entry));
  }
  return drawn;
}

std::unique_ptr<World> Build(size_t persons) {
  auto started = std::chrono::steady_clock::now();
  auto world = std::make_unique<World>();
  world->persons = persons;
  std::mt19937_64 rng(20240615);
  world->definition = MakeDefinition(rng);
  world->engine = std::make_unique<DecisionEngine>(world->definition);
  const network::Definition& definition = *world->definition;

  // Which data types each (institution, capacity) is granted today, so that
  // most queries are ones an institution would really make.
  std::map<std::pair<std::string, std::string>, std::vector<uint32_t>> granted;
  for (const network::Authorization& authorization : definition.authorizations()) {
    if (!authorization.validity.Contains(kToday)) continue;
    uint32_t data_type = static_cast<uint32_t>(definition.FindDataType(authorization.data_type) -
                                               definition.data_types().data());
    for (const network::Institution& institution : definition.institutions()) {
      if (authorization.Names(institution)) {
        granted[{institution.id, authorization.capacity}].push_back(data_type);
      }
    }
  }

  const bool strings = persons <= kStringsUpTo;
  world->people = std::make_unique<PersonDirectory>(world->definition);
  if (strings) world->entries.reserve(persons * 3);
  world->directory.reserve(persons);
  uint32_t offset = 0;
  for (size_t p = 0; p < persons; ++p) {
    uint64_t number = NumberOf(p);
    std::vector<Entry> drawn = DrawPerson(definition, Digits(number), rng);
    if (!world->people->Load(drawn).empty()) std::abort();  // distinct identities
    const uint32_t count = static_cast<uint32_t>(drawn.size());
    world->directory.emplace(number, std::make_pair(offset, count));
    offset += count;
    if (strings) std::move(drawn.begin(), drawn.end(), std::back_inserter(world->entries));
  }

  // The mix an institution's systems send: mostly questions about a person
  // it has a file on, for a data type it is authorized for, about today or
  // (for a file that has ended) about the file's last month; one in ten asks
  // for an arbitrary data type and is mostly refused.
  world->queries.reserve(kQueries);
  for (size_t q = 0; q < kQueries; ++q) {
    const uint64_t number = NumberOf(rng() % persons);
    const std::vector<Entry> of_person = world->people->EntriesOf(number);
    const Entry& entry = of_person[rng() % of_person.size()];
    Query query{number, entry.niss,
                static_cast<uint32_t>(definition.FindInstitution(entry.institution) -
                                      definition.institutions().data()),
                static_cast<uint32_t>(rng() % kDataTypes), std::nullopt};
    auto it = granted.find({entry.institution, entry.capacity});
    if (it != granted.end() && rng() % 10 != 0) {
      query.data_type = it->second[rng() % it->second.size()];
    }
    if (!entry.period.Contains(kToday)) {
      Date last = entry.period.to.value_or(kToday);
      query.period = Period{std::max(entry.period.from, last.AddDays(-30)), last};
    } else if (rng() % 4 == 0) {
      query.period = Period{Day(2024, 1, 1), Day(2024, 12, 31)};
    }
    world->queries.push_back(query);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "built %zu persons, %zu entries in %.1f s; PersonDirectory: %.0f MB\n",
               persons, world->people->entries(), seconds,
               static_cast<double>(world->people->bytes()) / 1e6);
  return world;
}

// Only one directory lives at a time.
World& WorldOf(size_t persons) {
  static std::unique_ptr<World> world;
  if (!world || world->persons != persons) {
    world.reset();
    world = Build(persons);
  }
  return *world;
}

void Lookup(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  size_t i = 0;
  for (auto _ : state) {
    const Query& query = world.queries[i++ & (kQueries - 1)];
    auto it = world.directory.find(query.key);
    benchmark::DoNotOptimize(it->second);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Not a goal, a yardstick: the look-up plus a read of the entries found
// (what any decision must at least touch), to tell the directory's memory
// latency from the engine's own work.
void LookupAndRead(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  const network::Definition& definition = *world.definition;
  size_t i = 0;
  for (auto _ : state) {
    const Query& query = world.queries[i++ & (kQueries - 1)];
    auto it = world.directory.find(query.key);
    const std::string& requester = definition.institutions()[query.requester].id;
    int64_t sum = 0;
    for (uint32_t e = 0; e < it->second.second; ++e) {
      const Entry& entry = world.entries[it->second.first + e];
      sum += (entry.institution == requester) + static_cast<int64_t>(entry.capacity.size()) +
             entry.period.from.days_since_epoch();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The yardstick of the compact layout: find the person, read its entries.
void DirectoryAndRead(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  size_t i = 0;
  for (auto _ : state) {
    const Query& query = world.queries[i++ & (kQueries - 1)];
    const PersonEntries person = world.people->Find(query.key);
    int64_t sum = 0;
    for (const CompactEntry& entry : person.entries) {
      sum += (entry.institution == query.requester) + entry.capacity + entry.from;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The request as a server fills it per consultation: reusing one request
// keeps its strings' buffers, as a per-connection request would.
void FillRequest(const World& world, const Query& query, ConsultationRequest* request) {
  const network::Definition& definition = *world.definition;
  request->requester = definition.institutions()[query.requester].id;
  request->data_type = definition.data_types()[query.data_type].id;
  request->niss = query.niss;
  request->period = query.period;
}

// Items per second, and the share of decisions that were grants.
void ReportDecisions(benchmark::State& state, int64_t granted) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["granted"] =
      benchmark::Counter(static_cast<double>(granted) / static_cast<double>(state.iterations()));
}

void Decision(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  ConsultationRequest request;
  Grant grant;
  size_t i = 0;
  int64_t granted = 0;
  for (auto _ : state) {
    FillRequest(world, world.queries[i++ & (kQueries - 1)], &request);
    Status status = world.engine->DecideCompact(request, *world.people, kToday, &grant);
    granted += status.ok();
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(grant);
  }
  ReportDecisions(state, granted);
}

// The same decisions, with what the next queries read asked for ahead: the
// directory's table slot two queries ahead, the entries of the next one
// and its grant rows (DecisionEngine::Prefetch), so that those cache misses
// overlap with a decision instead of preceding it. A server can do this
// when it holds several consultations at once (a batch, docs/api.md
// section 4.5); the bare look-up loop gets the same overlap from the
// processor for free, since nothing in it waits for a look-up's result.
void DecisionAhead(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  const auto at = [&](size_t q) -> const Query& { return world.queries[q & (kQueries - 1)]; };
  // Two requests, the current one and the next, each filled once.
  ConsultationRequest request;
  ConsultationRequest next_request;
  Grant grant;
  size_t i = 0;
  int64_t granted = 0;
  PersonEntries person = world.people->Find(at(0).key);
  FillRequest(world, at(0), &request);
  world.people->Prefetch(at(1).key);
  for (auto _ : state) {
    world.people->Prefetch(at(i + 2).key);
    const PersonEntries next = world.people->Find(at(i + 1).key);
    __builtin_prefetch(next.entries.data());
    FillRequest(world, at(i + 1), &next_request);
    world.engine->Prefetch(next_request);
    Status status = world.engine->DecideCompact(request, person, kToday, &grant);
    granted += status.ok();
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(grant);
    person = next;
    std::swap(request, next_request);
    ++i;
  }
  ReportDecisions(state, granted);
}

void DecisionResult(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  ConsultationRequest request;
  size_t i = 0;
  int64_t granted = 0;
  for (auto _ : state) {
    FillRequest(world, world.queries[i++ & (kQueries - 1)], &request);
    Result<Grant> grant = world.engine->DecideCompact(request, *world.people, kToday);
    granted += grant.has_value();
    benchmark::DoNotOptimize(grant);
  }
  ReportDecisions(state, granted);
}

void DecisionStrings(benchmark::State& state, size_t persons) {
  World& world = WorldOf(persons);
  ConsultationRequest request;
  size_t i = 0;
  int64_t granted = 0;
  for (auto _ : state) {
    const Query& query = world.queries[i++ & (kQueries - 1)];
    auto it = world.directory.find(query.key);
    std::span<const Entry> entries(world.entries.data() + it->second.first, it->second.second);
    FillRequest(world, query, &request);
    Result<Grant> grant = world.engine->Decide(request, entries, kToday);
    granted += grant.has_value();
    benchmark::DoNotOptimize(grant);
  }
  ReportDecisions(state, granted);
}

// Prints the console report, then each decision rate as a share of the
// baseline's for the same size.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // One rate per benchmark: the run itself, or the median of repetitions.
    for (const Run& run : runs) {
      auto rate = run.counters.find("items_per_second");
      if (rate == run.counters.end()) continue;
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      rates_[run.run_name.str()] = rate->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const auto& [name, rate] : rates_) {
      if (name.rfind("decision", 0) != 0) continue;
      const std::string size = name.substr(name.find('/'));
      auto baseline = rates_.find("lookup" + size);
      auto reading = rates_.find(
          (name.rfind("decision-strings", 0) == 0 ? "lookup+entries" : "directory+entries") + size);
      if (baseline == rates_.end()) continue;
      std::printf("%s: %.2f M decisions/s = %.1f %% of the bare look-up's %.2f M/s", name.c_str(),
                  rate / 1e6, 100 * rate / baseline->second, baseline->second / 1e6);
      if (reading != rates_.end()) {
        std::printf(" (finding and reading the entries: %.2f M/s)", reading->second / 1e6);
      }
      std::printf("\n");
    }
  }

 private:
  std::map<std::string, double> rates_;
};

std::vector<size_t> Sizes() {
  std::vector<size_t> sizes;
  const char* text = std::getenv("CARREFOUR_BENCH_PERSONS");
  std::string list = text != nullptr && *text != '\0' ? text : "1000000";
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    size_t size = std::strtoull(list.substr(start, comma - start).c_str(), nullptr, 10);
    if (size > 0) sizes.push_back(size);
    start = comma + 1;
  }
  return sizes;
}

}  // namespace
}  // namespace carrefour::directory

int main(int argc, char** argv) {
  using namespace carrefour::directory;
  // Registered size by size, so that each directory is built once and freed
  // before the next.
  for (size_t persons : Sizes()) {
    std::string suffix = "/persons:" + std::to_string(persons);
    benchmark::RegisterBenchmark(("lookup" + suffix).c_str(), Lookup, persons);
    benchmark::RegisterBenchmark(("directory+entries" + suffix).c_str(), DirectoryAndRead,
                                 persons);
    benchmark::RegisterBenchmark(("decision" + suffix).c_str(), Decision, persons);
    benchmark::RegisterBenchmark(("decision-ahead" + suffix).c_str(), DecisionAhead, persons);
    benchmark::RegisterBenchmark(("decision-result" + suffix).c_str(), DecisionResult, persons);
    if (persons > kStringsUpTo) continue;
    benchmark::RegisterBenchmark(("lookup+entries" + suffix).c_str(), LookupAndRead, persons);
    benchmark::RegisterBenchmark(("decision-strings" + suffix).c_str(), DecisionStrings,
                                 persons);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
