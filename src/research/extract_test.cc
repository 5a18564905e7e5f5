// SPDX-License-Identifier: EUPL-1.2
// The whole extract (and aggregates over it) against a real store, SQLite and
// PostgreSQL, with providers answering from a deterministic table through the
// ProviderGateway interface. tests/integration/research_e2e_test.cc does the
// same over real processes and real mutual TLS.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "audit/audit_log.h"
#include "exchange/consultation.h"
#include "network/loader.h"
#include "niss/niss.h"
#include "core/csv.h"
#include "research/research.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"
#include "core/testing/temp_dir.h"

namespace carrefour::research {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;

constexpr char kKey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const Date kToday = *Date::Parse("2025-06-01");

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "national-register"
[[institution_type]]
id = "collector"
capacities = ["employee"]
[[institution_type]]
id = "mutuality"
capacities = ["insured"]
[[institution_type]]
id = "university"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"
[[institution]]
id = "onss"
type = "collector"
endpoint = "https://127.0.0.1:9102"
[[institution]]
id = "mut-100"
type = "mutuality"
[[institution]]
id = "uni-a"
type = "university"
[[institution]]
id = "uni-b"
type = "university"

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]
research_fields = ["birth_date", "sex", "nationality"]
quasi_identifiers = ["birth_date"]
[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality"]
research_fields = ["postal_code"]
quasi_identifiers = ["postal_code"]
[[data_type]]
id = "person.household"
fields = ["reference_person", "members"]
research_fields = ["reference_person", "members"]
[[data_type]]
id = "employment.wages"
fields = ["quarter", "employer_id", "gross_wage"]
research_fields = ["quarter", "gross_wage"]

[[availability]]
data_type = "person.identity"
provider_type = "national-register"
[[availability]]
data_type = "person.address"
provider_type = "national-register"
[[availability]]
data_type = "person.household"
provider_type = "national-register"
[[availability]]
data_type = "employment.wages"
provider_type = "collector"
capacity = "employee"

[[research_project]]
id = "rp-a"
requester = "uni-a"
legal_basis = "ISC/25/R01"
from = 2025-01-01
to = 2025-12-31
period = { from = 2024-01-01, to = 2024-12-31 }
cohort = { institution_type = "collector", capacity = "employee" }
data = [
  { data_type = "person.identity", fields = ["birth_date", "sex", "nationality"] },
  { data_type = "person.address", fields = ["postal_code"] },
  { data_type = "person.household", fields = ["reference_person", "members"] },
  { data_type = "employment.wages", fields = ["quarter", "gross_wage"] },
]
quasi_identifier = [
  { data_type = "person.identity", field = "birth_date", coarsen = "year" },
  { data_type = "person.identity", field = "sex", coarsen = "keep" },
  { data_type = "person.address", field = "postal_code", coarsen = "region" },
]

[[research_project]]
id = "rp-b"
requester = "uni-a"
legal_basis = "ISC/25/R02"
from = 2025-01-01
period = { from = 2024-01-01, to = 2024-12-31 }
cohort = { institution = "onss", capacity = "employee" }
data = [{ data_type = "person.identity", fields = ["sex"] }]

[[research_project]]
id = "rp-list"
requester = "uni-b"
legal_basis = "ISC/25/R03"
from = 2025-01-01
period = { from = 2024-01-01, to = 2024-12-31 }
cohort = { supplied_by = "uni-b" }
data = [{ data_type = "person.identity", fields = ["sex"] }]
k = 2
)";

uint64_t Hash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

// A released value with a comma, a quote and a line break: the extract's
// files must keep it as one CSV field (RFC 4180), through the batch files,
// their merge and the aggregates.
constexpr std::string_view kOddNationality = "B\"E,\nL";
constexpr const char* kOddNationalityJson = R"(B\"E,\nL)";

