// SPDX-License-Identifier: EUPL-1.2
// The BIS register's API over a real store (both engines), audit log and
// mutation service: authorization, validation, 201/409/force, updates and
// replacements published as mutations, the local provider, the admin view.

#include "bis/service.h"

#include <future>
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "mutations/testing.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::bis {
namespace {
namespace json = boost::json;

using ::testing::HasSubstr;

// cpas may write to the register; mut-100 may not, but holds files and is
// told of identity changes and replacements.
constexpr char kNetwork[] = R"(
[[institution_type]]
id = "bis-register"

[[institution_type]]
id = "national-register"

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution_type]]
id = "social-welfare-centre"
capacities = ["beneficiary"]

[[institution]]
id = "bis"
type = "bis-register"
name = "BIS register"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "mut-100"
type = "mutuality"
endpoint = "https://127.0.0.1:9104"

[[institution]]
id = "cpas"
type = "social-welfare-centre"
endpoint = "https://127.0.0.1:9108"

[[institution]]
id = "cpas-2"
type = "social-welfare-centre"
endpoint = "https://127.0.0.1:9109"

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]

[[data_type]]
id = "person.niss-replaced"
fields = ["new_niss"]

[[availability]]
data_type = "person.identity"
provider_type = "bis-register"

[[availability]]
data_type = "person.identity"
provider_type = "national-register"

[[availability]]
data_type = "person.niss-replaced"
provider_type = "bis-register"

[[authorization]]
data_type = "person.identity"
requester_type = "mutuality"
capacity = "insured"
fields = ["last_name", "first_names", "birth_date"]
legal_basis = "ISC/24/001"
from = 2020-01-01

[[authorization]]
data_type = "person.niss-replaced"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/001"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.identity"
capacity = "insured"

[[subscription]]
institution_type = "mutuality"
data_type = "person.niss-replaced"
capacity = "insured"

[bis_register]
institution = "bis"

[[bis_authorization]]
requester_type = "social-welfare-centre"
legal_basis = "ISC/18/203"
from = 2018-06-01

[[bis_authorization]]
requester = "cpas"
legal_basis = "ISC/18/204"
from = 2018-06-01
)";

constexpr char kAnnaBody[] =
    R"({"last_name": "Kowalczyk", "first_names": "Anna Maria", "birth_date": "1979-10-12", "sex": "f", "nationality": "PL"})";

// The network side of provide calls: records what reaches it.
class RecordingGateway : public exchange::ProviderGateway {
 public:
  void Provide(const network::Institution& provider, std::string body, Done done) override {
    calls.push_back(provider.id);
    (void)body;
    done(exchange::ProviderReply{404, R"({"error":{"code":"no-data"}})"});
  }
  std::vector<std::string> calls;
};

