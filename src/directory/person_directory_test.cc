// SPDX-License-Identifier: EUPL-1.2
#include "directory/person_directory.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "directory/decision.h"
#include "network/model.h"

namespace carrefour::directory {
namespace {

Date Day(int year, int month, int day) { return *Date::FromCivil(year, month, day); }
const Date kToday = Day(2024, 6, 15);

// A small network built by hand (as a hub's loader would never let some of
// it through): two registers that hold everything for everybody, sector
// types with two or three capacities, and authorizations of every validity.
// `rng` varies the authorizations, the availability and the capacities.
std::shared_ptr<const network::Definition> RandomNetwork(std::mt19937_64& rng) {
  network::DefinitionLists lists;
  lists.institution_types.push_back({"register", {"registered"}, 0});
  for (int t = 0; t < 3; ++t) {
    network::InstitutionType type{"sector-" + std::to_string(t), {}, 0};
    for (int c = 0; c < 2 + t % 2; ++c) type.capacities.push_back("cap-" + std::to_string(c));
    if (t == 2) type.capacities.push_back("member");
    lists.institution_types.push_back(std::move(type));
  }
  for (int i = 0; i < 10; ++i) {
    const std::string& type = lists.institution_types[i < 2 ? 0 : 1 + i % 3].id;
    lists.institutions.push_back({"inst-" + std::to_string(i), type, "I", "", "", 0, 0});
  }
  const std::vector<std::string> fields = {"a", "b", "c", "d"};
  for (int d = 0; d < 5; ++d) {
    network::DataType data_type;
    data_type.id = "data-" + std::to_string(d);
    data_type.fields = fields;
    lists.data_types.push_back(std::move(data_type));
  }
  for (int d = 0; d < 5; ++d) {
    const std::string& id = lists.data_types[d].id;
    if (d == 0) lists.availability.push_back({id, "register", std::nullopt, 0});
    if (d == 4) continue;  // nobody holds it
    for (int t = 1; t <= 3; ++t) {
      if (rng() % 2 == 0) {
        lists.availability.push_back(
            {id, "sector-" + std::to_string(t - 1), "cap-" + std::to_string(rng() % 2), 0});
      }
    }
    // A capacity no type declares: equal strings must still match.
    if (rng() % 4 == 0) lists.availability.push_back({id, "sector-1", "retired", 0});
  }
  for (int a = 0; a < 40; ++a) {
    network::Authorization authorization;
    authorization.data_type = lists.data_types[rng() % 5].id;
    const int sector = static_cast<int>(rng() % 3);
    if (rng() % 3 == 0) {
      authorization.requester = lists.institutions[2 + rng() % 8].id;
    } else {
      authorization.requester_type = "sector-" + std::to_string(sector);
    }
    const int capacity = static_cast<int>(rng() % 5);
    authorization.capacity = capacity < 3 ? "cap-" + std::to_string(capacity)
                             : capacity == 3 ? "member"
                                             : "undeclared";
    for (const std::string& field : fields) {
      if (rng() % 2 == 0) authorization.fields.push_back(field);
    }
    if (authorization.fields.empty() && rng() % 2 == 0) authorization.fields.push_back("b");
    authorization.legal_basis = "L/" + std::to_string(a);
    switch (rng() % 5) {
      case 0: authorization.validity = {Day(2015, 1, 1), kToday.AddDays(-1)}; break;
      case 1: authorization.validity = {kToday.AddDays(1), std::nullopt}; break;
      case 2: authorization.validity = {kToday, kToday}; break;
      default: authorization.validity = {Day(2015, 1, 1), std::nullopt}; break;
    }
    lists.authorizations.push_back(std::move(authorization));
  }
  // Subscriptions, without drawing from `rng` (the decisions' cases stay
  // as they were): type-wide, of one institution, and in a capacity no type
  // declares.
  for (int d = 0; d < 4; ++d) {
    const std::string& id = lists.data_types[d].id;
    lists.subscriptions.push_back({"", "sector-" + std::to_string(d % 3), id, "cap-0", 0});
    lists.subscriptions.push_back({"inst-" + std::to_string(3 + d), "", id, "cap-1", 0});
    if (d == 1) lists.subscriptions.push_back({"", "sector-1", id, "retired", 0});
  }
  return std::make_shared<const network::Definition>("random", std::move(lists));
}

std::string Number(int person) {
  std::string digits = std::to_string(85073003300LL + person);
  return std::string(11 - digits.size(), '0') + digits;
}

// A random entry on `niss`; now and then at an institution or in a capacity
// the definition does not know, or in a capacity its type does not declare.
Entry RandomEntry(const network::Definition& definition, const std::string& niss,
                  std::mt19937_64& rng) {
  Entry entry;
  entry.niss = niss;
  const auto& institutions = definition.institutions();
  entry.institution =
      rng() % 20 == 0 ? "gone-" + std::to_string(rng() % 2) : institutions[rng() % 10].id;
  const network::Institution* known = definition.FindInstitution(entry.institution);
  switch (rng() % 12) {
    case 0: entry.capacity = "retired"; break;
    case 1: entry.capacity = "old-" + std::to_string(rng() % 2); break;
    case 2: entry.capacity = "cap-2"; break;
    default: {
      const std::vector<std::string>& capacities =
          known != nullptr ? definition.TypeOf(*known).capacities
                           : definition.institution_types()[1].capacities;
      entry.capacity = capacities[rng() % capacities.size()];
    }
  }
  entry.period.from = kToday.AddDays(static_cast<int32_t>(rng() % 4000) - 3000);
  switch (rng() % 4) {
    case 0: entry.period.to = entry.period.from.AddDays(static_cast<int32_t>(rng() % 800)); break;
    case 1: entry.period.to = Date::Max(); break;  // not open: must print as a date
    default: break;
  }
  return entry;
}

ConsultationRequest RandomRequest(const network::Definition& definition, const std::string& niss,
                                  std::mt19937_64& rng) {
  ConsultationRequest request;
  request.niss = niss;
  request.requester = rng() % 30 == 0 ? "inst-99" : definition.institutions()[rng() % 10].id;
  request.data_type = rng() % 30 == 0 ? "data-99" : definition.data_types()[rng() % 5].id;
  const Date from = kToday.AddDays(static_cast<int32_t>(rng() % 3000) - 2500);
  switch (rng() % 6) {
    case 0: request.period = Period{from, from.AddDays(static_cast<int32_t>(rng() % 400))}; break;
    case 1: request.period = Period{from, std::nullopt}; break;
    case 2: request.period = Period{from, from.AddDays(-1)}; break;  // invalid
    default: break;
  }
  switch (rng() % 8) {
    case 0: request.capacity = "cap-" + std::to_string(rng() % 3); break;
    case 1: request.capacity = rng() % 2 == 0 ? "retired" : "old-0"; break;
    case 2: request.capacity = "nobody-has-this"; break;
    default: break;
  }
  switch (rng() % 6) {
    case 0: request.fields = std::vector<std::string>{"b", "d"}; break;
    case 1: request.fields = std::vector<std::string>{"a"}; break;
    case 2: request.fields = std::vector<std::string>{"c", "zz"}; break;
    case 3: if (rng() % 4 == 0) request.fields = std::vector<std::string>{}; break;
    default: break;
  }
  return request;
}

void ExpectSameResult(const Result<Grant>& expected, const Result<Grant>& actual) {
  ASSERT_EQ(expected.has_value(), actual.has_value())
      << (expected ? actual.error().message() : expected.error().message());
  if (!expected) {
    EXPECT_EQ(expected.error().code(), actual.error().code());
    EXPECT_EQ(expected.error().message(), actual.error().message());
    return;
  }
  EXPECT_EQ(expected->requester, actual->requester);
  EXPECT_EQ(expected->data_type, actual->data_type);
  EXPECT_EQ(expected->period, actual->period);
  EXPECT_EQ(expected->authorization, actual->authorization);
  EXPECT_EQ(expected->fields, actual->fields);
  EXPECT_EQ(expected->providers, actual->providers);
}

class PersonDirectoryTest : public ::testing::Test {
 protected:
  PersonDirectoryTest() : rng_(7), definition_(RandomNetwork(rng_)), directory_(definition_) {}

