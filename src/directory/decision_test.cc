// SPDX-License-Identifier: EUPL-1.2
#include "directory/decision.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "network/loader.h"

namespace carrefour::directory {
namespace {

// The network every test decides in. "Today" is 2024-06-15 throughout, so
// that the validity periods below read as: expired yesterday (A4), starts
// tomorrow (A5), valid only today (A6).
constexpr std::string_view kNetwork = R"toml(
[[institution_type]]
id = "national-register"
capacities = ["registered"]

[[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution_type]]
id = "family-fund"
capacities = ["child-beneficiary", "allowance-recipient"]

[[institution]]
id = "nr"
type = "national-register"
name = "National Register"
endpoint = "https://127.0.0.1:9001"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Christian health insurer"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "mut-200"
type = "mutuality"
name = "Socialist health insurer"
endpoint = "https://127.0.0.1:9102"

[[institution]]
id = "fam-1"
type = "family-fund"
name = "Family fund one"
endpoint = "https://127.0.0.1:9201"

[[institution]]
id = "fam-2"
type = "family-fund"
name = "Family fund two"
endpoint = "https://127.0.0.1:9202"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country", "since"]

[[data_type]]
id = "health.insurability"
fields = ["status", "holder", "since"]

[[data_type]]
id = "family.allowance"
fields = ["amount", "children", "since"]

[[data_type]]
id = "person.photo"
fields = ["jpeg"]

# The National Register holds every address; a mutuality holds insurability
# only for its insured; a family fund the allowance only for its recipients.
# Nobody holds photos.
[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[availability]]
data_type = "health.insurability"
provider_type = "mutuality"
capacity = "insured"

[[availability]]
data_type = "family.allowance"
provider_type = "family-fund"
capacity = "allowance-recipient"

[[authorization]]  # A1
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["municipality", "street", "postal_code"]
legal_basis = "ISC/A1"
from = 2020-01-01
to = 2030-12-31

[[authorization]]  # A2: comes after A1, so never used for insured files
data_type = "person.address"
requester = "mut-100"
capacity = "insured"
fields = ["street", "postal_code", "municipality", "country", "since"]
legal_basis = "ISC/A2"
from = 2020-01-01

[[authorization]]  # A3
data_type = "person.address"
requester = "mut-100"
capacity = "dependent"
fields = ["country", "street"]
legal_basis = "ISC/A3"
from = 2020-01-01

[[authorization]]  # A4: expired yesterday
data_type = "person.address"
requester_type = "family-fund"
capacity = "allowance-recipient"
fields = ["street", "postal_code", "municipality", "country", "since"]
legal_basis = "ISC/A4"
from = 2020-01-01
to = 2024-06-14

[[authorization]]  # A5: starts tomorrow
data_type = "person.address"
requester_type = "family-fund"
capacity = "allowance-recipient"
fields = ["street"]
legal_basis = "ISC/A5"
from = 2024-06-16

[[authorization]]  # A6: valid today only
data_type = "person.address"
requester_type = "family-fund"
capacity = "child-beneficiary"
fields = ["municipality"]
legal_basis = "ISC/A6"
from = 2024-06-15
to = 2024-06-15

[[authorization]]  # A7: institution-specific, before the type-wide A8
data_type = "health.insurability"
requester = "fam-1"
capacity = "child-beneficiary"
fields = ["status", "since"]
legal_basis = "ISC/A7"
from = 2020-01-01

[[authorization]]  # A8
data_type = "health.insurability"
requester_type = "family-fund"
capacity = "child-beneficiary"
fields = ["status", "holder", "since"]
legal_basis = "ISC/A8"
from = 2020-01-01

[[authorization]]  # A9
data_type = "health.insurability"
requester_type = "mutuality"
capacity = "insured"
fields = ["status", "holder", "since"]
legal_basis = "ISC/A9"
from = 2020-01-01

[[authorization]]  # A10
data_type = "family.allowance"
requester_type = "mutuality"
capacity = "insured"
fields = ["amount"]
legal_basis = "ISC/A10"
from = 2020-01-01

[[authorization]]  # A11
data_type = "person.photo"
requester_type = "mutuality"
capacity = "insured"
fields = ["jpeg"]
legal_basis = "ISC/A11"
from = 2020-01-01

[[authorization]]  # A12: the source asking for its own data
data_type = "person.address"
requester = "nr"
capacity = "registered"
fields = ["street"]
legal_basis = "ISC/A12"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"

[[subscription]]
institution = "mut-100"
data_type = "person.address"
capacity = "dependent"

[[subscription]]  # no authorization valid today (A4 expired, A5 not yet)
institution = "fam-1"
data_type = "person.address"
capacity = "allowance-recipient"

[[subscription]]
institution = "fam-2"
data_type = "person.address"
capacity = "child-beneficiary"

[[subscription]]
institution_type = "mutuality"
data_type = "health.insurability"
capacity = "insured"
)toml";

constexpr const char* kPerson = "85073003328";
constexpr const char* kOtherPerson = "90010100123";

Date D(std::string_view text) { return *Date::Parse(text); }

const Date kToday = D("2024-06-15");

// "2024-01-01".."2024-12-31"; an empty `to` is open-ended.
Period P(std::string_view from, std::string_view to) {
  return Period{D(from), to.empty() ? std::nullopt : std::optional<Date>(D(to))};
}

// An entry on kPerson; an empty `to` is open-ended.
Entry E(std::string institution, std::string capacity, std::string_view from,
        std::string_view to = "") {
  return Entry{kPerson, std::move(institution), std::move(capacity), P(from, to)};
}

std::shared_ptr<const network::Definition> Network() {
  Result<network::Definition> definition = network::ParseDefinition(kNetwork, "test.toml");
  if (!definition) {
    ADD_FAILURE() << definition.error().ToString();
    return std::make_shared<network::Definition>();
  }
  return std::make_shared<const network::Definition>(*std::move(definition));
}

const DecisionEngine& Engine() {
  static const DecisionEngine* engine = new DecisionEngine(Network());
  return *engine;
}

// A request on kPerson.
ConsultationRequest Ask(std::string requester, std::string data_type) {
  ConsultationRequest request;
  request.requester = std::move(requester);
  request.data_type = std::move(data_type);
  request.niss = kPerson;
  return request;
}
ConsultationRequest WithPeriod(ConsultationRequest request, Period period) {
  request.period = period;
  return request;
}
ConsultationRequest WithCapacity(ConsultationRequest request, std::string capacity) {
  request.capacity = std::move(capacity);
  return request;
}
ConsultationRequest WithFields(ConsultationRequest request, std::vector<std::string> fields) {
  request.fields = std::move(fields);
  return request;
}

// What a test compares of a Grant, as text.
struct Outcome {
  std::string period;
  std::string legal_basis;
  std::vector<std::string> fields;
  std::vector<std::string> providers;

