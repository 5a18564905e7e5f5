// SPDX-License-Identifier: EUPL-1.2
// The consultation pipeline's rules without processes or network: providers
// are fakes behind ProviderGateway, the store is a real SQLite database, the
// audit log a real one (over a storage that can be made to fail). Written
// against the service's behaviour — the request body in, the status and JSON
// answer out, what providers receive, what the audit log holds — not its
// internals.

#include "exchange/consultation.h"

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "replica/directory_replica.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::exchange {
namespace {
namespace json = boost::json;

constexpr char kAnna[] = "85073003328";
constexpr char kBruno[] = "17073003384";  // nobody holds a file on him

// nr is the authentic source of addresses, onss and onss-b both of wages.
// mut-100 (insured) may see two of the four address fields and two of the
// three wage fields.
constexpr char kNetwork[] = R"(
[[institution_type]]
id = "national-register"

[[institution_type]]
id = "contribution-collector"

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "onss"
type = "contribution-collector"
endpoint = "https://127.0.0.1:9102"

[[institution]]
id = "onss-b"
type = "contribution-collector"
endpoint = "https://127.0.0.1:9103"

[[institution]]
id = "mut-100"
type = "mutuality"
endpoint = "https://127.0.0.1:9104"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country"]

[[data_type]]
id = "employment.wages"
fields = ["quarter", "gross", "employer"]

[[data_type]]
id = "nobody.holds"
fields = ["x"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[availability]]
data_type = "employment.wages"
provider_type = "contribution-collector"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street", "postal_code"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[authorization]]
data_type = "employment.wages"
requester_type = "mutuality"
capacity = "insured"
fields = ["quarter", "gross"]
legal_basis = "ISC/24/002"
from = 2020-01-01

[[authorization]]
data_type = "nobody.holds"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/003"
from = 2020-01-01
)";

// Providers that answer what each test tells them to, and remember what
// they were sent.
class FakeProviders : public ProviderGateway {
 public:
  void Provide(const network::Institution& provider, std::string body, Done done) override {
    Result<ProviderReply> reply = tl::unexpected(Unavailable("no answer configured"));
    {
      std::lock_guard lock(mu_);
      calls_[provider.id].push_back(std::move(body));
      auto it = replies_.find(provider.id);
      if (it != replies_.end()) reply = it->second;
    }
    done(std::move(reply));
  }

  void Answer(const std::string& provider, Result<ProviderReply> reply) {
    std::lock_guard lock(mu_);
    replies_.insert_or_assign(provider, std::move(reply));
  }
  std::vector<std::string> Calls(const std::string& provider) {
    std::lock_guard lock(mu_);
    return calls_[provider];
  }
  size_t TotalCalls() {
    std::lock_guard lock(mu_);
    size_t total = 0;
    for (const auto& [id, calls] : calls_) total += calls.size();
    return total;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Result<ProviderReply>> replies_;
  std::map<std::string, std::vector<std::string>> calls_;
};

// The store's audit storage, which a test can make refuse every write.
class BreakableAuditStorage : public audit::AuditStorage {
 public:
  explicit BreakableAuditStorage(audit::AuditStorage& real) : real_(real) {}
  void Break() { broken_ = true; }

  Status AppendAudit(std::span<const audit::Record> records, const audit::Checkpoint& checkpoint) override {
    if (broken_) return Unavailable("disk full (test)");
    return real_.AppendAudit(records, checkpoint);
  }
  Result<std::vector<audit::Checkpoint>> AuditCheckpoints() override { return real_.AuditCheckpoints(); }
  Result<std::vector<audit::Checkpoint>> AuditCheckpointHistory(std::string_view node) override {
    return real_.AuditCheckpointHistory(node);
  }
  Result<std::vector<audit::Checkpoint>> LegacyAuditCheckpoints() override {
    return real_.LegacyAuditCheckpoints();
  }
  Result<std::vector<std::string>> AuditNodes() override { return real_.AuditNodes(); }
  Result<audit::NodeKey> PublishAuditKey(const audit::NodeKey& key) override {
    return real_.PublishAuditKey(key);
  }
  Result<std::vector<audit::NodeKey>> AuditKeys() override { return real_.AuditKeys(); }
  Result<std::string> PersonIndexKey(std::string_view candidate) override {
    return real_.PersonIndexKey(candidate);
  }
  Result<std::vector<audit::Record>> ReadAudit(std::string_view node, int64_t from_seq, size_t limit) override {
    return real_.ReadAudit(node, from_seq, limit);
  }
  Result<std::vector<audit::Record>> QueryAudit(const audit::Query& query) override {
    return real_.QueryAudit(query);
  }