  static uint64_t Key(const std::string& niss) { return NissNumber(niss); }

  std::mt19937_64 rng_;
  std::shared_ptr<const network::Definition> definition_;
  PersonDirectory directory_;
};

Entry MakeEntry(const std::string& institution, const std::string& capacity, Date from,
                std::optional<Date> to = std::nullopt) {
  return Entry{Number(1), institution, capacity, {from, to}};
}

TEST_F(PersonDirectoryTest, KeepsEachPersonsEntriesInTheStoresOrder) {
  const std::vector<Entry> entries = {
      MakeEntry("inst-3", "cap-1", Day(2020, 1, 1)), MakeEntry("inst-3", "cap-0", Day(2021, 1, 1)),
      MakeEntry("inst-2", "cap-1", Day(2019, 1, 1)), MakeEntry("inst-3", "cap-0", Day(2020, 1, 1)),
      MakeEntry("gone-1", "old-0", Day(2018, 1, 1), Day(2019, 1, 1))};
  EXPECT_TRUE(directory_.Load(entries).empty());
  std::vector<Entry> expected = entries;
  std::sort(expected.begin(), expected.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.institution, a.capacity, a.period.from) <
           std::tie(b.institution, b.capacity, b.period.from);
  });
  EXPECT_EQ(directory_.EntriesOf(Key(Number(1))), expected);
  EXPECT_EQ(directory_.persons(), 1u);
  EXPECT_EQ(directory_.entries(), 5u);
  EXPECT_TRUE(directory_.EntriesOf(Key(Number(2))).empty());
  EXPECT_TRUE(directory_.Find(Key(Number(2))).entries.empty());
}

