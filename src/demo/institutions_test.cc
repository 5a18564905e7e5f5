// SPDX-License-Identifier: EUPL-1.2
// The demo's institutions as their connectors see them: every generated
// connector.toml loads and its statements compile against its database
// (connector::Connector::Create), every provide query answers a sample
// person with the data type's fields as the hub would call it, the apply
// statements change what they should, the applications' changes reach the
// outbox, and the demo network text is a valid definition.

#include "demo/institutions.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "connector/config.h"
#include "connector/connector.h"
#include "connector/database.h"
#include "demo/changes.h"
#include "demo/demo_network.h"
#include "network/loader.h"
#include "pki/testing.h"
#include "core/testing/temp_dir.h"

namespace carrefour::demo {
namespace {

namespace fs = std::filesystem;
using connector::SqlParams;
using connector::SqlRows;
using connector::SqlValue;

const Date kToday = *Date::FromCivil(2025, 9, 15);
const char* const kInstitutions[] = {"nr",      "onss",    "capac", "mut-100",
                                     "mut-300", "famiwal", "sfp",   "cpas-brussels"};

fs::path TempDir(const std::string& name) {
  return carrefour::testing::MakeTempDir("carrefour-demo-" + name);
}

std::string Text(const SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return connector::DescribeValue(value);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// One demo network written once for the whole suite (2000 persons).
class DemoInstitutions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    population_ =
        new Population(GeneratePopulation({.persons = 2000, .seed = 11, .today = kToday}));
    auto definition = network::ParseDefinition(DemoNetworkTemplate(), "network.toml");
    ASSERT_TRUE(definition) << definition.error().ToString();
    definition_ = new network::Definition(std::move(*definition));
    pki_ = pki::TestPki::New(
        std::vector<std::string>(std::begin(kInstitutions), std::end(kInstitutions)));
    layout_ = new InstitutionsLayout{
        .dir = TempDir("institutions"), .pki_dir = pki_->dir, .hub_url = "https://127.0.0.1:1"};
    for (const char* id : kInstitutions) layout_->listen[id] = {"127.0.0.1:0", ""};
    Status written = WriteInstitutions(*population_, *definition_, *layout_);
    ASSERT_TRUE(written.ok()) << written.ToString();
  }
  static void TearDownTestSuite() {
    fs::remove_all(layout_->dir);
    delete layout_;
    pki::TestPki::Delete(pki_);
    delete definition_;
    delete population_;
  }

  static const Population& population() { return *population_; }
  static const network::Definition& definition() { return *definition_; }
  static const InstitutionsLayout& layout() { return *layout_; }

  static connector::ConnectorConfig Config(const std::string& id) {
    Result<connector::ConnectorConfig> config =
        connector::LoadConfig(ConnectorConfigPath(layout(), id));
    EXPECT_TRUE(config) << config.error().ToString();
    return config ? *config : connector::ConnectorConfig{};
  }

  static std::unique_ptr<connector::Session> Session(const std::string& id) {
    auto db = connector::Database::Open("sqlite:" + DatabasePath(layout(), id).string());
    EXPECT_TRUE(db) << db.error().ToString();
    auto session = (*db)->Connect();
    EXPECT_TRUE(session) << session.error().ToString();
    databases_.push_back(std::move(*db));  // a session needs its database alive
    return std::move(*session);
  }

  // Runs `id`'s provide query for `data_type` with the parameters the hub
  // sends (docs/api.md section 5): the period [from, to], every field.
  static SqlRows Provide(const std::string& id, const std::string& data_type,
                         const std::string& niss, Date from, std::optional<Date> to) {
    connector::ConnectorConfig config = Config(id);
    const connector::ProvideRule* rule = nullptr;
    for (const auto& candidate : config.provide) {
      if (candidate.data_type == data_type) rule = &candidate;
    }
    EXPECT_NE(rule, nullptr) << id << " does not provide " << data_type;
    if (rule == nullptr) return {};
    std::string fields;
    for (const std::string& field : definition().FindDataType(data_type)->fields) {
      fields += (fields.empty() ? "" : ",") + field;
    }
    SqlParams params = {{"niss", niss},
                        {"data_type", data_type},
                        {"from", from.ToString()},
                        {"to", to ? SqlValue(to->ToString()) : SqlValue()},
                        {"fields", fields},
                        {"requester", std::string("cpas-brussels")},
                        {"legal_basis", std::string("ISC/18/202")},
                        {"request_id", std::string("test")}};
    Result<SqlRows> rows = Session(id)->Execute(rule->query.sql, params);
    EXPECT_TRUE(rows) << rows.error().ToString();
    if (!rows) return {};
    // Columns are named exactly as the data type's fields (the connector
    // drops any other, so a misnamed column would silently lose data).
    EXPECT_EQ(rows->columns, definition().FindDataType(data_type)->fields) << data_type;
    return *rows;
  }