  friend bool operator==(const Outcome&, const Outcome&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Outcome& outcome) {
    out << "{period " << outcome.period << ", legal basis " << outcome.legal_basis << ", fields [";
    for (const std::string& field : outcome.fields) out << field << " ";
    out << "], providers [";
    for (const std::string& provider : outcome.providers) out << provider << " ";
    return out << "]}";
  }
};

Outcome Summarize(const Grant& grant) {
  Outcome outcome{grant.period.ToString(), grant.authorization->legal_basis, {}, {}};
  for (std::string_view field : grant.fields) outcome.fields.emplace_back(field);
  for (const network::Institution* provider : grant.providers) {
    outcome.providers.push_back(provider->id);
  }
  return outcome;
}

struct RefusalCase {
  std::string name;
  ConsultationRequest request;
  std::vector<Entry> entries;
  StatusCode code;
  std::vector<std::string> message_has;  // what the person reading it needs
};

void ExpectRefusals(const std::vector<RefusalCase>& cases) {
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Grant> grant = Engine().Decide(c.request, c.entries, kToday);
    ASSERT_FALSE(grant.has_value()) << Summarize(*grant);
    EXPECT_EQ(grant.error().code(), c.code) << grant.error().ToString();
    for (const std::string& part : c.message_has) {
      EXPECT_NE(grant.error().message().find(part), std::string::npos)
          << "'" << part << "' not in: " << grant.error().message();
    }
  }
}