 private:
  audit::AuditStorage& real_;
  std::atomic<bool> broken_{false};
};

ProviderReply Ok(std::string data) { return ProviderReply{200, fmt::format(R"({{"data": {}}})", data)}; }

class ConsultationTest : public store::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = OpenTestStore(clock_);
    ASSERT_NE(store_, nullptr);
    Result<network::Definition> definition = network::ParseDefinition(kNetwork, "test.toml");
    ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
    engine_ = std::make_shared<directory::DecisionEngine>(
        std::make_shared<const network::Definition>(std::move(*definition)));
    storage_ = std::make_unique<BreakableAuditStorage>(store_->audit());
    Result<std::unique_ptr<audit::AuditLog>> audit = audit::AuditLog::Open(*storage_, {.node = "test"}, clock_);
    ASSERT_TRUE(audit.has_value()) << audit.error().ToString();
    audit_ = std::move(*audit);
    service_ = std::make_unique<ConsultationService>([this] { return engine_; }, *store_, *audit_, providers_, clock_);
    directory::Entry insured{kAnna, "mut-100", "insured", Period{*Date::Parse("2020-01-01"), {}}};
    ASSERT_TRUE(store_->directory()
                    .ApplyEntryChanges(std::vector<directory::EntryChange>{{directory::EntryAction::kAdd, insured}})
                    .has_value());
  }
  void TearDown() override {
    service_.reset();
    audit_.reset();
    storage_.reset();
    store_.reset();
    StoreTest::TearDown();
  }

  struct Answer {
    int status = 0;
    json::value body;
    std::string raw;
    // Audit records of the request at the moment the answer was handed over.
    std::vector<audit::Record> audited_before_answer;
  };

  Answer Consult(std::string_view body, std::string_view caller = "mut-100") {
    std::promise<Answer> promise;
    service_->Consult(caller, body, [&](Reply reply) {
      Answer answer;
      answer.status = reply.status;
      answer.raw = reply.body;
      boost::system::error_code ec;
      answer.body = json::parse(reply.body, ec);
      EXPECT_FALSE(ec) << reply.body;
      answer.audited_before_answer = Records();
      promise.set_value(std::move(answer));
    });
    return promise.get_future().get();
  }

  std::vector<audit::Record> Records() {
    audit::Query query;
    query.limit = 1000;
    Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(query);
    EXPECT_TRUE(records) << records.error().ToString();
    return records ? *records : std::vector<audit::Record>();
  }

  static std::map<std::string, json::object> ByProvider(const json::value& answer) {
    std::map<std::string, json::object> out;
    for (const json::value& result : answer.at("results").as_array()) {
      out[std::string(result.at("provider").as_string())] = result.as_object();
    }
    return out;
  }

  ManualClock clock_{*Date::Parse("2024-06-01")};
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const directory::DecisionEngine> engine_;
  std::unique_ptr<BreakableAuditStorage> storage_;
  std::unique_ptr<audit::AuditLog> audit_;
  FakeProviders providers_;
  std::unique_ptr<ConsultationService> service_;
};