  static SqlRows Today(const std::string& id, const std::string& data_type,
                       const std::string& niss) {
    return Provide(id, data_type, niss, kToday, kToday);
  }

  // The value of `field` in the first row.
  static std::string Get(const SqlRows& rows, const std::string& field) {
    if (rows.rows.empty()) return "<no row>";
    for (size_t i = 0; i < rows.columns.size(); ++i) {
      if (rows.columns[i] == field) return Text(rows.rows[0][i]);
    }
    return "<no column " + field + ">";
  }

  template <typename Predicate>
  static const Person& Pick(Predicate predicate) {
    for (const Person& person : population().persons) {
      if (predicate(person)) return person;
    }
    ADD_FAILURE() << "no such person in the population";
    return population().persons.front();
  }

  static inline Population* population_ = nullptr;
  static inline network::Definition* definition_ = nullptr;
  static inline pki::TestPki* pki_ = nullptr;
  static inline InstitutionsLayout* layout_ = nullptr;
  static inline std::vector<std::unique_ptr<connector::Database>> databases_;
};

TEST_F(DemoInstitutions, EveryConnectorConfigurationLoadsAndCompilesAgainstItsDatabase) {
  for (const network::Institution& institution : definition().institutions()) {
    if (institution.endpoint.empty()) continue;  // the research centre runs no connector
    SCOPED_TRACE(institution.id);
    connector::ConnectorConfig config = Config(institution.id);
    EXPECT_EQ(config.institution, institution.id);
    EXPECT_EQ(config.hub_url, "https://127.0.0.1:1");
    EXPECT_EQ(config.cert, fs::absolute(pki_->dir) / (institution.id + ".crt"));

    // It answers what the availability assigns to its type, nothing else...
    std::set<std::string> expected, provided;
    for (const network::Availability& a : definition().availability()) {
      if (a.provider_type == institution.type) expected.insert(a.data_type);
    }
    for (const auto& rule : config.provide) provided.insert(rule.data_type);
    EXPECT_EQ(provided, expected);
    // ...applies what it is subscribed to...
    std::set<std::string> subscribed, applied;
    for (const network::Subscription& s : definition().subscriptions()) {
      if (s.Names(institution)) subscribed.insert(s.data_type);
    }
    if (config.feed) {
      for (const auto& rule : config.feed->apply) applied.insert(rule.data_type);
    }
    EXPECT_EQ(applied, subscribed);
    EXPECT_EQ(config.feed.has_value(), !subscribed.empty());
    // ...and declares files when its type has capacities.
    EXPECT_TRUE(config.outbox);
    EXPECT_EQ(config.integrations.has_value(),
              !definition().TypeOf(institution).capacities.empty());

    // Every statement compiles against the database (Create checks them).
    Result<std::unique_ptr<connector::Connector>> created = connector::Connector::Create(config);
    EXPECT_TRUE(created) << created.error().ToString();
  }
}

TEST_F(DemoInstitutions, FileDeclarationsHoldEveryDirectoryEntry) {
  std::map<std::string, size_t> counts = DirectoryEntryCounts(population());
  EXPECT_EQ(counts.count("nr"), 0u);
  for (const char* id : kInstitutions) {
    SCOPED_TRACE(id);
    auto session = Session(id);
    Result<SqlRows> rows = session->Execute(
        "SELECT niss, capacity, from_date, to_date, action, status FROM file_declaration ORDER BY "
        "seq",
        {});
    ASSERT_TRUE(rows) << rows.error().ToString();
    std::vector<FileEntry> entries = DirectoryEntries(population(), id);
    EXPECT_EQ(DirectoryEntryCount(population(), id), entries.size());
    EXPECT_EQ(counts[id], entries.size());
    ASSERT_EQ(rows->rows.size(), entries.size());
    if (std::string(id) != "nr") {
      EXPECT_GT(entries.size(), 5u);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& row = rows->rows[i];
      EXPECT_EQ(Text(row[0]), entries[i].niss);
      EXPECT_EQ(Text(row[1]), entries[i].capacity);
      EXPECT_EQ(Text(row[2]), entries[i].from.ToString());
      EXPECT_EQ(row[3], entries[i].to ? SqlValue(entries[i].to->ToString()) : SqlValue());
      EXPECT_EQ(Text(row[4]), "add");
      EXPECT_EQ(row[5], SqlValue());  // not declared yet
    }
  }
}

TEST_F(DemoInstitutions, TheNationalRegisterAnswersForEverybodyInIt) {
  const Person& moved = Pick([](const Person& p) {
    return !p.bis && !p.death && p.residences.size() == 2 &&
           p.residences.front().from < p.residences.front().to.value_or(kToday);
  });
  SqlRows identity = Today("nr", "person.identity", moved.niss);
  ASSERT_EQ(identity.rows.size(), 1u);
  EXPECT_EQ(Get(identity, "last_name"), moved.last_name);
  EXPECT_EQ(Get(identity, "first_names"), moved.first_names);
  EXPECT_EQ(Get(identity, "birth_date"), moved.birth_date.ToString());
  EXPECT_EQ(Get(identity, "sex"), moved.sex == niss::Sex::kFemale ? "f" : "m");
  EXPECT_EQ(Get(identity, "nationality"), moved.nationality);

  SqlRows address = Today("nr", "person.address", moved.niss);
  ASSERT_EQ(address.rows.size(), 1u);
  EXPECT_EQ(Get(address, "street"), moved.CurrentAddress().street);
  EXPECT_EQ(Get(address, "postal_code"), moved.CurrentAddress().postal_code);
  EXPECT_EQ(Get(address, "municipality"), moved.CurrentAddress().municipality);
  EXPECT_EQ(Get(address, "country"), "BE");
  EXPECT_EQ(Get(address, "since"), moved.residences.back().from.ToString());
  // Period-aware: the day before the move, the former address.
  const Date before = *moved.residences.front().to;
  SqlRows former = Provide("nr", "person.address", moved.niss, before, before);
  EXPECT_EQ(Get(former, "street"), moved.residences.front().address.street);
  // An open period that spans the move: the latest address.
  SqlRows open = Provide("nr", "person.address", moved.niss, before, std::nullopt);
  EXPECT_EQ(Get(open, "street"), moved.CurrentAddress().street);

  const Person& member = Pick([&](const Person& p) {
    if (p.bis || p.death || !p.household) return false;
    const Household& h = population().households[*p.household];
    if (h.members.size() < 3 || h.reference_person == p.index) return false;
    for (size_t m : h.members) {
      if (population().persons[m].death) return false;
    }
    return true;
  });
  const Household& household = population().households[*member.household];
  SqlRows composition = Today("nr", "person.household", member.niss);
  std::string members;
  for (size_t m : household.members) {
    members += (members.empty() ? "" : ",") + population().persons[m].niss;
  }
  EXPECT_EQ(Get(composition, "reference_person"),
            population().persons[household.reference_person].niss);
  EXPECT_EQ(Get(composition, "members"), members);
  EXPECT_EQ(Get(composition, "since"), std::max(household.since, member.birth_date).ToString());

  const Person& dead = Pick([](const Person& p) { return p.death.has_value(); });
  SqlRows death = Today("nr", "person.death", dead.niss);
  EXPECT_EQ(Get(death, "death_date"), dead.death->date.ToString());
  EXPECT_EQ(Get(death, "municipality"), dead.death->municipality);
  // Before the death there was none; after it, the household no longer has them.
  EXPECT_TRUE(
      Provide("nr", "person.death", dead.niss, dead.birth_date, dead.birth_date).rows.empty());
  EXPECT_TRUE(Today("nr", "person.address", dead.niss).rows.empty());

  const Person& registered = Pick([](const Person& p) { return p.former.has_value(); });
  SqlRows replaced = Today("nr", "person.niss-replaced", registered.former->old_niss);
  EXPECT_EQ(Get(replaced, "new_niss"), registered.niss);
  EXPECT_TRUE(Today("nr", "person.niss-replaced", registered.niss).rows.empty());

  // BIS persons are not in the national register.
  const Person& bis = Pick([](const Person& p) { return p.bis; });
  for (const char* data_type : {"person.identity", "person.address", "person.household"}) {
    EXPECT_TRUE(Today("nr", data_type, bis.niss).rows.empty()) << data_type;
  }
}

TEST_F(DemoInstitutions, TheCollectorAnswersDeclarationsAndWages) {
  const Person& worker = Pick([](const Person& p) {
    return p.EmploymentOn(kToday) && p.wages.size() >= 6 && p.employments.size() == 1;
  });
  const Employment& job = *worker.EmploymentOn(kToday);
  const Employer& employer = population().employers[job.employer];
  SqlRows declarations = Today("onss", "employment.declaration", worker.niss);
  ASSERT_EQ(declarations.rows.size(), 1u);
  EXPECT_EQ(Get(declarations, "employer_id"), employer.id);
  EXPECT_EQ(Get(declarations, "employer_name"), employer.name);
  EXPECT_EQ(Get(declarations, "joint_committee"), std::to_string(job.joint_committee));
  EXPECT_EQ(Get(declarations, "worker_class"), job.worker_class);
  EXPECT_EQ(Get(declarations, "start_date"), job.start.ToString());
  EXPECT_EQ(Get(declarations, "end_date"), "NULL");

  // Today's wages: the quarters of the last twelve months (newest first).
  SqlRows wages = Today("onss", "employment.wages", worker.niss);
  ASSERT_GE(wages.rows.size(), 3u);
  ASSERT_LE(wages.rows.size(), 4u);
  const QuarterlyWage& last = worker.wages.back();
  EXPECT_EQ(Get(wages, "quarter"), last.QuarterText());
  EXPECT_EQ(Get(wages, "employer_id"), employer.id);
  EXPECT_EQ(Get(wages, "days_worked"), std::to_string(last.days_worked));
  EXPECT_EQ(std::get<double>(wages.rows[0][2]), static_cast<double>(last.gross_cents) / 100.0);
  // Over the whole stored span: all of them.
  SqlRows all =
      Provide("onss", "employment.wages", worker.niss, *Date::FromCivil(2023, 1, 1), std::nullopt);
  EXPECT_EQ(all.rows.size(), worker.wages.size());

  // A frontier worker is known to the collector by a BIS number.
  const Person& frontier = Pick([](const Person& p) { return p.bis && !p.employments.empty(); });
  EXPECT_EQ(Today("onss", "employment.declaration", frontier.niss).rows.size(), 1u);
  // Somebody who never worked: nothing.
  const Person& child = Pick([](const Person& p) { return p.AgeOn(kToday) < 10; });
  EXPECT_TRUE(Today("onss", "employment.wages", child.niss).rows.empty());
}

TEST_F(DemoInstitutions, TheOtherInstitutionsAnswerTheirFiles) {
  const Person& unemployed =
      Pick([](const Person& p) { return p.UnemploymentOn(kToday) != nullptr; });
  const UnemploymentSpell& spell = *unemployed.UnemploymentOn(kToday);
  SqlRows status = Today("capac", "unemployment.status", unemployed.niss);
  ASSERT_EQ(status.rows.size(), 1u);
  EXPECT_EQ(Get(status, "status"), "entitled");
  EXPECT_EQ(Get(status, "category"), spell.category);
  EXPECT_EQ(Get(status, "since"), spell.since.ToString());

  for (const char* insurer : {"mut-100", "mut-300"}) {
    SCOPED_TRACE(insurer);
    const Person& insured = Pick([&](const Person& p) {
      const Membership* m = p.MembershipOn(kToday);
      return m && m->insurer == insurer && m->capacity == "dependent";
    });
    const Membership& m = *insured.MembershipOn(kToday);
    SqlRows insurability = Today(insurer, "health.insurability", insured.niss);
    EXPECT_EQ(Get(insurability, "insurer"), insurer);
    EXPECT_EQ(Get(insurability, "status"), m.status);
    EXPECT_EQ(Get(insurability, "preferential_rate"), m.preferential_rate ? "1" : "0");
    EXPECT_EQ(Get(insurability, "since"), m.since.ToString());
  }
  // Somebody who changed insurer: each answers for its own period only.
  const Person& switched = Pick([](const Person& p) {
    return p.memberships.size() == 2 && p.memberships[0].insurer == "mut-300" &&
           p.memberships[1].insurer == "mut-100" && !p.death;
  });
  const Date before = *switched.memberships[0].until;
  EXPECT_EQ(Today("mut-100", "health.insurability", switched.niss).rows.size(), 1u);
  EXPECT_TRUE(Today("mut-300", "health.insurability", switched.niss).rows.empty());
  EXPECT_EQ(Provide("mut-300", "health.insurability", switched.niss, before, before).rows.size(),
            1u);
  EXPECT_TRUE(
      Provide("mut-100", "health.insurability", switched.niss, before, before).rows.empty());

  const Person& child =
      Pick([](const Person& p) { return p.allowance && p.allowance->fund == "famiwal"; });
  SqlRows rights = Today("famiwal", "family.allowance-rights", child.niss);
  EXPECT_EQ(Get(rights, "fund"), "famiwal");
  EXPECT_EQ(Get(rights, "entitlement"), child.allowance->entitlement);
  EXPECT_EQ(std::get<double>(rights.rows.at(0)[2]),
            static_cast<double>(child.allowance->monthly_cents) / 100.0);
  EXPECT_EQ(Get(rights, "since"), child.allowance->since.ToString());

  const Person& pensioner = Pick([](const Person& p) { return p.pension && !p.death; });
  SqlRows pension = Today("sfp", "pension.rights", pensioner.niss);
  EXPECT_EQ(Get(pension, "pension_type"), pensioner.pension->type);
  EXPECT_EQ(Get(pension, "start_date"), pensioner.pension->start.ToString());

  const Person& beneficiary = Pick([](const Person& p) {
    return p.integration_income && p.integration_income->centre == "cpas-brussels";
  });
  EXPECT_EQ(beneficiary.CurrentAddress().region, Region::kBrussels);
  SqlRows income = Today("cpas-brussels", "social.integration-income", beneficiary.niss);
  EXPECT_EQ(Get(income, "category"), beneficiary.integration_income->category);
  EXPECT_EQ(Get(income, "since"), beneficiary.integration_income->since.ToString());
  // Nobody else's data: a person without a file at the centre.
  EXPECT_TRUE(Today("cpas-brussels", "social.integration-income", pensioner.niss).rows.empty());
}

// Runs `id`'s apply statement for `data_type` with the parameters the
// connector's feed binds (docs/connector.md).
Status Apply(std::unique_ptr<connector::Session>& session, const connector::ConnectorConfig& config,
             const std::string& data_type, SqlParams params) {
  for (const auto& rule : config.feed->apply) {
    if (rule.data_type != data_type) continue;
    params.insert(params.end(), {{"effective", std::string("2025-09-01")},
                                 {"source", std::string("nr")},
                                 {"id", std::string("m-1")},
                                 {"cursor", std::string("1")},
                                 {"data_type", data_type},
                                 {"data", std::string("{}")}});
    Result<SqlRows> done = session->Execute(rule.statement.sql, params);
    return done ? OkStatus() : done.error();
  }
  return NotFound("no apply statement for " + data_type);
}

TEST_F(DemoInstitutions, FeedStatementsUpdateTheInstitutionsCopies) {
  const Person& insured = Pick([](const Person& p) {
    const Membership* m = p.MembershipOn(kToday);
    return m && m->insurer == "mut-100" && m->capacity == "insured" && !p.bis;
  });
  connector::ConnectorConfig config = Config("mut-100");
  auto session = Session("mut-100");
  // A move, with the fields a mutuality is authorized for (no "since").
  ASSERT_TRUE(Apply(session, config, "person.address",
                    {{"niss", insured.niss},
                     {"street", std::string("Rue Neuve 1")},
                     {"postal_code", std::string("5000")},
                     {"municipality", std::string("Namur")},
                     {"country", std::string("BE")}})
                  .ok());
  auto address =
      session->Execute("SELECT street, since, updated_from FROM member_address WHERE niss = :n",
                       {{"n", insured.niss}});
  ASSERT_TRUE(address && address->rows.size() == 1);
  EXPECT_EQ(Text(address->rows[0][0]), "Rue Neuve 1");
  EXPECT_EQ(Text(address->rows[0][1]), "2025-09-01");
  EXPECT_EQ(Text(address->rows[0][2]), "m-1");
  // Pushed wages, applied once even if the same mutation comes twice.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(Apply(session, config, "employment.wages",
                      {{"niss", insured.niss},
                       {"quarter", std::string("2025-Q2")},
                       {"gross_wage", 9000.5},
                       {"days_worked", int64_t{64}}})
                    .ok());
  }
  auto wages = session->Execute("SELECT count(*) FROM wage_information WHERE niss = :n",
                                {{"n", insured.niss}});
  EXPECT_EQ(wages->rows[0][0], SqlValue(int64_t{1}));
  // A new number: the member and everything hanging on it follow.
  const std::string new_niss = population().spare_niss[0];
  ASSERT_TRUE(Apply(session, config, "person.niss-replaced",
                    {{"niss", insured.niss}, {"new_niss", new_niss}})
                  .ok());
  for (const char* sql : {"SELECT count(*) FROM member WHERE niss = :n",
                          "SELECT count(*) FROM membership WHERE niss = :n",
                          "SELECT count(*) FROM member_address WHERE niss = :n",
                          "SELECT count(*) FROM wage_information WHERE niss = :n"}) {
    auto rows = session->Execute(sql, {{"n", new_niss}});
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->rows[0][0], SqlValue(int64_t{1})) << sql;
  }
  EXPECT_EQ(Today("mut-100", "health.insurability", new_niss).rows.size(), 1u);
  ASSERT_TRUE(Apply(session, config, "person.death",
                    {{"niss", new_niss}, {"death_date", std::string("2025-09-02")}})
                  .ok());
  auto dead = session->Execute("SELECT death_date FROM member WHERE niss = :n", {{"n", new_niss}});
  EXPECT_EQ(Text(dead->rows.at(0)[0]), "2025-09-02");

  // The family-allowance fund keeps the child's household.
  const Person& child =
      Pick([](const Person& p) { return p.allowance && p.allowance->fund == "famiwal"; });
  auto fund = Session("famiwal");
  ASSERT_TRUE(Apply(fund, Config("famiwal"), "person.household",
                    {{"niss", child.niss},
                     {"reference_person", std::string("85073003328")},
                     {"members", std::string("85073003328,") + child.niss},
                     {"since", std::string("2025-08-01")}})
                  .ok());
  auto household = fund->Execute(
      "SELECT reference_person, since FROM child_household WHERE niss = :n", {{"n", child.niss}});
  EXPECT_EQ(Text(household->rows.at(0)[0]), "85073003328");
  EXPECT_EQ(Text(household->rows.at(0)[1]), "2025-08-01");
}