struct GrantCase {
  std::string name;
  ConsultationRequest request;
  std::vector<Entry> entries;
  Outcome expected;
};

void ExpectGrants(const std::vector<GrantCase>& cases) {
  for (const GrantCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Grant> grant = Engine().Decide(c.request, c.entries, kToday);
    ASSERT_TRUE(grant.has_value()) << grant.error().ToString();
    EXPECT_EQ(Summarize(*grant), c.expected);
    EXPECT_EQ(grant->requester->id, c.request.requester);
    EXPECT_EQ(grant->data_type->id, c.request.data_type);
  }
}

const std::vector<std::string> kA1Fields = {"street", "postal_code", "municipality"};

TEST(DecisionEngine, RefusesInTheOrderOfTheSpec) {
  const Entry insured_now = E("mut-100", "insured", "2020-01-01");
  ExpectRefusals({
      {"unknown requester",
       Ask("mut-999", "person.address"),
       {insured_now},
       StatusCode::kUnknownInstitution,
       {"mut-999"}},
      {"unknown requester before unknown data type",
       Ask("mut-999", "person.shoe-size"),
       {},
       StatusCode::kUnknownInstitution,
       {"mut-999"}},
      {"unknown data type",
       Ask("mut-100", "person.shoe-size"),
       {insured_now},
       StatusCode::kUnknownDataType,
       {"person.shoe-size"}},
      {"period ends before it starts",
       WithPeriod(Ask("mut-100", "person.address"), P("2024-02-01", "2024-01-31")),
       {insured_now},
       StatusCode::kInvalidPeriod,
       {"2024-02-01", "2024-01-31"}},
      {"invalid period before unknown fields and missing entries",
       WithFields(WithPeriod(Ask("mut-100", "person.address"), P("2024-02-01", "2024-01-31")),
                  {"shoe_size"}),
       {},
       StatusCode::kInvalidPeriod,
       {}},
      {"fields the data type does not have",
       WithFields(Ask("mut-100", "person.address"), {"street", "shoe_size", "eye_colour"}),
       {insured_now},
       StatusCode::kInvalidRequest,
       {"person.address", "no fields 'shoe_size', 'eye_colour'", "street, postal_code"}},
      {"more names than the data type has fields: refused before any is looked at",
       WithFields(Ask("mut-100", "person.address"), std::vector<std::string>(100000, "street")),
       {insured_now},
       StatusCode::kInvalidRequest,
       {"names 100000 fields", "'person.address' has only 5"}},
      {"unknown fields before missing entries",
       WithFields(Ask("mut-100", "person.address"), {"shoe_size"}),
       {},
       StatusCode::kInvalidRequest,
       {"shoe_size"}},
      {"an empty list of fields",
       WithFields(Ask("mut-100", "person.address"), {}),
       {insured_now},
       StatusCode::kInvalidRequest,
       {"empty"}},
      {"a person with no entries",
       Ask("mut-100", "person.address"),
       {},
       StatusCode::kNotIntegrated,
       {"mut-100", kPerson}},
      {"only other institutions have files",
       Ask("mut-100", "person.address"),
       {E("mut-200", "insured", "2020-01-01"), E("nr", "registered", "1985-07-30")},
       StatusCode::kNotIntegrated,
       {"mut-100", kPerson}},
      {"the requester's file is on another person",
       Ask("mut-100", "person.address"),
       {Entry{kOtherPerson, "mut-100", "insured", P("2020-01-01", "")}},
       StatusCode::kNotIntegrated,
       {"mut-100", kPerson}},
      {"the capacity restriction leaves no file",
       WithCapacity(Ask("mut-100", "person.address"), "dependent"),
       {insured_now},
       StatusCode::kNotIntegrated,
       {"mut-100", "of capacity 'dependent'", kPerson}},
      {"no entry before not authorized: the data type is granted to nobody here",
       Ask("fam-1", "family.allowance"),
       {},
       StatusCode::kNotIntegrated,
       {"fam-1"}},
      {"authorization expired yesterday, the next starts tomorrow",
       Ask("fam-1", "person.address"),
       {E("fam-1", "allowance-recipient", "2020-01-01")},
       StatusCode::kNotAuthorized,
       {"2024-06-15", "'fam-1'", "'family-fund'", "'person.address'", "'allowance-recipient'"}},
      {"institution-specific authorization names another institution",
       Ask("mut-200", "person.address"),
       {E("mut-200", "dependent", "2020-01-01")},
       StatusCode::kNotAuthorized,
       {"'mut-200'", "'dependent'"}},
      {"a file of a capacity the requester's type does not declare (any more)",
       Ask("mut-100", "person.address"),
       {E("mut-100", "retired", "2020-01-01")},
       StatusCode::kNotAuthorized,
       {"capacity 'retired')"}},
      {"no authorization at all for the data type",
       Ask("fam-1", "family.allowance"),
       {E("fam-1", "allowance-recipient", "2020-01-01"),
        E("fam-1", "child-beneficiary", "2020-01-01"),
        E("fam-1", "allowance-recipient", "2010-01-01", "2012-12-31")},
       StatusCode::kNotAuthorized,
       {"'family.allowance'", "capacities 'allowance-recipient', 'child-beneficiary')"}},
      {"the granted file ended before the period",
       Ask("mut-100", "person.address"),
       {E("mut-100", "insured", "2020-01-01", "2020-12-31")},
       StatusCode::kNotIntegrated,
       {"mut-100", "insured 2020-01-01..2020-12-31", "2024-06-15..2024-06-15"}},
      {"the granted file starts after the period",
       WithPeriod(Ask("mut-100", "person.address"), P("2023-01-01", "2023-12-31")),
       {E("mut-100", "insured", "2024-01-01")},
       StatusCode::kNotIntegrated,
       {"2023-01-01..2023-12-31"}},
      {"only the ungranted file covers the period",
       Ask("fam-2", "person.address"),
       {E("fam-2", "allowance-recipient", "2020-01-01"),
        E("fam-2", "child-beneficiary", "2019-01-01", "2019-12-31")},
       StatusCode::kNotIntegrated,
       {"child-beneficiary 2019-01-01..2019-12-31"}},
      {"none of the requested fields is authorized",
       WithFields(Ask("mut-100", "person.address"), {"since", "country"}),
       {insured_now},
       StatusCode::kNotAuthorized,
       {"ISC/A1", "'street', 'postal_code', 'municipality'", "mut-100"}},
  });
}