// What a provider sends beyond the authorized fields never leaves the hub;
// a caller's narrower "fields" narrows the answer and the provide call.
TEST_P(ConsultationTest, OnlyAuthorizedAndRequestedFieldsLeaveTheHub) {
  providers_.Answer("nr", Ok(R"({"street": "Rue Neuve 1", "postal_code": "5000",
                                  "municipality": "Namur", "country": "BE", "secret": "x"})"));
  Answer all = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(all.body.at("status"), "ok");
  EXPECT_EQ(all.body.at("legal_basis"), "ISC/24/001");
  EXPECT_EQ(ByProvider(all.body).at("nr").at("data"),
            (json::object{{"street", "Rue Neuve 1"}, {"postal_code", "5000"}}))
      << all.raw;

  Answer narrowed =
      Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}", "fields": ["postal_code"]}})", kAnna));
  ASSERT_EQ(narrowed.status, 200) << narrowed.raw;
  EXPECT_EQ(ByProvider(narrowed.body).at("nr").at("data"), (json::object{{"postal_code", "5000"}})) << narrowed.raw;

  // The provide calls name the fields, the requester and the legal basis.
  std::vector<std::string> calls = providers_.Calls("nr");
  ASSERT_EQ(calls.size(), 2u);
  json::value first = json::parse(calls[0]);
  EXPECT_EQ(first.at("fields"), (json::array{"street", "postal_code"})) << calls[0];
  EXPECT_EQ(first.at("requester"), "mut-100");
  EXPECT_EQ(first.at("legal_basis"), "ISC/24/001");
  EXPECT_EQ(first.at("niss"), kAnna);
  EXPECT_EQ(json::parse(calls[1]).at("fields"), (json::array{"postal_code"})) << calls[1];
}

TEST_P(ConsultationTest, ListsAreFilteredItemByItem) {
  providers_.Answer("onss", Ok(R"([{"quarter": "2024Q1", "gross": 3100.5, "employer": "0123"},
                                   {"quarter": "2024Q2", "gross": 3200, "employer": "0123"}])"));
  providers_.Answer("onss-b", ProviderReply{404, R"({"error": {"code": "no-data", "message": "none"}})"});
  Answer answer = Consult(fmt::format(R"({{"data_type": "employment.wages", "niss": "{}"}})", kAnna));
  ASSERT_EQ(answer.status, 200) << answer.raw;
  EXPECT_EQ(answer.body.at("status"), "ok");
  auto results = ByProvider(answer.body);
  EXPECT_EQ(results.at("onss").at("data"),
            (json::array{json::object{{"quarter", "2024Q1"}, {"gross", 3100.5}},
                         json::object{{"quarter", "2024Q2"}, {"gross", 3200}}}))
      << answer.raw;
  EXPECT_EQ(results.at("onss-b").at("status"), "no-data");
  EXPECT_FALSE(results.at("onss-b").contains("data"));
}

// One provider failing makes the answer partial; every provider failing
// makes it 503 unavailable, with each provider's reason.
TEST_P(ConsultationTest, ProviderFailuresGivePartialThenUnavailable) {
  providers_.Answer("onss", Ok(R"([{"quarter": "2024Q1", "gross": 1}])"));
  providers_.Answer("onss-b", tl::unexpected(Status(StatusCode::kTimeout, "the provider did not answer in time")));
  Answer partial = Consult(fmt::format(R"({{"data_type": "employment.wages", "niss": "{}"}})", kAnna));
  ASSERT_EQ(partial.status, 200) << partial.raw;
  EXPECT_EQ(partial.body.at("status"), "partial");
  auto results = ByProvider(partial.body);
  EXPECT_EQ(results.at("onss").at("status"), "ok");
  EXPECT_EQ(results.at("onss-b").at("status"), "error");
  EXPECT_EQ(results.at("onss-b").at("error").at("code"), "timeout") << partial.raw;

  providers_.Answer("onss", ProviderReply{500, R"({"error": {"code": "internal"}})"});
  Answer unavailable = Consult(fmt::format(R"({{"data_type": "employment.wages", "niss": "{}"}})", kAnna));
  ASSERT_EQ(unavailable.status, 503) << unavailable.raw;
  EXPECT_EQ(unavailable.body.at("status"), "unavailable");
  EXPECT_EQ(unavailable.body.at("error").at("code"), "unavailable");
  results = ByProvider(unavailable.body);
  EXPECT_EQ(results.at("onss").at("error").at("code"), "unavailable");
  EXPECT_NE(std::string(results.at("onss").at("error").at("message").as_string()).find("500"), std::string::npos)
      << unavailable.raw;
  EXPECT_EQ(results.at("onss-b").at("error").at("code"), "timeout");
}