// The outbox rows as the connector selects them: the data holds only fields
// of the data type.
void ExpectPublished(const std::string& db, const network::Definition& definition,
                     const std::string& data_type, const std::string& niss,
                     const std::vector<std::string>& fields) {
  auto database = connector::Database::Open("sqlite:" + db);
  ASSERT_TRUE(database);
  auto session = (*database)->Connect();
  ASSERT_TRUE(session);
  Result<SqlRows> rows = (*session)->Execute(
      "SELECT data_type, niss, data FROM carrefour_outbox WHERE status IS NULL AND data_type = :t"
      " AND niss = :n",
      {{"t", data_type}, {"n", niss}});
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->rows.size(), 1u) << data_type << " " << niss;
  const std::string data = Text(rows->rows[0][2]);
  for (const std::string& field : fields) {
    EXPECT_NE(data.find("\"" + field + "\":"), std::string::npos) << data;
    EXPECT_TRUE(definition.FindDataType(data_type)->HasField(field)) << field;
  }
}

TEST_F(DemoInstitutions, ApplicationsRecordChangesAndPublishThemThroughTheOutbox) {
  // A separate copy: these change the national register's data.
  InstitutionsLayout copy = layout();
  copy.dir = TempDir("changes");
  ASSERT_TRUE(WriteInstitutions(population(), definition(), copy).ok());
  const fs::path nr = DatabasePath(copy, "nr");
  const fs::path onss = DatabasePath(copy, "onss");
  // Its connector's statements over the outbox work with these rows.
  auto config = connector::LoadConfig(ConnectorConfigPath(copy, "nr"));
  ASSERT_TRUE(config);

  const Person& mover = Pick([](const Person& p) { return !p.bis && !p.death; });
  Address address{"Rue de la Loi 16", "1000", "Bruxelles", "BE", Region::kBrussels};
  const Date moved_on = *Date::FromCivil(2025, 9, 10);
  ASSERT_TRUE(RecordMove(nr, mover.niss, address, moved_on).ok());
  ExpectPublished(nr.string(), definition(), "person.address", mover.niss,
                  {"street", "postal_code", "municipality", "country", "since"});
  {
    auto database = connector::Database::Open("sqlite:" + nr.string());
    auto session = (*database)->Connect();
    auto selected = (*session)->Execute(config->outbox->select.sql, {{"limit", int64_t{10}}});
    ASSERT_TRUE(selected);
    EXPECT_EQ(selected->columns,
              (std::vector<std::string>{"id", "data_type", "niss", "effective", "data"}));
    ASSERT_EQ(selected->rows.size(), 1u);
    auto marked =
        (*session)->Execute(config->outbox->mark.sql, {{"id", Text(selected->rows[0][0])},
                                                       {"status", std::string("accepted")},
                                                       {"error", SqlValue()},
                                                       {"subscribers", int64_t{2}}});
    ASSERT_TRUE(marked);
    EXPECT_TRUE(
        (*session)->Execute(config->outbox->select.sql, {{"limit", int64_t{10}}})->rows.empty());
  }

  const Person& dying =
      Pick([&](const Person& p) { return !p.bis && !p.death && p.index != mover.index; });
  ASSERT_TRUE(RecordDeath(nr, dying.niss, moved_on, "Namur").ok());
  ExpectPublished(nr.string(), definition(), "person.death", dying.niss,
                  {"death_date", "municipality"});
  Status twice = RecordDeath(nr, dying.niss, moved_on, "Namur");
  EXPECT_EQ(twice.code(), StatusCode::kInvalidRequest) << twice.ToString();

  const Person& renumbered = Pick([&](const Person& p) {
    return !p.bis && !p.death && p.index != mover.index && p.index != dying.index;
  });
  const std::string new_niss = population().spare_niss[1];
  ASSERT_TRUE(RecordNissReplacement(nr, renumbered.niss, new_niss, moved_on).ok());
  ExpectPublished(nr.string(), definition(), "person.niss-replaced", renumbered.niss, {"new_niss"});
  EXPECT_EQ(RecordNissReplacement(nr, population().persons[0].niss, new_niss, moved_on).code(),
            StatusCode::kInvalidRequest);

  const Person& frontier = Pick([](const Person& p) { return p.bis && !p.employments.empty(); });
  ASSERT_TRUE(RecordRegistration(nr, frontier, *frontier.reserved_niss, address, moved_on).ok());
  ExpectPublished(nr.string(), definition(), "person.niss-replaced", frontier.niss, {"new_niss"});

  const Person& worker = Pick([](const Person& p) { return !p.wages.empty(); });
  QuarterlyWage wage = worker.wages.back();
  wage.gross_cents += 10000;
  ASSERT_TRUE(
      RecordWages(onss, worker.niss, population().employers[wage.employer].id, wage, moved_on)
          .ok());
  ExpectPublished(onss.string(), definition(), "employment.wages", worker.niss,
                  {"quarter", "employer_id", "gross_wage", "days_worked"});

  EXPECT_EQ(RecordMove(nr, population().spare_niss[2], address, moved_on).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(RecordMove(copy.dir / "missing.db", mover.niss, address, moved_on).code(),
            StatusCode::kNotFound);

  // The register now answers with the changes.
  auto database = connector::Database::Open("sqlite:" + nr.string());
  auto session = (*database)->Connect();
  for (const auto& rule : config->provide) {
    if (rule.data_type != "person.niss-replaced" && rule.data_type != "person.identity") continue;
    const std::string asked =
        rule.data_type == "person.identity" ? *frontier.reserved_niss : frontier.niss;
    auto rows = (*session)->Execute(
        rule.query.sql, {{"niss", asked}, {"from", kToday.ToString()}, {"to", kToday.ToString()}});
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->rows.size(), 1u) << rule.data_type;
    const std::string expected =
        rule.data_type == "person.identity" ? frontier.last_name : *frontier.reserved_niss;
    EXPECT_EQ(Text(rows->rows[0][0]), expected);
  }
  fs::remove_all(copy.dir);
}