class ServiceTest : public mutations::testing::ServiceFixture {
 protected:
  ServiceTest() : ServiceFixture(kNetwork, *Date::Parse("2026-06-01")) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    mutations_ = std::make_unique<mutations::MutationService>([this] { return engine_; }, *store_,
                                                              *audit_, clock_);
    service_ = std::make_unique<Service>(
        [this] { return engine_; }, *store_, *audit_,
        [this](std::string_view source, std::string_view body,
               std::function<void(mutations::Reply)> done) {
          mutations_->Publish(source, body, std::move(done));
        },
        network_, clock_);
  }
  void TearDown() override {
    service_.reset();
    mutations_.reset();
    ServiceFixture::TearDown();
  }

  std::pair<int, json::value> Call(std::string_view caller, std::string_view method,
                                   std::string_view path, std::string_view body) {
    std::promise<Reply> promise;
    service_->HandleApi(caller, method, path, body,
                        [&](Reply reply) { promise.set_value(std::move(reply)); });
    Reply reply = promise.get_future().get();
    boost::system::error_code ec;
    json::value parsed = json::parse(reply.body, ec);
    EXPECT_FALSE(ec) << reply.body;
    return {reply.status, parsed};
  }

  std::string Create(std::string_view body = kAnnaBody) {
    auto [status, answer] = Call("cpas", "POST", "/v1/bis", body);
    EXPECT_EQ(status, 201) << answer;
    return status == 201 ? std::string(answer.at("niss").as_string()) : std::string();
  }

  std::vector<audit::Record> Records(std::string requester) {
    audit::Query query;
    query.requester = std::move(requester);
    query.limit = 1000;
    Result<std::vector<audit::Record>> records = store_->audit().QueryAudit(query);
    EXPECT_TRUE(records);
    return records ? *records : std::vector<audit::Record>();
  }

  void Integrate(const std::string& niss) {
    directory::Entry insured{niss, "mut-100", "insured", Period{*Date::Parse("2020-01-01"), {}}};
    ASSERT_TRUE(store_->directory()
                    .ApplyEntryChanges(std::vector<directory::EntryChange>{
                        {directory::EntryAction::kAdd, insured}})
                    .has_value());
  }

  mutations::Reply Feed(std::string_view caller) {
    std::promise<mutations::Reply> promise;
    mutations_->ReadFeed(caller, "0", std::nullopt, std::nullopt,
                         [&](mutations::Reply reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  }

  std::unique_ptr<mutations::MutationService> mutations_;
  RecordingGateway network_;
  std::unique_ptr<Service> service_;
};

TEST_P(ServiceTest, CreatesANumberOnlyForAuthorizedInstitutions) {
  auto [refused, refusal] = Call("mut-100", "POST", "/v1/bis", kAnnaBody);
  EXPECT_EQ(refused, 403) << refusal;
  EXPECT_EQ(refusal.at("error").at("code"), "not-authorized") << refusal;
  EXPECT_THAT(std::string(refusal.at("error").at("message").as_string()),
              HasSubstr("mut-100 may not write to the BIS register"));

  const std::string niss = Create();
  Result<niss::Number> number = niss::Parse(niss, clock_.Today());
  ASSERT_TRUE(number) << niss;
  EXPECT_EQ(number->kind, niss::Kind::kBis);
  EXPECT_EQ(number->sex, niss::Sex::kFemale);
  EXPECT_EQ(number->BirthDateText(), "1979-10-12");

  std::vector<audit::Record> records = Records("cpas");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, audit::Kind::kBis);
  EXPECT_EQ(records[0].niss, niss);
  EXPECT_EQ(records[0].legal_basis, "ISC/18/203");
  EXPECT_EQ(records[0].reason, "assigned");
  ASSERT_EQ(Records("mut-100").size(), 1u);
  EXPECT_EQ(Records("mut-100")[0].outcome, StatusCode::kNotAuthorized);
}