// What a provider may not answer: each is an error for that provider, with
// the reason, never passed on.
TEST_P(ConsultationTest, MalformedProviderAnswersAreErrorsWithTheirReason) {
  struct Row {
    std::string name;
    ProviderReply reply;
    std::string reason;
  };
  const Row rows[] = {
      {"not JSON", {200, "<html>"}, "not JSON"},
      {"no data", {200, R"({"result": {}})"}, "no 'data'"},
      {"data a string", {200, R"({"data": "Rue Neuve 1"})"}, "neither an object nor a list"},
      {"list of strings", {200, R"({"data": ["Rue Neuve 1"]})"}, "something else than objects"},
      {"404 without no-data", {404, R"({"error": {"code": "not-found"}})"}, "404 without the no-data code"},
      {"redirect", {302, ""}, "HTTP 302"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    providers_.Answer("nr", row.reply);
    Answer answer = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
    ASSERT_EQ(answer.status, 503) << answer.raw;
    const std::map<std::string, json::object> results = ByProvider(answer.body);
    const json::object& nr = results.at("nr");
    EXPECT_EQ(nr.at("status"), "error");
    EXPECT_EQ(nr.at("error").at("code"), "unavailable");
    EXPECT_NE(std::string(nr.at("error").at("message").as_string()).find(row.reason), std::string::npos)
        << answer.raw;
    EXPECT_FALSE(nr.contains("data"));
  }
}

TEST_P(ConsultationTest, NoProviderOrOnlyNoDataIsNoDataInNetwork) {
  Answer nobody = Consult(fmt::format(R"({{"data_type": "nobody.holds", "niss": "{}"}})", kAnna));
  ASSERT_EQ(nobody.status, 200) << nobody.raw;
  EXPECT_EQ(nobody.body.at("status"), "no-data-in-network");
  EXPECT_TRUE(nobody.body.at("results").as_array().empty());
  EXPECT_EQ(providers_.TotalCalls(), 0u);

  providers_.Answer("nr", ProviderReply{404, R"({"error": {"code": "no-data"}})"});
  Answer none = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  ASSERT_EQ(none.status, 200) << none.raw;
  EXPECT_EQ(none.body.at("status"), "no-data-in-network");
  EXPECT_EQ(ByProvider(none.body).at("nr").at("status"), "no-data");
}

// The answer leaves only once its audit record is durable; when the record
// cannot be written, the caller gets 503 and none of the data.
TEST_P(ConsultationTest, AnAnswerLeavesOnlyAfterItsAuditRecordAndNeverWithoutIt) {
  providers_.Answer("nr", Ok(R"({"street": "Rue Neuve 1", "postal_code": "5000"})"));
  Answer answered = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  ASSERT_EQ(answered.status, 200) << answered.raw;
  ASSERT_EQ(answered.audited_before_answer.size(), 1u);
  const audit::Record& record = answered.audited_before_answer[0];
  EXPECT_EQ(record.kind, audit::Kind::kConsultation);
  EXPECT_EQ(record.request_id, std::string(answered.body.at("request_id").as_string()));
  EXPECT_EQ(record.requester, "mut-100");
  EXPECT_EQ(record.niss, kAnna);
  EXPECT_EQ(record.data_type, "person.address");
  EXPECT_EQ(record.legal_basis, "ISC/24/001");
  EXPECT_EQ(record.outcome, StatusCode::kOk);
  EXPECT_EQ(record.providers, "nr:ok");
  EXPECT_EQ(record.answer_sha256, audit::Sha256Hex(answered.raw));
  // Of the data, only the digest.
  EXPECT_EQ(record.reason.find("Rue Neuve"), std::string::npos);
  EXPECT_EQ(record.detail.find("Rue Neuve"), std::string::npos);

  storage_->Break();
  Answer refused = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna));
  EXPECT_EQ(refused.status, 503) << refused.raw;
  EXPECT_EQ(refused.body.at("error").at("code"), "unavailable");
  EXPECT_NE(std::string(refused.body.at("error").at("message").as_string()).find("audit"), std::string::npos);
  EXPECT_EQ(refused.raw.find("Rue Neuve"), std::string::npos) << refused.raw;
  EXPECT_FALSE(refused.body.as_object().contains("results"));
}