TEST_F(DemoInstitutions, TheSameSeedWritesTheSameDatabases) {
  InstitutionsLayout again = layout();
  again.dir = TempDir("again");
  ASSERT_TRUE(WriteInstitutions(population(), definition(), again).ok());
  for (const char* id : kInstitutions) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ReadAll(ConnectorConfigPath(again, id)), ReadAll(ConnectorConfigPath(layout(), id)));
  }
  // Written twice from the same population: byte for byte the same file.
  InstitutionsLayout third = layout();
  third.dir = TempDir("third");
  ASSERT_TRUE(WriteInstitutions(population(), definition(), third).ok());
  for (const char* id : kInstitutions) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ReadAll(DatabasePath(again, id)), ReadAll(DatabasePath(third, id)));
  }
  fs::remove_all(again.dir);
  fs::remove_all(third.dir);
}

TEST_F(DemoInstitutions, RefusesWhatItCannotBuild) {
  InstitutionsLayout incomplete = layout();
  incomplete.dir = TempDir("refused");
  incomplete.listen.erase("sfp");
  Status missing = WriteInstitutions(population(), definition(), incomplete);
  EXPECT_EQ(missing.code(), StatusCode::kInvalidRequest);
  EXPECT_NE(missing.message().find("sfp"), std::string::npos) << missing.message();
  // Nothing was written: everything is checked first.
  EXPECT_TRUE(fs::is_empty(incomplete.dir));

  auto unknown_type = network::ParseDefinition(R"(
[[institution_type]]
id = "tax-office"
capacities = ["taxpayer"]

[[institution]]
id = "fin"
type = "tax-office"
name = "Tax office"
)",
                                               "tax.toml");
  ASSERT_TRUE(unknown_type) << unknown_type.error().ToString();
  Status refused = WriteInstitutions(population(), *unknown_type, incomplete);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidRequest);
  EXPECT_NE(refused.message().find("tax-office"), std::string::npos) << refused.message();

  auto unanswerable = network::ParseDefinition(R"(
[[institution_type]]
id = "pension-service"
capacities = ["pensioner"]

[[institution]]
id = "sfp"
type = "pension-service"
name = "Pensions"
endpoint = "https://127.0.0.1:9107"

[[data_type]]
id = "pension.career"
fields = ["years"]

[[availability]]
data_type = "pension.career"
provider_type = "pension-service"
capacity = "pensioner"
)",
                                               "career.toml");
  ASSERT_TRUE(unanswerable) << unanswerable.error().ToString();
  incomplete.listen["sfp"] = {"127.0.0.1:0", ""};
  Status cannot = WriteInstitutions(population(), *unanswerable, incomplete);
  EXPECT_EQ(cannot.code(), StatusCode::kInvalidRequest);
  EXPECT_NE(cannot.message().find("pension.career"), std::string::npos) << cannot.message();
  fs::remove_all(incomplete.dir);
}