TEST_F(PersonDirectoryTest, AddIsIdempotentAndRefusesAnotherEnd) {
  const Entry entry = MakeEntry("inst-2", "cap-0", Day(2020, 1, 1));
  EXPECT_TRUE(directory_.Apply({EntryAction::kAdd, entry}).ok());
  EXPECT_TRUE(directory_.Apply({EntryAction::kAdd, entry}).ok());
  EXPECT_EQ(directory_.entries(), 1u);
  Entry other_end = entry;
  other_end.period.to = Day(2022, 1, 1);
  const Status refused = directory_.Apply({EntryAction::kAdd, other_end});
  EXPECT_EQ(refused, CompareExisting(other_end, std::nullopt));
  EXPECT_EQ(refused.code(), StatusCode::kInvalidRequest);
  EXPECT_EQ(directory_.EntriesOf(Key(entry.niss)), std::vector<Entry>{entry});
}

TEST_F(PersonDirectoryTest, ClosesAndRemovesAsTheStoreDoes) {
  Entry entry = MakeEntry("inst-2", "cap-0", Day(2020, 1, 1));
  const Entry kept = MakeEntry("inst-4", "cap-1", Day(2020, 1, 1));
  ASSERT_TRUE(directory_.Load(std::vector<Entry>{entry, kept}).empty());

  Entry closing = entry;
  closing.period.to = Day(2023, 12, 31);
  EXPECT_TRUE(directory_.Apply({EntryAction::kClose, closing}).ok());
  EXPECT_EQ(directory_.EntriesOf(Key(entry.niss)), (std::vector<Entry>{closing, kept}));

  Entry elsewhere = closing;
  elsewhere.period.from = Day(2020, 1, 2);
  EXPECT_EQ(directory_.Apply({EntryAction::kClose, elsewhere}), EntryNotFound(elsewhere));
  Entry unknown_names = closing;
  unknown_names.capacity = "never-seen";
  EXPECT_EQ(directory_.Apply({EntryAction::kRemove, unknown_names}), EntryNotFound(unknown_names));

  EXPECT_TRUE(directory_.Apply({EntryAction::kRemove, entry}).ok());
  EXPECT_EQ(directory_.Apply({EntryAction::kRemove, entry}), EntryNotFound(entry));
  EXPECT_TRUE(directory_.Apply({EntryAction::kRemove, kept}).ok());
  EXPECT_EQ(directory_.persons(), 0u);
  EXPECT_TRUE(directory_.Find(Key(entry.niss)).entries.empty());
}