// Answers every provide call from the person's number: the same answer for
// the same call, every time. Can be told to fail the calls about some
// persons (a provider that is down for them).
class TableGateway : public exchange::ProviderGateway {
 public:
  void Provide(const network::Institution& provider, std::string body, Done done) override {
    json::object request = json::parse(body).as_object();
    std::string niss(request.at("niss").as_string());
    std::string data_type(request.at("data_type").as_string());
    bool failing = false;
    {
      std::lock_guard lock(mu_);
      ++calls_;
      failing = failing_.count(niss) != 0;
      EXPECT_EQ(request.at("requester").as_string(), requester_);
      EXPECT_EQ(request.at("period").at("from").as_string(), "2024-01-01");
    }
    // Answered outside the lock: a failed call is retried from `done`.
    if (failing) {
      done(Error(Unavailable(fmt::format("{} is down", provider.id))));
      return;
    }
    niss::Number number = *niss::Parse(niss, kToday);
    uint64_t h = Hash(niss);
    std::string data;
    if (data_type == "person.identity") {
      data = fmt::format(
          R"({{"last_name": "Peeters{}", "first_names": "Anna", "birth_date": "{}", "sex": "{}", "nationality": "{}"}})",
          h % 1000, number.BirthDateText(), number.sex == niss::Sex::kMale ? "m" : "f",
          h % 4 == 0 ? kOddNationalityJson : "BE");
    } else if (data_type == "person.address") {
      data = fmt::format(
          R"({{"street": "Rue Haute {}", "postal_code": "{}", "municipality": "Somewhere"}})",
          h % 300, number.birth_year == 1990 ? "9000" : "1000");
    } else if (data_type == "person.household") {
      data = fmt::format(
          R"({{"reference_person": "{}", "members": [{{"niss": "{}", "last_name": "Peeters", "role": "self"}}]}})",
          number.Formatted(), niss);
    } else if (data_type == "employment.wages") {
      data = fmt::format(
          R"([{{"quarter": "2024Q1", "employer_id": "0123456789", "gross_wage": {}}}, {{"quarter": "2024Q2", "gross_wage": {}}}])",
          2000 + h % 2000, 2100 + h % 2000);
    }
    done(exchange::ProviderReply{200, fmt::format(R"({{"data": {}}})", data)});
  }

  void Fail(const std::string& niss) {
    std::lock_guard lock(mu_);
    failing_.insert(niss);
  }
  void Heal() {
    std::lock_guard lock(mu_);
    failing_.clear();
  }
  void set_requester(std::string requester) { requester_ = std::move(requester); }
  size_t calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> failing_;
  std::string requester_ = "uni-a";
  size_t calls_ = 0;
};

class ResearchExtractTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore(clock_);
    ASSERT_NE(store_, nullptr);
    Result<network::Definition> definition = network::ParseDefinition(kNetwork, "network.toml");
    ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
    definition_ = std::make_unique<network::Definition>(std::move(*definition));
    Result<std::unique_ptr<audit::AuditLog>> log =
        audit::AuditLog::Open(store_->audit(), {.node = "research-test"}, clock_);
    ASSERT_TRUE(log.has_value());
    audit_ = std::move(*log);
    dir_ =
        carrefour::testing::MakeTempDir("carrefour-research");
    fs::create_directories(dir_);

    // 40 employees at onss during 2024 (the cohort of rp-a), born in two
    // years; one more born in 1931, alone in its year; employees whose file
    // ended before 2024, and insured persons, who are not in the cohort.
    niss::Generator generator(42, kToday);
    std::vector<directory::EntryChange> changes;
    auto add = [&](const std::string& niss, const char* institution, const char* capacity,
                   const char* from, std::optional<const char*> to) {
      directory::EntryChange change;
      change.entry.niss = niss;
      change.entry.institution = institution;
      change.entry.capacity = capacity;
      change.entry.period.from = *Date::Parse(from);
      if (to) change.entry.period.to = *Date::Parse(*to);
      changes.push_back(change);
    };
    for (int i = 0; i < 40; ++i) {
      std::string niss = generator
                             .NextBornOn(*Date::Parse(i % 2 ? "1985-03-01" : "1990-08-15"),
                                         i % 4 < 2 ? niss::Sex::kMale : niss::Sex::kFemale)
                             ->digits;
      cohort_.push_back(niss);
      add(niss, "onss", "employee", "2020-01-01", std::nullopt);
      if (i % 3 == 0) add(niss, "mut-100", "insured", "2019-01-01", std::nullopt);
    }
    rare_ = generator.NextBornOn(*Date::Parse("1931-02-02"), niss::Sex::kFemale)->digits;
    cohort_.push_back(rare_);
    add(rare_, "onss", "employee", "2024-03-01", "2024-04-30");
    for (int i = 0; i < 5; ++i) {
      std::string niss = generator.Next().digits;
      outsiders_.push_back(niss);
      add(niss, "onss", "employee", "2015-01-01", "2022-12-31");
      niss = generator.Next().digits;
      outsiders_.push_back(niss);
      add(niss, "mut-100", "insured", "2015-01-01", std::nullopt);
    }
    Result<std::vector<directory::EntryResult>> applied =
        store_->directory().ApplyEntryChanges(changes);
    ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
    for (const directory::EntryResult& result : *applied)
      ASSERT_TRUE(result.status.ok()) << result.status.ToString();
    std::sort(cohort_.begin(), cohort_.end());
  }

  void TearDown() override {
    audit_.reset();
    store_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
    StoreTest::TearDown();
  }

  ExtractContext Context() {
    return ExtractContext{*definition_, *store_, *audit_, gateway_, kKey, clock_};
  }

  Result<ExtractReport> Extract(const std::string& project, const std::string& out,
                                size_t batch_size = 7, size_t max_batches = 0,
                                const std::string& as = "uni-a") {
    ExtractOptions options;
    options.project = project;
    options.as = as;
    options.out = dir_ / out;
    options.batch_size = batch_size;
    options.concurrency = 5;
    options.retries = 1;
    options.max_batches = max_batches;
    return RunExtract(Context(), options);
  }

  // Every file under `folder`, as bytes.
  static std::string AllBytes(const fs::path& folder) {
    if (fs::is_regular_file(folder)) {
      std::ifstream in(folder, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string bytes;
    for (const auto& entry : fs::recursive_directory_iterator(folder)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      bytes += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return bytes;
  }

  // A data type's file: its header, then its rows.
  static std::vector<std::vector<std::string>> ReadCsv(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> fields;
    size_t pos = 0;
    while (*csv::NextRecord(text, &pos, &fields)) rows.push_back(fields);
    return rows;
  }

  static std::set<std::string> Pseudonyms(const fs::path& file) {
    std::set<std::string> out;
    auto rows = ReadCsv(file);
    for (size_t i = 1; i < rows.size(); ++i) out.insert(rows[i][0]);
    return out;
  }

  ManualClock clock_{kToday};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<network::Definition> definition_;
  std::unique_ptr<audit::AuditLog> audit_;
  TableGateway gateway_;
  fs::path dir_;
  std::vector<std::string> cohort_;  // sorted
  std::string rare_;
  std::vector<std::string> outsiders_;
};

TEST_P(ResearchExtractTest, CohortSelectionPagesThroughTheDirectory) {
  const std::vector<std::string> onss = {"onss"};
  const Period year2024{*Date::Parse("2024-01-01"), *Date::Parse("2024-12-31")};
  std::vector<std::string> all;
  std::string after;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 1000) << "paging never ends (after " << after << ")";
    Result<std::vector<std::string>> page =
        store_->directory().PersonsWithEntries(onss, "employee", year2024, after, 7);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    all.insert(all.end(), page->begin(), page->end());
    if (page->size() < 7) break;
    after = page->back();
  }
  EXPECT_EQ(all, cohort_);  // ascending, distinct, only the 2024 employees

  // Files ended before the period, another capacity, other institutions.
  const Period year2021{*Date::Parse("2021-01-01"), *Date::Parse("2021-12-31")};
  Result<std::vector<std::string>> in2021 =
      store_->directory().PersonsWithEntries(onss, "employee", year2021, "", 1000);
  ASSERT_TRUE(in2021.has_value());
  EXPECT_EQ(in2021->size(), 45u);  // 40 open-ended + the 5 ended in 2022
  Result<std::vector<std::string>> insured =
      store_->directory().PersonsWithEntries(onss, "insured", year2024, "", 1000);
  ASSERT_TRUE(insured.has_value());
  EXPECT_TRUE(insured->empty());
  const std::vector<std::string> mutualities = {"mut-100", "mut-300"};
  Result<std::vector<std::string>> members =
      store_->directory().PersonsWithEntries(mutualities, "insured", year2024, "", 1000);
  ASSERT_TRUE(members.has_value());
  EXPECT_EQ(members->size(), 14u + 5u);
  Result<std::vector<std::string>> bad =
      store_->directory().PersonsWithEntries(onss, "employee", year2024, "123", 10);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidNiss);

  // The entries of a batch of persons, in one read.
  std::vector<std::string> batch = {cohort_[3], rare_, outsiders_[1]};
  Result<std::vector<directory::Entry>> entries = store_->directory().EntriesOfPersons(batch);
  ASSERT_TRUE(entries.has_value()) << entries.error().ToString();
  std::map<std::string, size_t> per_person;
  for (const directory::Entry& entry : *entries) ++per_person[entry.niss];
  EXPECT_EQ(per_person[rare_], 1u);
  EXPECT_EQ(per_person[outsiders_[1]], 1u);
  EXPECT_TRUE(std::is_sorted(
      entries->begin(), entries->end(),
      [](const directory::Entry& a, const directory::Entry& b) { return a.niss < b.niss; }));
}