TEST(DecisionEngine, ServesTheRequestedPeriodClippedToTheGrantedFiles) {
  const Period year = P("2024-01-01", "2024-12-31");
  const Outcome a1{"", "ISC/A1", kA1Fields, {"nr"}};
  auto with_period = [&](std::string period) {
    Outcome out = a1;
    out.period = std::move(period);
    return out;
  };
  ExpectGrants({
      {"no period asked: today",
       Ask("mut-100", "person.address"),
       {E("mut-100", "insured", "2019-01-01")},
       with_period("2024-06-15..2024-06-15")},
      {"file covers the whole period",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2019-01-01")},
       with_period("2024-01-01..2024-12-31")},
      {"clipped at both ends",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-03-01", "2024-09-30")},
       with_period("2024-03-01..2024-09-30")},
      {"clipped at the start only",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-03-01")},
       with_period("2024-03-01..2024-12-31")},
      {"open-ended request and file stay open",
       WithPeriod(Ask("mut-100", "person.address"), P("2024-01-01", "")),
       {E("mut-100", "insured", "2023-01-01")},
       with_period("2024-01-01..")},
      {"open-ended request clipped to the file's end",
       WithPeriod(Ask("mut-100", "person.address"), P("2024-01-01", "")),
       {E("mut-100", "insured", "2023-01-01", "2024-08-31")},
       with_period("2024-01-01..2024-08-31")},
      {"a one-day overlap",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2023-01-01", "2024-01-01")},
       with_period("2024-01-01..2024-01-01")},
      {"touching files merge",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-04-01"), E("mut-100", "insured", "2024-01-01", "2024-03-31")},
       with_period("2024-01-01..2024-12-31")},
      {"overlapping files merge",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-02-01", "2024-07-31"),
        E("mut-100", "insured", "2024-06-01", "2024-10-31")},
       with_period("2024-02-01..2024-10-31")},
      {"a gap: the latest stretch",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-05-01", "2024-06-30"),
        E("mut-100", "insured", "2024-01-01", "2024-02-29")},
       with_period("2024-05-01..2024-06-30")},
      {"a one-day gap still splits",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2024-01-01", "2024-03-30"), E("mut-100", "insured", "2024-04-01")},
       with_period("2024-04-01..2024-12-31")},
      {"an ungranted file does not fill a gap",
       WithPeriod(Ask("mut-200", "person.address"), year),
       {E("mut-200", "insured", "2024-01-01", "2024-02-29"),
        E("mut-200", "dependent", "2024-03-01")},
       with_period("2024-01-01..2024-02-29")},
      {"other institutions' files do not count",
       WithPeriod(Ask("mut-200", "person.address"), year),
       {E("mut-200", "insured", "2024-01-01", "2024-02-29"), E("mut-100", "insured", "2024-03-01")},
       with_period("2024-01-01..2024-02-29")},
      {"files on another person do not count",
       WithPeriod(Ask("mut-200", "person.address"), year),
       {E("mut-200", "insured", "2024-01-01", "2024-02-29"),
        Entry{kOtherPerson, "mut-200", "insured", P("2024-03-01", "")}},
       with_period("2024-01-01..2024-02-29")},
      {"a past period is served if the file covered it (validity is judged today)",
       WithPeriod(Ask("mut-100", "person.address"), P("2010-01-01", "2010-12-31")),
       {E("mut-100", "insured", "2005-01-01", "2015-12-31")},
       with_period("2010-01-01..2010-12-31")},
  });
}