TEST_F(PersonDirectoryTest, RejectsWhatTheStoreRejects) {
  Entry entry = MakeEntry("inst-2", "cap-0", Day(2020, 1, 1));
  Entry bad_number = entry;
  bad_number.niss = "8507300332";
  EXPECT_EQ(directory_.Apply({EntryAction::kAdd, bad_number}).code(), StatusCode::kInvalidNiss);
  EXPECT_EQ(directory_.Apply({EntryAction::kClose, entry}),
            PrecheckChange({EntryAction::kClose, entry}));  // no `to`
  Entry backwards = entry;
  backwards.period.to = Day(2019, 1, 1);
  EXPECT_EQ(directory_.Apply({EntryAction::kAdd, backwards}).code(), StatusCode::kInvalidPeriod);
  EXPECT_EQ(directory_.Apply({static_cast<EntryAction>(7), entry}).code(),
            StatusCode::kInvalidRequest);
  const std::vector<EntryResult> results = directory_.Apply(std::vector<EntryChange>{
      {EntryAction::kAdd, bad_number}, {EntryAction::kAdd, entry}});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status.code(), StatusCode::kInvalidNiss);
  EXPECT_TRUE(results[1].status.ok());
  EXPECT_EQ(results[1].index, 1u);
  EXPECT_EQ(directory_.entries(), 1u);
}

// Many persons through every path of the table (growth, deletion with
// backward shifts, runs moved and compacted), against a plain map.
TEST_F(PersonDirectoryTest, HoldsManyPersonsAsAPlainMapWould) {
  using Identity = std::tuple<std::string, std::string, Date>;
  std::map<std::string, std::map<Identity, Entry>> model;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 60000; ++step) {
    const std::string niss = Number(static_cast<int>(rng() % 5000));
    Entry entry = RandomEntry(*definition_, niss, rng);
    entry.period.to = std::nullopt;
    entry.period.from = Day(2020, 1, 1).AddDays(static_cast<int32_t>(rng() % 4));
    auto& of_person = model[niss];
    const Identity identity{entry.institution, entry.capacity, entry.period.from};
    switch (rng() % 3) {
      case 0:
      case 1: {
        const bool present = of_person.count(identity) > 0;
        EXPECT_TRUE(directory_.Apply({EntryAction::kAdd, entry}).ok());
        if (!present) of_person.emplace(identity, entry);
        break;
      }
      default: {
        const bool present = of_person.erase(identity) > 0;
        EXPECT_EQ(directory_.Apply({EntryAction::kRemove, entry}).ok(), present);
      }
    }
    if (of_person.empty()) model.erase(niss);
  }
  size_t entries = 0;
  for (int person = 0; person < 5000; ++person) {
    std::vector<Entry> expected;
    if (auto found = model.find(Number(person)); found != model.end()) {
      for (const auto& [identity, entry] : found->second) expected.push_back(entry);
    }
    entries += expected.size();
    ASSERT_EQ(directory_.EntriesOf(Key(Number(person))), expected) << Number(person);
  }
  EXPECT_EQ(directory_.persons(), model.size());
  EXPECT_EQ(directory_.entries(), entries);
}