TEST_P(ResearchExtractTest, NoNationalNumberNorDirectIdentifierInTheBytes) {
  Result<ExtractReport> report = Extract("rp-a", "a");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->complete);
  EXPECT_EQ(report->cohort_size, cohort_.size());
  // Wages only where onss holds a file: every cohort member is an employee.
  EXPECT_EQ(report->provider_calls, cohort_.size() * 4);

  const fs::path out = dir_ / "a";
  for (const char* file : {"person.identity.csv", "person.address.csv", "person.household.csv",
                           "employment.wages.csv", "dictionary.csv", "report.json"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  EXPECT_FALSE(fs::exists(out / "work"));  // the resume state is gone once complete
  const std::string bytes = AllBytes(out);
  for (const std::vector<std::string>* numbers : {&cohort_, &outsiders_}) {
    for (const std::string& niss : *numbers) {
      EXPECT_EQ(bytes.find(niss), std::string::npos) << niss;
      EXPECT_EQ(bytes.find(niss::Parse(niss, kToday)->Formatted()), std::string::npos) << niss;
    }
  }
  for (const char* identifier : {"Peeters", "Anna", "Rue Haute", "last_name", "street", kKey}) {
    EXPECT_EQ(bytes.find(identifier), std::string::npos) << identifier;
  }
  // The household's numbers became the project's pseudonyms: the reference
  // person is the person themself here.
  auto households = ReadCsv(out / "person.household.csv");
  ASSERT_GT(households.size(), 1u);
  EXPECT_EQ(households[0],
            (std::vector<std::string>{"pseudonym", "provider", "reference_person", "members"}));
  for (size_t i = 1; i < households.size(); ++i) {
    EXPECT_EQ(households[i][2], households[i][0]);
    EXPECT_THAT(households[i][3], HasSubstr(households[i][0]));
  }
  // Coarsened as declared: years, regions.
  auto identities = ReadCsv(out / "person.identity.csv");
  for (size_t i = 1; i < identities.size(); ++i)
    EXPECT_EQ(identities[i][2].size(), 4u) << identities[i][2];
  auto addresses = ReadCsv(out / "person.address.csv");
  for (size_t i = 1; i < addresses.size(); ++i) {
    EXPECT_TRUE(addresses[i][2] == "Brussels" || addresses[i][2] == "Flanders") << addresses[i][2];
  }
  // Wages: two rows a person, amounts as they came.
  auto wages = ReadCsv(out / "employment.wages.csv");
  EXPECT_EQ(wages.size(), 1 + 2 * report->persons_released);
}

TEST_P(ResearchExtractTest, PseudonymsStableWithinAProjectAndUnlinkableAcross) {
  Result<ExtractReport> first = Extract("rp-a", "a1", 7);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  Result<ExtractReport> again = Extract("rp-a", "a2", 13);  // other batches, same persons
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  Result<ExtractReport> other = Extract("rp-b", "b");
  ASSERT_TRUE(other.has_value()) << other.error().ToString();

  std::set<std::string> a1 = Pseudonyms(dir_ / "a1" / "person.identity.csv");
  std::set<std::string> a2 = Pseudonyms(dir_ / "a2" / "person.identity.csv");
  std::set<std::string> b = Pseudonyms(dir_ / "b" / "person.identity.csv");
  EXPECT_EQ(a1.size(), first->persons_released);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(b.size(), cohort_.size());
  std::vector<std::string> shared;
  std::set_intersection(a1.begin(), a1.end(), b.begin(), b.end(), std::back_inserter(shared));
  EXPECT_TRUE(shared.empty());
  // The same person in both, by the project keys.
  EXPECT_EQ(b.count(Pseudonymizer(kKey, "rp-b").Pseudonym(cohort_[0])), 1u);
}

TEST_P(ResearchExtractTest, ARareCombinationIsNotReleasedAsItIs) {
  Result<ExtractReport> report = Extract("rp-a", "a");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  // The one person born in 1931 is alone in every group: suppressed (1 of
  // 41 is within the 5 % budget), and reported.
  EXPECT_EQ(report->persons_suppressed, 1u);
  EXPECT_EQ(report->persons_released, cohort_.size() - 1);
  std::string rare = Pseudonymizer(kKey, "rp-a").Pseudonym(rare_);
  for (const char* file : {"person.identity.csv", "person.address.csv", "employment.wages.csv"}) {
    EXPECT_EQ(Pseudonyms(dir_ / "a" / file).count(rare), 0u) << file;
  }
  std::string json_report = AllBytes(dir_ / "a" / "report.json");
  EXPECT_THAT(json_report, HasSubstr("\"persons_suppressed\":1"));

  // k-anonymity on the released files: (birth year, sex, region) is shared
  // by at least k = 5 persons.
  std::map<std::string, std::string> identity, region;
  auto identities = ReadCsv(dir_ / "a" / "person.identity.csv");
  for (size_t i = 1; i < identities.size(); ++i)
    identity[identities[i][0]] = identities[i][2] + "/" + identities[i][3];
  auto addresses = ReadCsv(dir_ / "a" / "person.address.csv");
  for (size_t i = 1; i < addresses.size(); ++i) region[addresses[i][0]] = addresses[i][2];
  std::map<std::string, size_t> groups;
  for (const auto& [pseudonym, qi] : identity) ++groups[qi + "/" + region[pseudonym]];
  for (const auto& [key, size] : groups) EXPECT_GE(size, 5u) << key;
  EXPECT_EQ(report->smallest_group,
            std::min_element(groups.begin(), groups.end(), [](auto& a, auto& b) {
              return a.second < b.second;
            })->second);
}

TEST_P(ResearchExtractTest, AnInterruptedExtractResumesWithoutDuplicates) {
  // Stopped after two batches of 7...
  Result<ExtractReport> partial = Extract("rp-a", "a", 7, 2);
  ASSERT_TRUE(partial.has_value()) << partial.error().ToString();
  EXPECT_FALSE(partial->complete);
  EXPECT_EQ(partial->persons_done, 14u);
  EXPECT_FALSE(fs::exists(dir_ / "a" / "report.json"));
  // ...then a provider fails for one person of the next batches: the run
  // stops, the batches before stay.
  Pseudonymizer pseudonyms(kKey, "rp-a");
  std::vector<std::string> by_pseudonym = cohort_;
  std::sort(by_pseudonym.begin(), by_pseudonym.end(),
            [&](const std::string& a, const std::string& b) {
              return pseudonyms.Pseudonym(a) < pseudonyms.Pseudonym(b);
            });
  gateway_.Fail(by_pseudonym[30]);
  Result<ExtractReport> failed = Extract("rp-a", "a", 7);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(failed.error().message(), HasSubstr("run it again to resume"));
  // ...and the run after finishes the rest.
  gateway_.Heal();
  const size_t calls_before = gateway_.calls();
  Result<ExtractReport> rest = Extract("rp-a", "a", 7);
  ASSERT_TRUE(rest.has_value()) << rest.error().ToString();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->batches_resumed, 4u);  // 2 + the 2 before the failing one
  EXPECT_EQ(gateway_.calls() - calls_before, (cohort_.size() - 28) * 4);

  auto identities = ReadCsv(dir_ / "a" / "person.identity.csv");
  std::set<std::string> seen;
  for (size_t i = 1; i < identities.size(); ++i) {
    EXPECT_TRUE(seen.insert(identities[i][0]).second) << "twice: " << identities[i][0];
  }
  EXPECT_EQ(seen.size(), cohort_.size() - 1);  // all but the suppressed one
  EXPECT_EQ(ReadCsv(dir_ / "a" / "employment.wages.csv").size(), 1 + 2 * seen.size());

  // A complete folder is not run again.
  Result<ExtractReport> done = Extract("rp-a", "a");
  ASSERT_FALSE(done.has_value());
  EXPECT_THAT(done.error().message(), HasSubstr("complete extract already"));
  // Nor is another project's folder reused.
  Result<ExtractReport> partial_b = Extract("rp-b", "b", 5, 1);
  ASSERT_TRUE(partial_b.has_value());
  Result<ExtractReport> wrong = Extract("rp-a", "b");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_THAT(wrong.error().message(), HasSubstr("another research project"));
}