// Refusals are answered with their error code (docs/api.md), audited, and reach no provider.
TEST_P(ConsultationTest, RefusalsAreAuditedAndReachNoProvider) {
  struct Row {
    std::string body;
    int status;
    std::string code;
  };
  const Row rows[] = {
      {"not json", 400, "invalid-json"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "shoe": 1}})", kAnna), 400, "invalid-request"},
      {R"({"data_type": "person.address", "niss": "85073003329"})", 400, "invalid-niss"},
      {fmt::format(R"({{"data_type": "person.shoe", "niss": "{}"}})", kAnna), 404, "unknown-data-type"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kBruno), 403, "not-integrated"},
      {fmt::format(R"({{"data_type": "person.address", "niss": "{}", "fields": ["municipality"]}})", kAnna), 403,
       "not-authorized"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.body);
    Answer answer = Consult(row.body);
    EXPECT_EQ(answer.status, row.status) << answer.raw;
    EXPECT_EQ(answer.body.at("error").at("code"), row.code.c_str()) << answer.raw;
  }
  EXPECT_EQ(providers_.TotalCalls(), 0u);
  std::vector<audit::Record> records = Records();
  ASSERT_EQ(records.size(), std::size(rows));
  for (const audit::Record& record : records) {
    EXPECT_NE(record.outcome, StatusCode::kOk) << record.reason;
    EXPECT_EQ(record.requester, "mut-100");
    EXPECT_FALSE(record.reason.empty());
  }
  EXPECT_EQ(service_->counters().refused.load(), std::size(rows));
}