TEST(DemoNetworkToml, PointsEachEndpointAtItsPortAndStaysValid) {
  std::map<std::string, uint16_t> ports = {
      {"nr", 41001},      {"onss", 41002},    {"capac", 41003}, {"mut-100", 41004},
      {"mut-300", 41005}, {"famiwal", 41006}, {"sfp", 41007}};
  const std::string text = DemoNetworkToml(ports);
  auto definition = network::ParseDefinition(text, "demo-network.toml");
  ASSERT_TRUE(definition) << definition.error().ToString();
  EXPECT_EQ(definition->institutions().size(), 10u);  // 8 with connectors, a research centre, a portal
  EXPECT_EQ(definition->transparency_access().size(), 1u);
  for (const network::Institution& institution : definition->institutions()) {
    SCOPED_TRACE(institution.id);
    if (institution.endpoint.empty()) continue;
    auto port = ports.find(institution.id);
    if (port != ports.end()) {
      EXPECT_EQ(institution.endpoint_host, "127.0.0.1");
      EXPECT_EQ(institution.endpoint_port, port->second);
    } else {
      EXPECT_EQ(institution.endpoint_port, 9108);  // as in examples/network.toml
    }
  }
  // Only the endpoint lines changed: same lines, so the same line numbers.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'),
            std::count(DemoNetworkTemplate().begin(), DemoNetworkTemplate().end(), '\n'));
  EXPECT_EQ(DemoNetworkToml({}), std::string(DemoNetworkTemplate()));
}

TEST(DemoNetworkToml, IsExamplesNetworkToml) {
  const char* source = std::getenv("CARREFOUR_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  // Not EXPECT_EQ: a failure would print the whole file twice.
  EXPECT_TRUE(DemoNetworkTemplate() == ReadAll(fs::path(source) / "examples/network.toml"))
      << "the embedded network differs from examples/network.toml: rebuild";
}

}  // namespace
}  // namespace carrefour::demo