TEST_P(ResearchExtractTest, AnInstitutionWithoutTheLegalBasisCannotRunIt) {
  Result<ExtractReport> refused = Extract("rp-a", "a", 7, 0, "uni-b");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kNotAuthorized);
  EXPECT_THAT(refused.error().message(), HasSubstr("ISC/25/R01"));
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  EXPECT_EQ(gateway_.calls(), 0u);
  audit_.reset();  // flush
  audit::Query query;
  query.requester = "uni-b";
  query.kind = audit::Kind::kResearch;
  Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(query);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().outcome, StatusCode::kNotAuthorized);
  EXPECT_EQ(records->front().legal_basis, "ISC/25/R01");

  Result<ExtractReport> unknown = Extract("rp-zzz", "z");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
}

TEST_P(ResearchExtractTest, EveryPersonSeesTheProjectInTheAuditNeverThePseudonym) {
  Result<ExtractReport> report = Extract("rp-a", "a");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  audit_.reset();  // flush
  const std::string pseudonym = Pseudonymizer(kKey, "rp-a").Pseudonym(cohort_[5]);
  audit::Query query;
  query.niss = cohort_[5];
  query.kind = audit::Kind::kResearch;
  Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(query);
  ASSERT_TRUE(records.has_value());
  ASSERT_EQ(records->size(), 1u);
  const audit::Record& record = records->front();
  EXPECT_EQ(record.reason, "used in research project rp-a");
  EXPECT_EQ(ResearchProjectOf(record.detail), "rp-a");
  EXPECT_EQ(record.requester, "uni-a");
  EXPECT_EQ(record.legal_basis, "ISC/25/R01");
  EXPECT_EQ(record.data_type, "person.identity,person.address,person.household,employment.wages");
  for (const std::string& field :
       {record.reason, record.detail, record.providers, record.request_id}) {
    EXPECT_EQ(field.find(pseudonym), std::string::npos);
  }
  // An outsider has nothing of the kind.
  query.niss = outsiders_[0];
  records = store_->audit().QueryAudit(query);
  ASSERT_TRUE(records.has_value());
  EXPECT_TRUE(records->empty());
  // The extract itself: project, legal basis, cohort size, data types.
  query.niss.clear();
  query.requester = "uni-a";
  records = store_->audit().QueryAudit(query);
  ASSERT_TRUE(records.has_value());
  bool summary = false;
  for (const audit::Record& r : *records) {
    if (r.niss.empty() && r.reason == "research extract of project rp-a complete") {
      summary = true;
      EXPECT_THAT(r.detail, HasSubstr(fmt::format("cohort={}", cohort_.size())));
      EXPECT_EQ(r.legal_basis, "ISC/25/R01");
    }
  }
  EXPECT_TRUE(summary);
  Result<audit::VerifyReport> verified = audit::Verify(store_->audit());
  ASSERT_TRUE(verified.has_value());
  EXPECT_TRUE(verified->ok) << verified->first_bad;
}