TEST_P(ServiceTest, RefusesBadRequestsNamingTheProblem) {
  struct Row {
    std::string name, body;
    int status;
    std::string code, message;
  };
  const Row rows[] = {
      {"not JSON", "{", 400, "invalid-json", ""},
      {"unknown key", R"({"last_name": "A", "birth_date": "1980-01-01", "shoe": 42})", 400,
       "invalid-request", "shoe"},
      {"no last name", R"({"first_names": "A", "birth_date": "1980-01-01"})", 400,
       "invalid-request", "'last_name' is required"},
      {"a digit", R"({"last_name": "Smith2", "birth_date": "1980-01-01"})", 400,
       "invalid-request", "the digit '2'"},
      {"Cyrillic", R"({"last_name": "Иванов", "birth_date": "1980-01-01"})", 400,
       "invalid-request", "U+0418"},
      {"month 13", R"({"last_name": "A", "birth_date": "1980-13-01"})", 400, "invalid-request",
       "month 13"},
      {"a day without a month", R"({"last_name": "A", "birth_date": "1980-00-05"})", 400,
       "invalid-request", "a day but no month"},
      {"31 April", R"({"last_name": "A", "birth_date": "1980-04-31"})", 400, "invalid-request",
       "day 31"},
      {"in the future", R"({"last_name": "A", "birth_date": "2027-01-01"})", 400,
       "invalid-request", "after today"},
      {"a date that is not one", R"({"last_name": "A", "birth_date": "12/01/1980"})", 400,
       "invalid-request", "YYYY-MM-DD"},
      {"sex x", R"({"last_name": "A", "birth_date": "1980-01-01", "sex": "x"})", 400,
       "invalid-request", "'sex'"},
      {"force not a boolean", R"({"last_name": "A", "birth_date": "1980-01-01", "force": "yes"})",
       400, "invalid-request", "'force'"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto [status, answer] = Call("cpas", "POST", "/v1/bis", row.body);
    EXPECT_EQ(status, row.status) << answer;
    EXPECT_EQ(answer.at("error").at("code"), row.code.c_str()) << answer;
    EXPECT_THAT(std::string(answer.at("error").at("message").as_string()), HasSubstr(row.message));
  }
  EXPECT_EQ(*service_->bis_register().Count(), 0);
  EXPECT_EQ(Records("cpas").size(), std::size(rows));  // refusals are audited too
}

TEST_P(ServiceTest, APossibleDuplicateIs409UnlessForcedAndAForcedCreationIsAuditedAsSuch) {
  const std::string first = Create();
  const char* look_alike =
      R"({"last_name": "KOWALCZYK", "first_names": "Anna", "birth_date": "1979-12-10", "sex": null, "nationality": "PL"})";
  auto [status, answer] = Call("cpas", "POST", "/v1/bis", look_alike);
  ASSERT_EQ(status, 409) << answer;
  EXPECT_EQ(answer.at("error").at("code"), "possible-duplicate");
  const json::array& candidates = answer.at("candidates").as_array();
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].at("niss"), first.c_str());
  EXPECT_GE(candidates[0].at("score").as_double(), kDuplicateScore);
  EXPECT_EQ(candidates[0].at("reasons").at(0), "last-name-equal");
  EXPECT_NE(json::serialize(candidates[0]).find("birth-date-day-month-swapped"), std::string::npos);
  EXPECT_FALSE(candidates[0].as_object().contains("last_name"));  // numbers, not identities

  std::string forced_body = look_alike;
  forced_body.insert(forced_body.size() - 1, R"(, "force": true)");
  auto [created, answer2] = Call("cpas", "POST", "/v1/bis", forced_body);
  ASSERT_EQ(created, 201) << answer2;
  EXPECT_EQ(answer2.at("forced"), true);
  EXPECT_EQ(answer2.at("candidates").at(0).at("niss"), first.c_str());
  const std::string second(answer2.at("niss").as_string());
  EXPECT_NE(second, first);
  EXPECT_EQ(niss::Parse(second, clock_.Today())->sex, niss::Sex::kUnknown);

  std::vector<audit::Record> records = Records("cpas");
  ASSERT_EQ(records.size(), 3u);
  int refused = 0, forced = 0;
  for (const audit::Record& record : records) {
    if (record.outcome == StatusCode::kPossibleDuplicate) {
      ++refused;
      EXPECT_EQ(record.detail, fmt::format("candidates={}:{:.2f}", first,
                                           candidates[0].at("score").as_double()));
    }
    if (record.niss == second) {
      ++forced;
      EXPECT_EQ(record.reason, "assigned despite possible duplicates (forced)");
      EXPECT_THAT(record.detail, HasSubstr("forced=true candidates=" + first));
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(forced, 1);
}

TEST_P(ServiceTest, AnIdentityChangeIsPublishedToTheSubscribersAsAMutation) {
  const std::string niss = Create();
  Integrate(niss);
  clock_.Advance(std::chrono::seconds(1));
  const char* changed =
      R"({"last_name": "Kowalczyk-Nowak", "first_names": "Anna Maria", "birth_date": "1979-10-12", "sex": "f", "nationality": "PL"})";
  auto [status, answer] = Call("cpas", "PUT", "/v1/bis/" + niss, changed);
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer.at("changed"), true);
  EXPECT_EQ(answer.at("mutation").at("status"), "accepted") << answer;
  EXPECT_EQ(answer.at("mutation").at("subscribers"), 1) << answer;

  mutations::Reply feed = Feed("mut-100");
  ASSERT_EQ(feed.status, 200) << feed.body;
  json::value body = json::parse(feed.body);
  ASSERT_EQ(body.at("mutations").as_array().size(), 1u) << feed.body;
  const json::value& delivery = body.at("mutations").at(0);
  EXPECT_EQ(delivery.at("source"), "bis");
  EXPECT_EQ(delivery.at("data_type"), "person.identity");
  EXPECT_EQ(delivery.at("niss"), niss.c_str());
  // Only the fields mut-100 is authorized for.
  EXPECT_EQ(json::serialize(delivery.at("data")),
            R"({"last_name":"Kowalczyk-Nowak","first_names":"Anna Maria","birth_date":"1979-10-12"})");

  auto [same, same_answer] = Call("cpas", "PUT", "/v1/bis/" + niss, changed);
  EXPECT_EQ(same, 200);
  EXPECT_EQ(same_answer.at("changed"), false);
  auto [missing, missing_answer] = Call("cpas", "PUT", "/v1/bis/00200100112", changed);
  EXPECT_EQ(missing, 404) << missing_answer;
  auto [refused, refusal] = Call("mut-100", "PUT", "/v1/bis/" + niss, changed);
  EXPECT_EQ(refused, 403) << refusal;
}