// A random network, its engine, and a directory of 40 persons (0 to 39)
// with up to 6 random entries each, drawn from `rng`.
struct RandomWorld {
  explicit RandomWorld(std::mt19937_64& rng)
      : definition(RandomNetwork(rng)), engine(definition), directory(definition) {
    for (int person = 0; person < 40; ++person) {
      std::vector<Entry> entries;
      const size_t count = rng() % 7;
      for (size_t e = 0; e < count; ++e) {
        entries.push_back(RandomEntry(*definition, Number(person), rng));
      }
      // Same identity with another end: rejected, as by a store.
      for (const EntryResult& rejected : directory.Load(entries)) {
        EXPECT_EQ(rejected.status.code(), StatusCode::kInvalidRequest);
      }
    }
  }
  std::shared_ptr<const network::Definition> definition;
  DecisionEngine engine;
  PersonDirectory directory;
};

// Runs `body(world, rng)` on the random worlds of seeds 1 to 12, `rng` the
// generator that drew the world, for the body to draw its cases from.
template <typename Body>
void OnRandomWorlds(Body body) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("network seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const RandomWorld world(rng);
    body(world, rng);
  }
}

// The compact path against the string path over the same entries: the same
// grant, or the same refusal word for word, for random networks, persons
// and requests (unknown ids, invalid periods, capacities, fields).
TEST(DecideCompact, DecidesExactlyAsTheStringPath) {
  std::map<std::string, int> outcomes;  // the mix must reach every outcome
  OnRandomWorlds([&](const RandomWorld& world, std::mt19937_64& rng) {
    const std::shared_ptr<const network::Definition>& definition = world.definition;
    const DecisionEngine& engine = world.engine;
    const PersonDirectory& directory = world.directory;
    Grant reused;
    for (int r = 0; r < 500; ++r) {
      const std::string niss = Number(static_cast<int>(rng() % 41));  // 40 has no entry
      const ConsultationRequest request = RandomRequest(*definition, niss, rng);
      std::vector<Entry> strings = directory.EntriesOf(NissNumber(niss));
      // Entries on another number are the string path's to ignore.
      strings.push_back(RandomEntry(*definition, Number(77), rng));
      std::rotate(strings.begin(), strings.end() - 1, strings.end());
      const PersonEntries person = directory.Find(NissNumber(niss));
      SCOPED_TRACE("request " + std::to_string(r));
      const Result<Grant> expected = engine.Decide(request, strings, kToday);
      ++outcomes[expected ? "granted" : expected.error().message().substr(0, 12)];
      ExpectSameResult(expected, engine.DecideCompact(request, person, kToday));
      const Status status = engine.DecideCompact(request, person, kToday, &reused);
      ExpectSameResult(expected, status.ok() ? Result<Grant>(reused) : Error(status));
      ExpectSameResult(expected, engine.DecideCompact(request, directory, kToday));
    }
  });
  // Each refusal of docs/decision-engine.md's table, told by its opening.
  for (const char* outcome : {"granted", "'inst-99' is", "'data-99' is", "the period e",
                              "the list of ", "data type 'd", "institution ", "no authoriza",
                              "the files of", "none of the "}) {
    EXPECT_GT(outcomes[outcome], 0) << outcome;
  }
}