TEST_P(ResearchExtractTest, ASuppliedListIsCheckedWhole) {
  gateway_.set_requester("uni-b");
  ExtractOptions options;
  options.project = "rp-list";
  options.as = "uni-b";
  options.out = dir_ / "list";
  options.supplied_cohort = {niss::Parse(cohort_[0], kToday)->Formatted(), "12345678901",
                             cohort_[1], cohort_[0]};
  Result<ExtractReport> refused = RunExtract(Context(), options);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidRequest);
  EXPECT_THAT(refused.error().message(), HasSubstr("number 2"));
  EXPECT_EQ(refused.error().message().find("12345678901"), std::string::npos);
  EXPECT_EQ(gateway_.calls(), 0u);

  options.supplied_cohort = {niss::Parse(cohort_[0], kToday)->Formatted(), cohort_[1], cohort_[0],
                             cohort_[2], cohort_[3]};
  Result<ExtractReport> report = RunExtract(Context(), options);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_EQ(report->cohort_size, 4u);  // duplicates once
}

TEST_P(ResearchExtractTest, QuotedCommasQuotesAndLineBreaksStayOneField) {
  Result<ExtractReport> report = Extract("rp-a", "a");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  // One row a released person: a line break inside a quoted field does not
  // start a row, a comma does not start a field.
  auto identities = ReadCsv(dir_ / "a" / "person.identity.csv");
  ASSERT_EQ(identities.size(), 1 + report->persons_released);
  ASSERT_EQ(identities[0].back(), "nationality");
  size_t odd = 0;
  for (size_t i = 1; i < identities.size(); ++i) {
    ASSERT_EQ(identities[i].size(), identities[0].size());
    EXPECT_TRUE(identities[i].back() == "BE" || identities[i].back() == kOddNationality)
        << identities[i].back();
    odd += identities[i].back() == kOddNationality;
  }
  EXPECT_GT(odd, 0u);
  // The aggregates read the same files with the same reader.
  AggregateOptions options;
  options.extract = dir_ / "a";
  options.by = {"person.identity.nationality"};
  Result<AggregateTable> table =
      Aggregate(*definition_->FindResearchProject("rp-a"), options);
  ASSERT_TRUE(table.has_value()) << table.error().ToString();
  std::map<std::string, size_t> persons;
  for (const AggregateCell& cell : table->cells) persons[cell.key[0]] = cell.persons;
  EXPECT_EQ(persons["BE"], report->persons_released - odd);
  EXPECT_EQ(persons[std::string(kOddNationality)], odd);
}