TEST_P(ServiceTest, AReplacementMovesTheFilesThroughTheMutations) {
  const std::string niss = Create();
  Integrate(niss);
  const std::string national = "79101200209";  // a valid national register number
  ASSERT_TRUE(niss::Parse(national, clock_.Today())) << national;
  auto [status, answer] = Call("cpas", "POST", "/v1/bis/" + niss + "/replacement",
                               fmt::format(R"({{"new_niss": "{}"}})", national));
  ASSERT_EQ(status, 200) << answer;
  EXPECT_EQ(answer.at("new_niss"), national.c_str());
  EXPECT_EQ(answer.at("subscribers"), 1);
  Result<std::vector<directory::Entry>> moved = store_->directory().EntriesOfPerson(national);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->size(), 1u);
  EXPECT_TRUE(store_->directory().EntriesOfPerson(niss)->empty());
  Reply person = service_->HandleAdmin(niss, std::nullopt, std::nullopt, std::nullopt);
  ASSERT_EQ(person.status, 200) << person.body;
  EXPECT_EQ(json::parse(person.body).at("replaced_by"), national.c_str());
  json::value feed = json::parse(Feed("mut-100").body);
  EXPECT_EQ(feed.at("mutations").at(0).at("data_type"), "person.niss-replaced");

  auto [again, again_answer] = Call("cpas", "POST", "/v1/bis/" + niss + "/replacement",
                                    fmt::format(R"({{"new_niss": "{}"}})", national));
  EXPECT_EQ(again, 409) << again_answer;
  EXPECT_EQ(again_answer.at("error").at("code"), "already-exists");
  auto [update, update_answer] = Call("cpas", "PUT", "/v1/bis/" + niss, kAnnaBody);
  EXPECT_EQ(update, 400) << update_answer;
  EXPECT_THAT(json::serialize(update_answer), HasSubstr("was replaced by " + national));
}

// Writing to the register is not a licence to change anybody in it: another
// authorized institution changes a person only once it holds a file on
// them, and replacing a number (which moves everybody's files) needs an
// authorization naming the institution itself, not its type.
TEST_P(ServiceTest, OnlyTheCreatorOrAFileHolderChangesAndOnlyAReplaceGrantReplaces) {
  const std::string niss = Create();  // by cpas
  const char* changed =
      R"({"last_name": "Kowalczyk-Nowak", "first_names": "Anna Maria", "birth_date": "1979-10-12", "sex": "f", "nationality": "PL"})";
  auto [stranger, stranger_answer] = Call("cpas-2", "PUT", "/v1/bis/" + niss, changed);
  EXPECT_EQ(stranger, 403) << stranger_answer;
  EXPECT_THAT(json::serialize(stranger_answer), HasSubstr("neither registered"));
  const std::string national = "79101200209";
  auto [grab, grab_answer] = Call("cpas-2", "POST", "/v1/bis/" + niss + "/replacement",
                                  fmt::format(R"({{"new_niss": "{}"}})", national));
  EXPECT_EQ(grab, 403) << grab_answer;

  directory::Entry file{niss, "cpas-2", "beneficiary", Period{*Date::Parse("2020-01-01"), {}}};
  ASSERT_TRUE(store_->directory()
                  .ApplyEntryChanges(std::vector<directory::EntryChange>{{directory::EntryAction::kAdd, file}})
                  .has_value());
  auto [holder, holder_answer] = Call("cpas-2", "PUT", "/v1/bis/" + niss, changed);
  EXPECT_EQ(holder, 200) << holder_answer;
  auto [still, still_answer] = Call("cpas-2", "POST", "/v1/bis/" + niss + "/replacement",
                                    fmt::format(R"({{"new_niss": "{}"}})", national));
  EXPECT_EQ(still, 403) << still_answer;
  EXPECT_THAT(json::serialize(still_answer), HasSubstr("one for its type is not enough"));
  EXPECT_TRUE(store_->directory().EntriesOfPerson(national)->empty());
}