TEST(DecisionEngine, UsesTheFirstAuthorizationThatApplies) {
  const Period year = P("2024-01-01", "2024-12-31");
  ExpectGrants({
      {"type-wide A1 precedes institution-specific A2",
       Ask("mut-100", "person.address"),
       {E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A1", kA1Fields, {"nr"}}},
      {"type-wide A1 for another institution of the type",
       Ask("mut-200", "person.address"),
       {E("mut-200", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A1", kA1Fields, {"nr"}}},
      {"institution-specific A7 precedes type-wide A8",
       Ask("fam-1", "health.insurability"),
       {E("fam-1", "child-beneficiary", "2020-01-01"), E("mut-200", "insured", "2000-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A7", {"status", "since"}, {"mut-200"}}},
      {"type-wide A8 for the institution A7 does not name",
       Ask("fam-2", "health.insurability"),
       {E("fam-2", "child-beneficiary", "2020-01-01"), E("mut-200", "insured", "2000-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A8", {"status", "holder", "since"}, {"mut-200"}}},
      {"an authorization valid only today",
       Ask("fam-2", "person.address"),
       {E("fam-2", "child-beneficiary", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A6", {"municipality"}, {"nr"}}},
      {"several capacities, only one granted",
       Ask("fam-2", "person.address"),
       {E("fam-2", "allowance-recipient", "2020-01-01"),
        E("fam-2", "child-beneficiary", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A6", {"municipality"}, {"nr"}}},
      {"both capacities granted: the first in definition order",
       Ask("mut-100", "person.address"),
       {E("mut-100", "dependent", "2020-01-01"), E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A1", kA1Fields, {"nr"}}},
      {"the capacity restriction selects the file, hence A3",
       WithCapacity(Ask("mut-100", "person.address"), "dependent"),
       {E("mut-100", "dependent", "2020-01-01"), E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A3", {"street", "country"}, {"nr"}}},
      {"files of two granted capacities merge; the first authorization applies",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "dependent", "2024-04-01"),
        E("mut-100", "insured", "2024-01-01", "2024-03-31")},
       {"2024-01-01..2024-12-31", "ISC/A1", kA1Fields, {"nr"}}},
      {"only an authorization whose file covers the served period applies",
       WithPeriod(Ask("mut-100", "person.address"), year),
       {E("mut-100", "insured", "2020-01-01", "2020-12-31"),
        E("mut-100", "dependent", "2024-01-01")},
       {"2024-01-01..2024-12-31", "ISC/A3", {"street", "country"}, {"nr"}}},
  });
}

TEST(DecisionEngine, RefusalQuotesUnknownFieldsBriefly) {
  const std::string huge(1 << 20, 'x');
  Result<Grant> grant = Engine().Decide(WithFields(Ask("mut-100", "person.address"), {huge, "street"}),
                                      std::vector<Entry>{E("mut-100", "insured", "2020-01-01")},
                                      kToday);
  ASSERT_FALSE(grant);
  EXPECT_EQ(grant.error().code(), StatusCode::kInvalidRequest);
  EXPECT_LT(grant.error().message().size(), 400u) << grant.error().message().substr(0, 200);
  EXPECT_NE(grant.error().message().find("'xxxxxxxx"), std::string::npos);
}

TEST(DecisionEngine, AsksForTheAuthorizedFieldsThatWereRequested) {
  const Entry insured = E("mut-100", "insured", "2020-01-01");
  ExpectGrants({
      {"no fields asked: every authorized field, in the data type's order",
       Ask("mut-100", "person.address"),
       {insured},
       {"2024-06-15..2024-06-15", "ISC/A1", {"street", "postal_code", "municipality"}, {"nr"}}},
      {"a subset, reordered and repeated, comes back in the data type's order",
       WithFields(Ask("mut-100", "person.address"), {"municipality", "street", "street"}),
       {insured},
       {"2024-06-15..2024-06-15", "ISC/A1", {"street", "municipality"}, {"nr"}}},
      {"unauthorized fields asked alongside are dropped",
       WithFields(Ask("mut-100", "person.address"), {"since", "postal_code", "country"}),
       {insured},
       {"2024-06-15..2024-06-15", "ISC/A1", {"postal_code"}, {"nr"}}},
  });
}

TEST(DecisionEngine, RoutesToTheProvidersThatHoldThePerson) {
  ExpectGrants({
      {"universal availability: every institution of the type, without any entry",
       Ask("mut-100", "person.address"),
       {E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A1", kA1Fields, {"nr"}}},
      {"capacity-bound: only the holder of a file of that capacity",
       Ask("fam-1", "health.insurability"),
       {E("fam-1", "child-beneficiary", "2020-01-01"), E("mut-200", "insured", "2020-01-01"),
        E("mut-100", "dependent", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A7", {"status", "since"}, {"mut-200"}}},
      {"capacity-bound: a file outside the served period does not count",
       Ask("fam-1", "health.insurability"),
       {E("fam-1", "child-beneficiary", "2020-01-01"),
        E("mut-100", "insured", "2000-01-01", "2023-12-31"), E("mut-200", "insured", "2024-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A7", {"status", "since"}, {"mut-200"}}},
      {"capacity-bound against the served, not the requested, period",
       WithPeriod(Ask("fam-1", "health.insurability"), P("2023-01-01", "2024-12-31")),
       {E("fam-1", "child-beneficiary", "2024-01-01"),
        E("mut-100", "insured", "2000-01-01", "2023-12-31"), E("mut-200", "insured", "2024-01-01")},
       {"2024-01-01..2024-12-31", "ISC/A7", {"status", "since"}, {"mut-200"}}},
      {"several holders: definition order, each once",
       WithPeriod(Ask("fam-1", "health.insurability"), P("2023-01-01", "2024-12-31")),
       {E("fam-1", "child-beneficiary", "2020-01-01"), E("mut-200", "insured", "2024-01-01"),
        E("mut-200", "insured", "2020-01-01", "2023-06-30"),
        E("mut-100", "insured", "2023-07-01", "2023-12-31")},
       {"2023-01-01..2024-12-31", "ISC/A7", {"status", "since"}, {"mut-100", "mut-200"}}},
      {"the requester is asked when it is itself a source",
       Ask("mut-100", "health.insurability"),
       {E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A9", {"status", "holder", "since"}, {"mut-100"}}},
      {"the requester is asked when its type is a universal source",
       Ask("nr", "person.address"),
       {E("nr", "registered", "1985-07-30")},
       {"2024-06-15..2024-06-15", "ISC/A12", {"street"}, {"nr"}}},
      {"capacity-bound at another type",
       Ask("mut-100", "family.allowance"),
       {E("mut-100", "insured", "2020-01-01"), E("fam-2", "allowance-recipient", "2020-01-01"),
        E("fam-1", "child-beneficiary", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A10", {"amount"}, {"fam-2"}}},
      {"nobody holds it: an empty list, not a refusal",
       Ask("mut-100", "family.allowance"),
       {E("mut-100", "insured", "2020-01-01"),
        E("fam-2", "allowance-recipient", "2020-01-01", "2023-12-31")},
       {"2024-06-15..2024-06-15", "ISC/A10", {"amount"}, {}}},
      {"no availability row at all",
       Ask("mut-100", "person.photo"),
       {E("mut-100", "insured", "2020-01-01")},
       {"2024-06-15..2024-06-15", "ISC/A11", {"jpeg"}, {}}},
  });
}

TEST(DecisionEngine, KeepsManyFilesOffTheStackCorrectly) {
  // More granted pieces than Decide keeps inline: monthly files with a gap
  // in the middle of the year.
  std::vector<Entry> entries;
  for (int month = 1; month <= 12; ++month) {
    if (month == 6) continue;
    for (int copy = 0; copy < 2; ++copy) {
      Date first = *Date::FromCivil(2024, month, 1);
      Date last = *Date::FromCivil(2024, month, DaysInMonth(2024, month));
      entries.push_back(Entry{kPerson, "mut-100", "insured", Period{first, last}});
    }
  }
  ASSERT_GT(entries.size(), 16u);
  Result<Grant> grant = Engine().Decide(
      WithPeriod(Ask("mut-100", "person.address"), P("2024-01-01", "2024-12-31")), entries, kToday);
  ASSERT_TRUE(grant.has_value()) << grant.error().ToString();
  EXPECT_EQ(grant->period, P("2024-07-01", "2024-12-31"));
}

TEST(DecisionEngine, DecidesTheSameFromManyThreads) {
  const std::vector<Entry> entries = {E("fam-1", "child-beneficiary", "2020-01-01"),
                                      E("mut-200", "insured", "2020-01-01")};
  const ConsultationRequest request = Ask("fam-1", "health.insurability");
  const Outcome expected{"2024-06-15..2024-06-15", "ISC/A7", {"status", "since"}, {"mut-200"}};
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        Result<Grant> grant = Engine().Decide(request, entries, kToday);
        if (!grant || !(Summarize(*grant) == expected)) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

struct SubscriberCase {
  std::string name;
  std::string source;
  std::string data_type;
  std::vector<Entry> entries;
  // "institution: field field ... / legal basis ...", one per subscriber
  std::vector<std::string> expected;
};

std::string Describe(const Subscriber& subscriber) {
  std::string out = subscriber.institution->id + ":";
  for (std::string_view field : subscriber.fields) (out += ' ') += field;
  out += " /";
  for (const network::Authorization* authorization : subscriber.authorizations) {
    (out += ' ') += authorization->legal_basis;
  }
  return out;
}

TEST(DecisionEngine, FindsTheSubscribersOfAMutation) {
  const std::vector<SubscriberCase> cases = {
      {"an active insured file at each mutuality (type-wide subscription)",
       "nr",
       "person.address",
       {E("mut-200", "insured", "2020-01-01"), E("mut-100", "insured", "2020-01-01", "2024-12-31")},
       {"mut-100: street postal_code municipality / ISC/A1",
        "mut-200: street postal_code municipality / ISC/A1"}},
      {"two qualifying capacities: the union of their fields",
       "nr",
       "person.address",
       {E("mut-100", "insured", "2020-01-01"), E("mut-100", "dependent", "2020-01-01")},
       {"mut-100: street postal_code municipality country / ISC/A1 ISC/A3"}},
      {"the same file twice counts once",
       "nr",
       "person.address",
       {E("mut-100", "insured", "2020-01-01", "2022-12-31"), E("mut-100", "insured", "2023-01-01")},
       {"mut-100: street postal_code municipality / ISC/A1"}},
      {"a file that ended yesterday or starts tomorrow is not active",
       "nr",
       "person.address",
       {E("mut-100", "insured", "2020-01-01", "2024-06-14"), E("mut-200", "insured", "2024-06-16")},
       {}},
      {"a file that ends today or starts today is active",
       "nr",
       "person.address",
       {E("mut-100", "insured", "2020-01-01", "2024-06-15"), E("mut-200", "insured", "2024-06-15")},
       {"mut-100: street postal_code municipality / ISC/A1",
        "mut-200: street postal_code municipality / ISC/A1"}},
      {"subscribed but no authorization valid today",
       "nr",
       "person.address",
       {E("fam-1", "allowance-recipient", "2020-01-01")},
       {}},
      {"subscribed and authorized for one capacity only",
       "nr",
       "person.address",
       {E("fam-2", "child-beneficiary", "2020-01-01"),
        E("fam-2", "allowance-recipient", "2020-01-01")},
       {"fam-2: municipality / ISC/A6"}},
      {"a file of a capacity the type-wide subscription does not name",
       "nr",
       "person.address",
       {E("mut-200", "dependent", "2020-01-01")},
       {}},
      {"authorized but not subscribed to that data type",
       "mut-200",
       "health.insurability",
       {E("fam-1", "child-beneficiary", "2020-01-01"), E("mut-200", "insured", "2020-01-01")},
       {}},
      {"the source is never its own subscriber",
       "mut-100",
       "health.insurability",
       {E("mut-100", "insured", "2020-01-01"), E("mut-200", "insured", "2024-01-01")},
       {"mut-200: status holder since / ISC/A9"}},
      {"definition order, whatever the order of the entries",
       "fam-1",
       "health.insurability",
       {E("mut-200", "insured", "2024-01-01"), E("mut-100", "insured", "2020-01-01")},
       {"mut-100: status holder since / ISC/A9", "mut-200: status holder since / ISC/A9"}},
      {"a person with no entries", "nr", "person.address", {}, {}},
      {"a data type nobody subscribes to",
       "fam-2",
       "family.allowance",
       {E("mut-100", "insured", "2020-01-01")},
       {}},
      {"an unknown data type",
       "nr",
       "person.shoe-size",
       {E("mut-100", "insured", "2020-01-01")},
       {}},
      {"an entry of an institution that left the network",
       "nr",
       "person.address",
       {E("mut-999", "insured", "2020-01-01"), E("mut-100", "insured", "2020-01-01")},
       {"mut-100: street postal_code municipality / ISC/A1"}},
  };
  for (const SubscriberCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> described;
    for (const Subscriber& subscriber :
         Engine().SubscribersOf(c.source, c.data_type, c.entries, kToday)) {
      described.push_back(Describe(subscriber));
    }
    EXPECT_EQ(described, c.expected);
  }
}

TEST(DecisionEngine, KnowsTheAuthenticSources) {
  struct Case {
    std::string institution;
    std::string data_type;
    bool expected;
  };
  const std::vector<Case> cases = {
      {"nr", "person.address", true},            // universal availability
      {"mut-100", "person.address", false},      // its type is not named
      {"mut-100", "health.insurability", true},  // capacity-bound still names the type
      {"mut-200", "health.insurability", true},
      {"fam-1", "family.allowance", true},
      {"nr", "family.allowance", false},
      {"mut-100", "person.photo", false},    // available nowhere
      {"mut-999", "person.address", false},  // unknown institution
      {"nr", "person.shoe-size", false},     // unknown data type
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.institution + " " + c.data_type);
    EXPECT_EQ(Engine().IsSource(c.institution, c.data_type), c.expected);
  }
}

TEST(DecisionEngine, WorksOnAnEmptyNetwork) {
  DecisionEngine engine(std::make_shared<const network::Definition>());
  Result<Grant> grant = engine.Decide(Ask("mut-100", "person.address"), {}, kToday);
  ASSERT_FALSE(grant.has_value());
  EXPECT_EQ(grant.error().code(), StatusCode::kUnknownInstitution);
  EXPECT_TRUE(engine.SubscribersOf("nr", "person.address", {}, kToday).empty());
  EXPECT_FALSE(engine.IsSource("nr", "person.address"));
}

}  // namespace
}  // namespace carrefour::directory