TEST_P(ResearchExtractTest, AggregatesNeverShowASmallCell) {
  Result<ExtractReport> report = Extract("rp-a", "a");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  const network::ResearchProject& project = *definition_->FindResearchProject("rp-a");
  AggregateOptions options;
  options.extract = dir_ / "a";
  options.by = {"person.identity.birth_date", "person.address.postal_code",
                "employment.wages.quarter"};
  options.sum = "employment.wages.gross_wage";
  Result<AggregateTable> table = Aggregate(project, options);
  ASSERT_TRUE(table.has_value()) << table.error().ToString();
  EXPECT_EQ(table->k, 5);
  size_t published = 0;
  for (const AggregateCell& cell : table->cells) {
    if (cell.suppressed) continue;
    ++published;
    EXPECT_GE(cell.persons, 5u);
  }
  EXPECT_GT(published, 0u);
  // The grand total: everybody released, all their wages.
  const AggregateCell& total = table->cells.back();
  EXPECT_EQ(total.key, std::vector<std::string>(3, std::string(AggregateTable::kTotal)));
  EXPECT_EQ(total.persons, report->persons_released);
  std::string csv = table->ToCsv();
  EXPECT_THAT(csv, HasSubstr("person.identity.birth_date,person.address.postal_code,"
                             "employment.wages.quarter,persons,sum_gross_wage,status\n"));

  // An option may raise k, never lower it below the project's.
  options.k = 2;
  Result<AggregateTable> lowered = Aggregate(project, options);
  ASSERT_TRUE(lowered.has_value()) << lowered.error().ToString();
  EXPECT_EQ(lowered->k, 5);
  for (const AggregateCell& cell : lowered->cells) {
    if (!cell.suppressed) {
      EXPECT_GE(cell.persons, 5u);
    }
  }
  options.k = 0;

  options.by = {"person.identity.last_name"};
  Result<AggregateTable> bad = Aggregate(project, options);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidRequest);
  options.by = {"person.identity.sex"};
  options.sum = "person.identity.nationality";
  Result<AggregateTable> not_numbers = Aggregate(project, options);
  ASSERT_FALSE(not_numbers.has_value());
  EXPECT_THAT(not_numbers.error().message(), HasSubstr("not a number"));
}

INSTANTIATE_TEST_SUITE_P(Engines, ResearchExtractTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::research