// POST /v1/consultations/batch from its body: each item answered as if it had
// come alone, in order, each audited; a batch that cannot be read is refused
// whole, audited once, and reaches no provider.
TEST_P(ConsultationTest, BatchBodiesAreAnsweredItemByItemOrRefusedWhole) {
  providers_.Answer("nr", Ok(R"({"street": "Rue Neuve 1", "postal_code": "5000"})"));
  auto batch = [&](std::string_view body) {
    std::promise<Reply> promise;
    service_->ConsultBatch("mut-100", body, [&](Reply reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  };
  Reply answered = batch(fmt::format(
      R"({{"consultations": [{{"data_type": "person.address", "niss": "{}"}}, 7,
                             {{"data_type": "person.address", "niss": "{}"}}]}})",
      kAnna, kBruno));
  ASSERT_EQ(answered.status, 200) << answered.body;
  json::array results = json::parse(answered.body).at("results").as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].at("http_status"), 200);
  EXPECT_EQ(results[0].at("results").at(0).at("data").at("street"), "Rue Neuve 1");
  EXPECT_EQ(results[1].at("http_status"), 400);
  EXPECT_EQ(results[1].at("error").at("code"), "invalid-request");
  EXPECT_EQ(results[2].at("http_status"), 403);
  EXPECT_EQ(results[2].at("error").at("code"), "not-integrated");
  EXPECT_EQ(Records().size(), 3u);
  EXPECT_EQ(providers_.TotalCalls(), 1u);

  for (std::string_view whole : {R"({"consultations": {}})", "[", R"({"consultations": [], "x": 1})"}) {
    SCOPED_TRACE(whole);
    Reply refused = batch(whole);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_TRUE(json::parse(refused.body).at("error").is_object()) << refused.body;
  }
  EXPECT_EQ(Records().size(), 6u);
  EXPECT_EQ(providers_.TotalCalls(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsultationTest, ::testing::Values(store::testing::Engine::kSqlite),
                         store::testing::EngineTestName);

// The same service deciding on the directory's copy in memory
// (replica/directory_replica.h), on both engines: the same answers and
// refusals as on the store, and a file closed through the store honoured
// by the very next consultation, before the copy has caught up.
class ConsultationOnTheCopyTest : public ConsultationTest {
 protected:
  void SetUp() override {
    ConsultationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    replica_ = std::make_unique<replica::DirectoryReplica>(store_->directory(),
                                                           [this] { return engine_; });
    ASSERT_TRUE(replica_->Refresh().ok());
    service_ = std::make_unique<ConsultationService>([this] { return engine_; }, *store_, *audit_,
                                                     providers_, clock_, replica_.get());
  }
  void TearDown() override {
    service_.reset();
    replica_.reset();
    ConsultationTest::TearDown();
  }

  void Apply(directory::EntryChange change) {
    Result<std::vector<directory::EntryResult>> applied =
        store_->directory().ApplyEntryChanges(std::vector<directory::EntryChange>{change});
    ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
    ASSERT_TRUE(applied->at(0).status.ok()) << applied->at(0).status.ToString();
  }

  std::unique_ptr<replica::DirectoryReplica> replica_;
};

TEST_P(ConsultationOnTheCopyTest, AnswersAndRefusesAsOnTheStore) {
  providers_.Answer("nr", Ok(R"({"street": "Rue Neuve 1", "postal_code": "5000", "secret": "x"})"));
  const std::string anna = fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna);
  Answer granted = Consult(anna);
  ASSERT_EQ(granted.status, 200) << granted.raw;
  EXPECT_EQ(ByProvider(granted.body).at("nr").at("data"),
            (json::object{{"street", "Rue Neuve 1"}, {"postal_code", "5000"}}));
  Answer bruno = Consult(fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kBruno));
  EXPECT_EQ(bruno.status, 403) << bruno.raw;
  EXPECT_EQ(bruno.body.at("error").at("code"), "not-integrated");
  Answer narrow = Consult(fmt::format(
      R"({{"data_type": "person.address", "niss": "{}", "fields": ["municipality"]}})", kAnna));
  EXPECT_EQ(narrow.body.at("error").at("code"), "not-authorized") << narrow.raw;
  EXPECT_EQ(replica_->stats().memory_reads, 3u) << "every decision on the copy";
  EXPECT_EQ(replica_->stats().store_reads, 0u);
}

TEST_P(ConsultationOnTheCopyTest, AFileClosedIsHonouredByTheNextConsultation) {
  providers_.Answer("nr", Ok(R"({"street": "Rue Neuve 1", "postal_code": "5000"})"));
  const std::string anna = fmt::format(
      R"({{"data_type": "person.address", "niss": "{}", "period": {{"from": "2024-05-01", "to": "2024-05-31"}}}})",
      kAnna);
  ASSERT_EQ(Consult(anna).status, 200);
  directory::Entry closed{kAnna, "mut-100", "insured",
                          Period{*Date::Parse("2020-01-01"), *Date::Parse("2023-12-31")}};
  Apply({directory::EntryAction::kClose, closed});
  // Not caught up yet: the decision reads the store, and refuses.
  Answer refused = Consult(anna);
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.body.at("error").at("code"), "not-integrated") << refused.raw;
  EXPECT_EQ(replica_->stats().store_reads, 1u);
  // Caught up: the copy refuses as well.
  ASSERT_TRUE(replica_->Refresh().ok());
  const uint64_t on_copy = replica_->stats().memory_reads;
  Answer again = Consult(anna);
  EXPECT_EQ(again.body.at("error").at("code"), "not-integrated") << again.raw;
  EXPECT_EQ(replica_->stats().memory_reads, on_copy + 1);
  EXPECT_EQ(providers_.Calls("nr").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConsultationOnTheCopyTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::exchange