// The compact path against the string path over the same entries: the same
// subscribers (institution, fields, authorizations), for random networks,
// persons, sources and data types (unknown ones included).
TEST(SubscribersOfCompact, FindsExactlyTheStringPathsSubscribers) {
  auto describe = [](const std::vector<Subscriber>& subscribers) {
    std::vector<std::string> out;
    for (const Subscriber& subscriber : subscribers) {
      std::string line = subscriber.institution->id + ":";
      for (std::string_view field : subscriber.fields) line += " " + std::string(field);
      line += " /";
      for (const network::Authorization* authorization : subscriber.authorizations) {
        line += " " + authorization->legal_basis;
      }
      out.push_back(std::move(line));
    }
    return out;
  };
  size_t found = 0;
  OnRandomWorlds([&](const RandomWorld& world, std::mt19937_64& rng) {
    const std::shared_ptr<const network::Definition>& definition = world.definition;
    const DecisionEngine& engine = world.engine;
    const PersonDirectory& directory = world.directory;
    for (int r = 0; r < 600; ++r) {
      const std::string niss = Number(static_cast<int>(rng() % 41));  // 40 has no entry
      const std::string source =
          rng() % 10 == 0 ? "gone-0" : definition->institutions()[rng() % 10].id;
      const std::string data_type = "data-" + std::to_string(rng() % 6);  // data-5: unknown
      SCOPED_TRACE(niss + " " + source + " " + data_type);
      const std::vector<Subscriber> expected =
          engine.SubscribersOf(source, data_type, directory.EntriesOf(NissNumber(niss)), kToday);
      found += expected.size();
      EXPECT_EQ(describe(engine.SubscribersOfCompact(source, data_type, directory.Find(NissNumber(niss)), kToday)),
                describe(expected));
    }
  });
  EXPECT_GT(found, 100u) << "the cases must find subscribers";
}

TEST(NissNumber, ReadsElevenDigitsAndNothingElse) {
  EXPECT_EQ(NissNumber("85073003328"), 85073003328u);
  EXPECT_EQ(NissNumber("00000000097"), 97u);
  EXPECT_EQ(NissNumber("99999999999"), 99999999999u);
  for (std::string_view bad : {"", "8507300332", "850730033280", "85.07.30-033.28"}) {
    EXPECT_EQ(NissNumber(bad), kNotANiss) << bad;
  }
  // Every position, with the bytes just outside '0'-'9' and far from them.
  for (size_t at = 0; at < 11; ++at) {
    for (char c : {'/', ':', ' ', '\0', '\x7f', '\xb0', '\xff', 'a'}) {
      std::string niss = "85073003328";
      niss[at] = c;
      EXPECT_EQ(NissNumber(niss), kNotANiss) << at << " " << static_cast<int>(c);
    }
  }
  // Against the plain reading, digit by digit.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    std::string niss(11, '0');
    uint64_t expected = 0;
    for (char& c : niss) {
      c = static_cast<char>('0' + rng() % 10);
      expected = expected * 10 + static_cast<uint64_t>(c - '0');
    }
    ASSERT_EQ(NissNumber(niss), expected) << niss;
  }
}

// A refusal naming many capacities outgrows the message's stack buffer; a
// number that is not 11 digits has no entries in a directory.
TEST(DecideCompact, WritesLongRefusalsAndKnowsNoMalformedNumber) {
  std::mt19937_64 rng(3);
  const std::shared_ptr<const network::Definition> definition = RandomNetwork(rng);
  const DecisionEngine engine(definition);
  PersonDirectory directory(definition);
  std::vector<Entry> entries;
  for (int c = 0; c < 40; ++c) {
    entries.push_back(Entry{Number(5), "inst-3", "a-capacity-of-long-ago-number-" + std::to_string(c),
                            {Day(2001, 1, 1), std::nullopt}});
  }
  ASSERT_TRUE(directory.Load(entries).empty());
  ConsultationRequest request{"inst-3", "data-1", Number(5), std::nullopt, std::nullopt,
                              std::nullopt};
  // In the store's order, as the directory keeps them.
  const std::vector<Entry> stored = directory.EntriesOf(NissNumber(Number(5)));
  const Result<Grant> expected = engine.Decide(request, stored, kToday);
  ASSERT_FALSE(expected.has_value());
  EXPECT_GT(expected.error().message().size(), 1000u);
  EXPECT_NE(expected.error().message().find("capacities 'a-capacity-of-long-ago-number-0', "),
            std::string::npos);
  ExpectSameResult(expected, engine.DecideCompact(request, directory, kToday));

  request.niss = "8507300332X";
  const Result<Grant> malformed = engine.DecideCompact(request, directory, kToday);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code(), StatusCode::kNotIntegrated);
  ExpectSameResult(engine.Decide(request, stored, kToday), malformed);
}

}  // namespace
}  // namespace carrefour::directory