TEST_P(ServiceTest, RoutesAndRefusesPathsItDoesNotServe) {
  struct Row {
    std::string method, path;
    int status;
    std::string code;
  };
  const Row rows[] = {
      {"GET", "/v1/bis", 400, "invalid-request"},
      {"POST", "/v1/bis/85073003328", 400, "invalid-niss"},  // a national register number
      {"PUT", "/v1/bis/12345", 400, "invalid-niss"},
      {"PUT", "/v1/bis/00200100112/x", 404, "not-found"},
      {"GET", "/v1/bis/00200100112/replacement", 400, "invalid-request"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.method + " " + row.path);
    auto [status, answer] = Call("cpas", row.method, row.path, "{}");
    EXPECT_EQ(status, row.status) << answer;
    EXPECT_EQ(answer.at("error").at("code"), row.code.c_str()) << answer;
  }
  EXPECT_TRUE(Service::IsApiPath("/v1/bis"));
  EXPECT_TRUE(Service::IsApiPath("/v1/bis/1"));
  EXPECT_FALSE(Service::IsApiPath("/v1/bisx"));
}

TEST_P(ServiceTest, AnswersPersonIdentityForItsNumbersAndPassesOtherProvidersOn) {
  const std::string niss = Create();
  const network::Definition& definition = *engine_->definition();
  auto provide = [&](const std::string& provider, const std::string& who) {
    std::promise<Result<exchange::ProviderReply>> promise;
    service_->gateway().Provide(
        *definition.FindInstitution(provider),
        fmt::format(R"({{"request_id": "r", "data_type": "person.identity", "niss": "{}", )"
                    R"("fields": ["last_name", "birth_date"], "requester": "mut-100"}})",
                    who),
        [&](Result<exchange::ProviderReply> reply) { promise.set_value(std::move(reply)); });
    return promise.get_future().get();
  };
  Result<exchange::ProviderReply> answer = provide("bis", niss);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, R"({"data":{"last_name":"Kowalczyk","birth_date":"1979-10-12"}})");
  answer = provide("bis", "00200100112");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 404);
  EXPECT_THAT(answer->body, HasSubstr("no-data"));
  EXPECT_TRUE(network_.calls.empty());
  answer = provide("nr", niss);
  ASSERT_TRUE(answer);
  EXPECT_EQ(network_.calls, std::vector<std::string>{"nr"});
}

TEST_P(ServiceTest, TheAdminViewShowsIdentitiesAndSearchesByName) {
  const std::string niss = Create();
  Reply person = service_->HandleAdmin(niss, std::nullopt, std::nullopt, std::nullopt);
  ASSERT_EQ(person.status, 200) << person.body;
  json::value body = json::parse(person.body);
  EXPECT_EQ(body.at("last_name"), "Kowalczyk");
  EXPECT_EQ(body.at("created_by"), "cpas");
  EXPECT_EQ(body.at("forced"), false);
  EXPECT_TRUE(body.at("replaced_by").is_null());

  Reply found = service_->HandleAdmin(std::nullopt, "kowalczyk, anna", std::nullopt, "5");
  ASSERT_EQ(found.status, 200) << found.body;
  json::value list = json::parse(found.body);
  ASSERT_EQ(list.at("persons").as_array().size(), 1u);
  EXPECT_EQ(list.at("persons").at(0).at("niss"), niss.c_str());
  EXPECT_TRUE(list.at("persons").at(0).at("score").is_double());

  EXPECT_EQ(service_->HandleAdmin(std::nullopt, std::nullopt, std::nullopt, std::nullopt).status, 400);
  EXPECT_EQ(service_->HandleAdmin("00200100112", std::nullopt, std::nullopt, std::nullopt).status, 404);
  EXPECT_EQ(service_->HandleAdmin(std::nullopt, "x", "1980-13-01", std::nullopt).status, 400);
  EXPECT_EQ(service_->HandleAdmin(std::nullopt, "x", std::nullopt, "0").status, 400);
  // Successful reads by the administrator are traced.
  std::vector<audit::Record> reads = Records("admin");
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0].kind, audit::Kind::kAdmin);
}

INSTANTIATE_TEST_SUITE_P(Engines, ServiceTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::bis
