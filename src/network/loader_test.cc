// SPDX-License-Identifier: EUPL-1.2
#include "network/loader.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace carrefour::network {
namespace {

// A small valid network; most tests append one element with one mistake.
constexpr std::string_view kBase = R"([[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution_type]]
id = "national-register"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Christian health insurer"
endpoint = "https://127.0.0.1:9104/"

[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/001"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
)";

// The 1-based line of the first line of `text` that contains `needle`; 0 if
// none does. Tests mark the line they expect an error on with "# <-" rather
// than counting lines by hand.
int LineWith(std::string_view text, std::string_view needle) {
  size_t at = text.find(needle);
  if (at == std::string_view::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

std::string Describe(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& diagnostic : diagnostics) out += diagnostic.ToString() + "\n";
  return out;
}

Definition MustParse(std::string_view text) {
  tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(text, "test.toml");
  if (!definition) ADD_FAILURE() << Describe(definition.error());
  return definition ? std::move(*definition) : Definition();
}

enum class Placement { kAfterBase, kBeforeBase, kAlone };

// One mistake and the one diagnostic it must produce, on the line marked
// "# <-". In `message`, "{first}" stands for the line marked "# first" (where
// a duplicate was first defined).
struct Row {
  std::string_view name;
  std::string_view text;
  std::string_view message;
  Placement placement = Placement::kAfterBase;
};

void ExpectOneDiagnostic(const Row& row) {
  SCOPED_TRACE(row.name);
  std::string text;
  switch (row.placement) {
    case Placement::kAfterBase: text = std::string(kBase) + "\n" + std::string(row.text); break;
    case Placement::kBeforeBase: text = std::string(row.text) + "\n" + std::string(kBase); break;
    case Placement::kAlone: text = std::string(row.text); break;
  }
  int line = LineWith(text, "# <-");
  ASSERT_GT(line, 0) << "the row marks no line";
  std::string message(row.message);
  if (size_t at = message.find("{first}"); at != std::string::npos) {
    message.replace(at, 7, std::to_string(LineWith(text, "# first")));
  }

  tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(text, "net.toml");
  ASSERT_FALSE(definition) << "accepted:\n" << text;
  ASSERT_EQ(definition.error().size(), 1u) << Describe(definition.error());
  const Diagnostic& diagnostic = definition.error().front();
  EXPECT_EQ(diagnostic.source, "net.toml");
  EXPECT_EQ(diagnostic.line, line) << text;
  EXPECT_EQ(diagnostic.message, message);
}

TEST(Loader, AcceptsTheBaseNetworkWithDefaults) {
  Definition definition = MustParse(kBase);
  EXPECT_EQ(definition.source(), "test.toml");
  ASSERT_EQ(definition.institution_types().size(), 2u);
  ASSERT_EQ(definition.institutions().size(), 2u);
  ASSERT_EQ(definition.data_types().size(), 1u);
  ASSERT_EQ(definition.availability().size(), 1u);
  ASSERT_EQ(definition.authorizations().size(), 1u);
  ASSERT_EQ(definition.subscriptions().size(), 1u);

  EXPECT_TRUE(definition.FindInstitutionType("national-register")->capacities.empty());
  const Institution* nr = definition.FindInstitution("nr");
  ASSERT_NE(nr, nullptr);
  EXPECT_EQ(nr->name, "nr") << "name defaults to the id";
  EXPECT_EQ(nr->line, LineWith(kBase, "id = \"nr\"") - 1);
  const Institution* mutuality = definition.FindInstitution("mut-100");
  EXPECT_EQ(mutuality->name, "Christian health insurer");
  EXPECT_EQ(mutuality->endpoint, "https://127.0.0.1:9104") << "trailing slash dropped";
  EXPECT_EQ(mutuality->endpoint_host, "127.0.0.1");
  EXPECT_EQ(mutuality->endpoint_port, 9104);
  EXPECT_EQ(&definition.TypeOf(*mutuality), definition.FindInstitutionType("mutuality"));

  const Availability& availability = definition.availability().front();
  EXPECT_FALSE(availability.capacity.has_value());

  const Authorization& authorization = definition.authorizations().front();
  EXPECT_EQ(authorization.fields, definition.FindDataType("person.address")->fields)
      << "absent fields grant the whole data type";
  EXPECT_EQ(authorization.validity.from, *Date::Parse("2020-01-01"));
  EXPECT_TRUE(authorization.validity.IsOpen());
  EXPECT_EQ(authorization.line, LineWith(kBase, "[[authorization]]"));
  EXPECT_TRUE(authorization.Names(*mutuality));
  EXPECT_EQ(definition.subscriptions().front().line, LineWith(kBase, "[[subscription]]"));
}

TEST(Loader, ReadsEveryKeyOfEveryElement) {
  Definition definition = MustParse(std::string(kBase) + R"(
[[availability]]
data_type = "person.address"
provider_type = "mutuality"
capacity = "insured"

[[authorization]]
data_type = "person.address"
requester = "mut-100"
capacity = "dependent"
fields = ["street", "municipality"]
legal_basis = "ISC/24/002"
from = "2021-02-03"
to = 2021-12-31

[[subscription]]
institution = "mut-100"
data_type = "person.address"
capacity = "dependent"
)");
  ASSERT_EQ(definition.availability().size(), 2u);
  EXPECT_EQ(definition.availability()[1].capacity, "insured");
  ASSERT_EQ(definition.authorizations().size(), 2u);
  const Authorization& authorization = definition.authorizations()[1];
  EXPECT_EQ(authorization.requester, "mut-100");
  EXPECT_TRUE(authorization.requester_type.empty());
  EXPECT_EQ(authorization.capacity, "dependent");
  EXPECT_EQ(authorization.fields, (std::vector<std::string>{"street", "municipality"}));
  EXPECT_EQ(authorization.legal_basis, "ISC/24/002");
  EXPECT_EQ(authorization.validity,
            (Period{*Date::Parse("2021-02-03"), *Date::Parse("2021-12-31")}))
      << "from accepts a YYYY-MM-DD string too";
  ASSERT_EQ(definition.subscriptions().size(), 2u);
  EXPECT_EQ(definition.subscriptions()[1].institution, "mut-100");
  EXPECT_TRUE(definition.subscriptions()[1].institution_type.empty());
}

TEST(Loader, AcceptsElementsInAnyOrderAndInlineTables) {
  // References may point forward: sections are read in dependency order.
  Definition definition = MustParse(R"(
subscription = []
authorization = []
availability = [{ data_type = "d", provider_type = "t" }]
data_type = [{ id = "d", fields = ["x"] }]
institution = [{ id = "i", type = "t", endpoint = "https://[::1]:1" }]
institution_type = [{ id = "t" }]
)");
  EXPECT_EQ(definition.FindInstitution("i")->endpoint_host, "::1");
  EXPECT_EQ(definition.FindInstitution("i")->endpoint, "https://[::1]:1");
}

TEST(Loader, AcceptsAnEmptyDefinition) {
  Definition definition = MustParse("# nothing yet\n");
  EXPECT_TRUE(definition.institutions().empty());
}

TEST(Loader, ReportsTomlSyntaxErrorsWithTheirLine) {
  const Row rows[] = {
      {"unterminated string", "[[institution]]\nid = \"mut-300  # <-\n", ""},
      {"missing value", "[[institution]]\nid = # <-\n", ""},
      {"redefined key", "[[institution]]\nid = \"a\"\nid = \"b\" # <-\n", ""},
      {"invalid date", "[[authorization]]\nfrom = 2020-02-30 # <-\n", ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    std::string text = std::string(kBase) + "\n" + std::string(row.text);
    tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(text, "x.toml");
    ASSERT_FALSE(definition);
    ASSERT_EQ(definition.error().size(), 1u) << Describe(definition.error());
    EXPECT_EQ(definition.error().front().line, LineWith(text, "# <-"));
    EXPECT_FALSE(definition.error().front().message.empty());
  }
  // toml++'s own words, pinned once so that a change of library shows.
  tl::expected<Definition, Diagnostics> definition =
      ParseDefinitionWithDiagnostics("a = 1\na = 2\n", "x.toml");
  ASSERT_FALSE(definition);
  EXPECT_EQ(definition.error().front().ToString(),
            "x.toml:2: Error while parsing key-value pair: cannot redefine existing integer 'a'");
}

TEST(Loader, RefusesUnknownKeysNamingTableAndAllowedKeys) {
  const Row rows[] = {
      {"top level", "institutions = []  # <-",
       "unknown key 'institutions' at the top level (allowed keys: institution_type, institution, "
       "data_type, availability, authorization, subscription, research_project, bis_register, "
       "bis_authorization, transparency_access, quota); did you mean 'institution'?",
       Placement::kBeforeBase},
      {"top level, nothing close", "version = 2  # <-",
       "unknown key 'version' at the top level (allowed keys: institution_type, institution, "
       "data_type, availability, authorization, subscription, research_project, bis_register, "
       "bis_authorization, transparency_access, quota)",
       Placement::kBeforeBase},
      {"institution type", "[[institution_type]]\nid = \"x\"\ncapacity = [\"a\"]  # <-",
       "unknown key 'capacity' in [[institution_type]] (allowed keys: id, capacities); did you "
       "mean 'capacities'?"},
      {"institution",
       "[[institution]]\nid = \"mut-300\"\ntype = \"mutuality\"\nendpoint = "
       "\"https://127.0.0.1:9105\"\nnam = \"Socialist health insurer\"  # <-",
       "unknown key 'nam' in [[institution]] (allowed keys: id, type, name, endpoint); did you mean "
       "'name'?"},
      {"data type", "[[data_type]]\nid = \"x\"\nfields = [\"a\"]\ndescription = \"X\"  # <-",
       "unknown key 'description' in [[data_type]] (allowed keys: id, fields, research_fields, quasi_identifiers)"},
      {"availability",
       "[[availability]]\ndata_type = \"person.address\"\nprovider_type = \"mutuality\"\n"
       "capacities = \"insured\"  # <-",
       "unknown key 'capacities' in [[availability]] (allowed keys: data_type, provider_type, "
       "capacity); did you mean 'capacity'?"},
      {"authorization",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_base = \"ISC/24/001\"  # <-\nlegal_basis = \"x\"\n"
       "from = 2020-01-01",
       "unknown key 'legal_base' in [[authorization]] (allowed keys: data_type, requester, "
       "requester_type, capacity, fields, legal_basis, from, to); did you mean 'legal_basis'?"},
      {"subscription",
       "[[subscription]]\ninstitution = \"mut-100\"\ndatatype = \"person.address\"  # <-\n"
       "data_type = \"person.address\"\ncapacity = \"insured\"",
       "unknown key 'datatype' in [[subscription]] (allowed keys: institution, institution_type, "
       "data_type, capacity); did you mean 'data_type'?"},
      {"sub-table of an element", "[institution.contact]  # <-\nemail = \"x@example.org\"",
       "unknown key 'contact' in [[institution]] (allowed keys: id, type, name, endpoint)"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesSectionsThatAreNotArraysOfTables) {
  const Row rows[] = {
      {"a table", "[data_type]  # <-\nid = \"x\"\nfields = [\"a\"]",
       "'data_type' must be an array of tables: write [[data_type]], not [data_type]",
       Placement::kAlone},
      {"a string", "institution = \"nr\"  # <-",
       "'institution' must be an array of tables ([[institution]]), not a string",
       Placement::kAlone},
      {"an array of integers", "availability = [1]  # <-",
       "each element of 'availability' must be a table, not an integer", Placement::kAlone},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesMissingRequiredKeysAtTheTableLine) {
  const Row rows[] = {
      {"institution type id", "[[institution_type]]  # <-\ncapacities = [\"a\"]",
       "[[institution_type]] is missing required key 'id'"},
      {"institution id", "[[institution]]  # <-\ntype = \"mutuality\"",
       "[[institution]] is missing required key 'id'"},
      {"institution type", "[[institution]]  # <-\nid = \"mut-300\"",
       "[[institution]] is missing required key 'type'"},
      {"data type fields", "[[data_type]]  # <-\nid = \"person.death\"",
       "[[data_type]] is missing required key 'fields'"},
      {"availability data type", "[[availability]]  # <-\nprovider_type = \"national-register\"",
       "[[availability]] is missing required key 'data_type'"},
      {"availability provider type", "[[availability]]  # <-\ndata_type = \"person.address\"",
       "[[availability]] is missing required key 'provider_type'"},
      {"authorization data type",
       "[[authorization]]  # <-\nrequester_type = \"mutuality\"\ncapacity = \"insured\"\n"
       "legal_basis = \"x\"\nfrom = 2020-01-01",
       "[[authorization]] is missing required key 'data_type'"},
      {"authorization capacity",
       "[[authorization]]  # <-\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "legal_basis = \"x\"\nfrom = 2020-01-01",
       "[[authorization]] is missing required key 'capacity'"},
      {"authorization legal basis",
       "[[authorization]]  # <-\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nfrom = 2020-01-01",
       "[[authorization]] is missing required key 'legal_basis'"},
      {"authorization from",
       "[[authorization]]  # <-\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"",
       "[[authorization]] is missing required key 'from'"},
      {"subscription data type",
       "[[subscription]]  # <-\ninstitution = \"mut-100\"\ncapacity = \"insured\"",
       "[[subscription]] is missing required key 'data_type'"},
      {"subscription capacity",
       "[[subscription]]  # <-\ninstitution = \"mut-100\"\ndata_type = \"person.address\"",
       "[[subscription]] is missing required key 'capacity'"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesValuesOfTheWrongType) {
  const Row rows[] = {
      {"id not a string", "[[institution]]\nid = 300  # <-\ntype = \"mutuality\"",
       "'id' in [[institution]] must be a string, not an integer"},
      {"capacities not an array", "[[institution_type]]\nid = \"x\"\ncapacities = \"insured\"  # <-",
       "'capacities' in [[institution_type]] must be an array of strings, not a string"},
      {"field not a string", "[[data_type]]\nid = \"x\"\nfields = [\"a\", 2]  # <-",
       "'fields' in [[data_type]] must be an array of strings, but element 2 is an integer"},
      {"endpoint a table",
       "[[institution]]\nid = \"mut-300\"\ntype = \"mutuality\"\nendpoint = { port = 1 }  # <-",
       "'endpoint' in [[institution]] must be a string, not a table"},
      {"from an integer",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020  # <-",
       "'from' in [[authorization]] must be a date (2020-01-01), not an integer"},
      {"to a date-time",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\n"
       "to = 2021-01-01T00:00:00  # <-",
       "'to' in [[authorization]] must be a date (2020-01-01), not a date-time"},
      {"from a string that is no date",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = \"01/01/2020\"  # <-",
       "'from' in [[authorization]]: '01/01/2020' is not a date (expected YYYY-MM-DD)"},
      {"from a string that is no day",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = \"2021-02-29\"  # <-",
       "'from' in [[authorization]]: '2021-02-29' is not a day of the calendar"},
      {"from in year zero",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 0000-01-01  # <-",
       "'from' in [[authorization]]: 0000-01-01 is outside the years 0001-9999"},
      {"empty legal basis",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"\"  # <-\nfrom = 2020-01-01",
       "'legal_basis' in [[authorization]] is empty"},
      {"empty name",
       "[[institution]]\nid = \"mut-300\"\ntype = \"mutuality\"\nname = \"\"  # <-\n"
       "endpoint = \"https://127.0.0.1:9105\"",
       "'name' in [[institution]] is empty"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesDuplicateIdsNamingTheFirstDefinition) {
  const Row rows[] = {
      {"institution type",
       "[[institution_type]]  # first\nid = \"t\"\n\n[[institution_type]]\nid = \"t\"  # <-",
       "duplicate institution type id 't' (first defined at line {first})", Placement::kAlone},
      {"institution",
       "[[institution_type]]\nid = \"t\"\n[[institution]]  # first\nid = \"i\"\ntype = \"t\"\n"
       "[[institution]]\nid = \"i\"  # <-\ntype = \"t\"",
       "duplicate institution id 'i' (first defined at line {first})", Placement::kAlone},
      {"data type",
       "[[data_type]]  # first\nid = \"d\"\nfields = [\"a\"]\n[[data_type]]\nid = \"d\"  # <-\n"
       "fields = [\"b\"]",
       "duplicate data type id 'd' (first defined at line {first})", Placement::kAlone},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesDanglingReferences) {
  const Row rows[] = {
      {"institution to type",
       "[[institution]]\nid = \"mut-300\"\ntype = \"mutualty\"  # <-\n"
       "endpoint = \"https://127.0.0.1:9105\"",
       "'type' in [[institution]]: unknown institution type 'mutualty'; did you mean 'mutuality'?"},
      {"availability to data type",
       "[[availability]]\ndata_type = \"person.adress\"  # <-\nprovider_type = \"national-register\"",
       "'data_type' in [[availability]]: unknown data type 'person.adress'; did you mean "
       "'person.address'?"},
      {"availability to provider type",
       "[[availability]]\ndata_type = \"person.address\"\nprovider_type = \"registry\"  # <-",
       "'provider_type' in [[availability]]: unknown institution type 'registry'"},
      {"authorization to data type",
       "[[authorization]]\ndata_type = \"person.death\"  # <-\nrequester_type = \"mutuality\"\n"
       "capacity = \"insured\"\nlegal_basis = \"x\"\nfrom = 2020-01-01",
       "'data_type' in [[authorization]]: unknown data type 'person.death'"},
      {"authorization to requester",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester = \"mut-200\"  # <-\n"
       "capacity = \"insured\"\nlegal_basis = \"x\"\nfrom = 2020-01-01",
       "'requester' in [[authorization]]: unknown institution 'mut-200'; did you mean 'mut-100'?"},
      {"authorization to requester type",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"pension-service\"  # "
       "<-\ncapacity = \"insured\"\nlegal_basis = \"x\"\nfrom = 2020-01-01",
       "'requester_type' in [[authorization]]: unknown institution type 'pension-service'"},
      {"subscription to institution",
       "[[subscription]]\ninstitution = \"hub\"  # <-\ndata_type = \"person.address\"\n"
       "capacity = \"insured\"",
       "'institution' in [[subscription]]: unknown institution 'hub'"},
      {"subscription to institution type",
       "[[subscription]]\ninstitution_type = \"mutualities\"  # <-\ndata_type = \"person.address\"\n"
       "capacity = \"insured\"",
       "'institution_type' in [[subscription]]: unknown institution type 'mutualities'; did you "
       "mean 'mutuality'?"},
      {"subscription to data type",
       "[[subscription]]\ninstitution_type = \"mutuality\"\ndata_type = \"address\"  # <-\n"
       "capacity = \"insured\"",
       "'data_type' in [[subscription]]: unknown data type 'address'"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesCapacitiesNotAllowedForTheType) {
  const Row rows[] = {
      {"availability",
       "[[availability]]\ndata_type = \"person.address\"\nprovider_type = \"mutuality\"\n"
       "capacity = \"employee\"  # <-",
       "capacity 'employee' is not allowed for provider type 'mutuality' (its capacities: insured, "
       "dependent)"},
      {"availability at a type without capacities",
       "[[availability]]\ndata_type = \"person.address\"\nprovider_type = \"national-register\"\n"
       "capacity = \"registered\"  # <-",
       "capacity 'registered' is not allowed for provider type 'national-register': it declares no "
       "capacities"},
      {"authorization by requester type",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"insure\"  # <-\nlegal_basis = \"x\"\nfrom = 2020-01-01",
       "capacity 'insure' is not allowed for requester type 'mutuality' (its capacities: insured, "
       "dependent); did you mean 'insured'?"},
      {"authorization by requester",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester = \"mut-100\"\n"
       "capacity = \"employee\"  # <-\nlegal_basis = \"x\"\nfrom = 2020-01-01",
       "capacity 'employee' is not allowed for institution type 'mutuality' of requester 'mut-100' "
       "(its capacities: insured, dependent)"},
      {"subscription by institution type",
       "[[subscription]]\ninstitution_type = \"mutuality\"\ndata_type = \"person.address\"\n"
       "capacity = \"pensioner\"  # <-",
       "capacity 'pensioner' is not allowed for institution type 'mutuality' (its capacities: "
       "insured, dependent)"},
      {"subscription by institution",
       "[[subscription]]\ninstitution = \"nr\"\ndata_type = \"person.address\"\n"
       "capacity = \"insured\"  # <-",
       "capacity 'insured' is not allowed for institution type 'national-register' of institution "
       "'nr': it declares no capacities"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesAuthorizationFieldsOutsideTheDataType) {
  const Row rows[] = {
      {"unknown field",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\n"
       "fields = [\"street\", \"iban\"]  # <-",
       "'iban' is not a field of data type 'person.address' (its fields: street, postal_code, "
       "municipality)"},
      {"misspelt field",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\nfields = [\n"
       "  \"street\",\n  \"postalcode\",  # <-\n]",
       "'postalcode' is not a field of data type 'person.address' (its fields: street, "
       "postal_code, municipality); did you mean 'postal_code'?"},
      {"empty field list",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\nfields = []  # <-",
       "'fields' in [[authorization]] is empty: list the granted fields, or omit the key to grant "
       "all the data type's fields"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesValuesListedTwice) {
  const Row rows[] = {
      {"capacities",
       "[[institution_type]]\nid = \"x\"\ncapacities = [\n  \"insured\",\n  \"insured\",  # <-\n]",
       "'insured' is listed twice in 'capacities' in [[institution_type]]"},
      {"data type fields", "[[data_type]]\nid = \"x\"\nfields = [\"a\", \"b\", \"a\"]  # <-",
       "'a' is listed twice in 'fields' in [[data_type]]"},
      {"authorization fields",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\n"
       "fields = [\"street\", \"street\"]  # <-",
       "'street' is listed twice in 'fields' in [[authorization]]"},
      {"availability",
       "[[availability]]  # <-\ndata_type = \"person.address\"\nprovider_type = "
       "\"national-register\"",
       "duplicate availability of 'person.address' at provider type 'national-register' (first at "
       "line 23)"},
      {"subscription",
       "[[subscription]]  # <-\ninstitution_type = \"mutuality\"\ndata_type = \"person.address\"\n"
       "capacity = \"insured\"",
       "duplicate subscription of institution type 'mutuality' to 'person.address' for capacity "
       "'insured' (first at line 34)"},
  };
  ASSERT_EQ(LineWith(kBase, "[[availability]]"), 23);
  ASSERT_EQ(LineWith(kBase, "[[subscription]]"), 34);
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesFieldNamesThatConnectorsBindThemselves) {
  const Row rows[] = {
      {"niss", "[[data_type]]\nid = \"x\"\nfields = [\"street\", \"niss\"]  # <-",
       "field 'niss' is a name that connectors bind themselves (niss, id, source, data_type, "
       "cursor, effective, data): choose another name"},
      {"id", "[[data_type]]\nid = \"x\"\nfields = [\"id\"]  # <-",
       "field 'id' is a name that connectors bind themselves (niss, id, source, data_type, "
       "cursor, effective, data): choose another name"},
      {"source", "[[data_type]]\nid = \"x\"\nfields = [\"source\"]  # <-",
       "field 'source' is a name that connectors bind themselves (niss, id, source, data_type, "
       "cursor, effective, data): choose another name"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesPeriodsThatEndBeforeTheyStart) {
  ExpectOneDiagnostic(
      {"to before from",
       "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
       "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\nto = 2019-12-31  # <-",
       "'to' (2019-12-31) is before 'from' (2020-01-01) in [[authorization]]"});
  // A one-day authorization is fine.
  MustParse(std::string(kBase) +
            "[[authorization]]\ndata_type = \"person.address\"\nrequester_type = \"mutuality\"\n"
            "capacity = \"dependent\"\nlegal_basis = \"x\"\nfrom = 2020-01-01\nto = 2020-01-01\n");
}

TEST(Loader, RequiresExactlyOneRequesterAndOneSubscriber) {
  const Row rows[] = {
      {"authorization with both",
       "[[authorization]]  # <-\ndata_type = \"person.address\"\nrequester = \"mut-100\"\n"
       "requester_type = \"mutuality\"\ncapacity = \"dependent\"\nlegal_basis = \"x\"\n"
       "from = 2020-01-01",
       "[[authorization]] has both 'requester' and 'requester_type': give exactly one"},
      {"authorization with neither",
       "[[authorization]]  # <-\ndata_type = \"person.address\"\ncapacity = \"dependent\"\n"
       "legal_basis = \"x\"\nfrom = 2020-01-01",
       "[[authorization]] needs 'requester' or 'requester_type' (exactly one)"},
      {"subscription with both",
       "[[subscription]]  # <-\ninstitution = \"mut-100\"\ninstitution_type = \"mutuality\"\n"
       "data_type = \"person.address\"\ncapacity = \"insured\"",
       "[[subscription]] has both 'institution' and 'institution_type': give exactly one"},
      {"subscription with neither",
       "[[subscription]]  # <-\ndata_type = \"person.address\"\ncapacity = \"insured\"",
       "[[subscription]] needs 'institution' or 'institution_type' (exactly one)"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, RefusesMalformedIds) {
  const std::string long_id(65, 'a');
  const std::string long_row =
      fmt::format("[[institution]]\nid = \"{}\"  # <-\ntype = \"mutuality\"", long_id);
  const std::string long_message = fmt::format(
      "institution id '{}' is longer than 64 characters (it is the CN of the institution's "
      "certificate)",
      long_id);
  const Row rows[] = {
      {"institution id with a space", "[[institution]]\nid = \"mut 300\"  # <-\ntype = \"mutuality\"",
       "institution id 'mut 300' may only use a-z, 0-9, '.', '_' and '-' (it is the CN of the "
       "institution's certificate)"},
      {"institution id in capitals", "[[institution]]\nid = \"MUT-300\"  # <-\ntype = \"mutuality\"",
       "institution id 'MUT-300' may only use a-z, 0-9, '.', '_' and '-' (it is the CN of the "
       "institution's certificate)"},
      {"empty institution id", "[[institution]]\nid = \"\"  # <-\ntype = \"mutuality\"",
       "'id' in [[institution]] is empty"},
      {"institution id too long for a CN", long_row, long_message},
      {"reserved hub id",
       "[[institution]]\nid = \"hub\"  # <-\ntype = \"mutuality\"\nendpoint = "
       "\"https://127.0.0.1:9100\"",
       "institution id 'hub' is reserved for the hub's own certificate (CN=hub); choose another "
       "id"},
      {"institution type id", "[[institution_type]]\nid = \"Health Insurer\"  # <-",
       "institution type id 'Health Insurer' may only use a-z, 0-9, '.', '_' and '-'"},
      {"data type id", "[[data_type]]\nid = \"person/death\"  # <-\nfields = [\"date\"]",
       "data type id 'person/death' may only use a-z, 0-9, '.', '_' and '-'"},
      {"capacity", "[[institution_type]]\nid = \"x\"\ncapacities = [\"Insured\"]  # <-",
       "capacity 'Insured' may only use a-z, 0-9, '.', '_' and '-'"},
      {"empty capacity", "[[institution_type]]\nid = \"x\"\ncapacities = [\"\"]  # <-",
       "capacity is empty"},
      {"field", "[[data_type]]\nid = \"x\"\nfields = [\"postal code\"]  # <-",
       "field 'postal code' may only use letters, digits and '_' (fields are JSON keys and "
       "connector columns)"},
      {"data type without fields", "[[data_type]]\nid = \"x\"\nfields = []  # <-",
       "'fields' in [[data_type]] is empty: a data type has at least one field"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);
}

TEST(Loader, ParsesEndpoints) {
  struct Case {
    std::string_view endpoint;
    std::string_view normalized;
    std::string_view host;
    uint16_t port;
  };
  const Case cases[] = {
      {"https://127.0.0.1:9101", "https://127.0.0.1:9101", "127.0.0.1", 9101},
      {"https://127.0.0.1:9101/", "https://127.0.0.1:9101", "127.0.0.1", 9101},
      {"https://connector.mut-100.example:443", "https://connector.mut-100.example:443",
       "connector.mut-100.example", 443},
      {"https://localhost:1", "https://localhost:1", "localhost", 1},
      {"https://[::1]:65535", "https://[::1]:65535", "::1", 65535},
      {"https://[2001:db8::7]:8443/", "https://[2001:db8::7]:8443", "2001:db8::7", 8443},
      {"https://10.0.0.1:08443", "https://10.0.0.1:8443", "10.0.0.1", 8443},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.endpoint);
    Definition definition = MustParse(fmt::format(
        "{}\n[[institution]]\nid = \"x\"\ntype = \"mutuality\"\nendpoint = \"{}\"\n", kBase,
        c.endpoint));
    const Institution* institution = definition.FindInstitution("x");
    ASSERT_NE(institution, nullptr);
    EXPECT_EQ(institution->endpoint, c.normalized);
    EXPECT_EQ(institution->endpoint_host, c.host);
    EXPECT_EQ(institution->endpoint_port, c.port);
  }
}

TEST(Loader, RefusesMalformedEndpoints) {
  struct Case {
    std::string_view endpoint;
    std::string_view reason;
  };
  const Case cases[] = {
      {"http://127.0.0.1:9101", "must use https:// (the hub calls connectors over mutual TLS)"},
      {"HTTP://127.0.0.1:9101", "must use https:// (the hub calls connectors over mutual TLS)"},
      {"127.0.0.1:9101", "must be an https://HOST:PORT URL"},
      {"https://127.0.0.1", "needs an explicit port (https://HOST:PORT)"},
      {"https://127.0.0.1:", "needs an explicit port (https://HOST:PORT)"},
      {"https://127.0.0.1:0", "has an invalid port '0' (1-65535)"},
      {"https://127.0.0.1:65536", "has an invalid port '65536' (1-65535)"},
      {"https://127.0.0.1:123456", "has an invalid port '123456' (1-65535)"},
      {"https://127.0.0.1:http", "has an invalid port 'http' (1-65535)"},
      {"https://127.0.0.1:-1", "has an invalid port '-1' (1-65535)"},
      {"https://127.0.0.1:9101/v1", "must not have a path, query or fragment (https://HOST:PORT)"},
      {"https://127.0.0.1:9101?x=1", "must not have a path, query or fragment (https://HOST:PORT)"},
      {"https://user@127.0.0.1:9101", "must not carry a user name (https://HOST:PORT)"},
      {"https://:9101", "has no host"},
      {"https://256.0.0.1:9101",
       "has an invalid host '256.0.0.1' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"https://127.0.0.01:9101",
       "has an invalid host '127.0.0.01' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"https://127.1:9101",
       "has an invalid host '127.1' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"https://-bad.example:9101",
       "has an invalid host '-bad.example' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"https://under_score.example:9101",
       "has an invalid host 'under_score.example' (a DNS name, an IPv4 address or an [IPv6] "
       "address)"},
      {"https://a..b:9101",
       "has an invalid host 'a..b' (a DNS name, an IPv4 address or an [IPv6] address)"},
      {"https://::1:9101", "must write an IPv6 address in brackets (https://[::1]:PORT)"},
      {"https://[::1:9101", "has an IPv6 address without its closing ']'"},
      {"https://[::g]:9101", "has an invalid IPv6 address '::g'"},
      {"https://[::1]", "needs an explicit port (https://HOST:PORT)"},
  };
  for (const Case& c : cases) {
    std::string text = fmt::format(
        "[[institution]]\nid = \"x\"\ntype = \"mutuality\"\nendpoint = \"{}\"  # <-", c.endpoint);
    std::string message = fmt::format("endpoint '{}' {}", c.endpoint, c.reason);
    ExpectOneDiagnostic({c.endpoint, text, message});
  }
}

TEST(Loader, RefusesWhatCouldNeverWork) {
  const Row rows[] = {
      {"a provider without an endpoint",
       "[[institution]]  # <-\nid = \"nr-backup\"\ntype = \"national-register\"",
       "institution 'nr-backup' has no endpoint, but its type 'national-register' provides "
       "'person.address' (availability at line 23): the hub could not call it"},
      {"a subscription no authorization covers",
       "[[subscription]]  # <-\ninstitution_type = \"mutuality\"\ndata_type = \"person.address\"\n"
       "capacity = \"dependent\"",
       "subscription of institution type 'mutuality' to 'person.address' for capacity "
       "'dependent' can never deliver: no authorization grants 'person.address' for capacity "
       "'dependent' to that type or its institutions"},
      {"an institution's subscription no authorization covers",
       "[[subscription]]  # <-\ninstitution = \"mut-100\"\ndata_type = \"person.address\"\n"
       "capacity = \"dependent\"",
       "subscription of institution 'mut-100' to 'person.address' for capacity 'dependent' can "
       "never deliver: no authorization grants 'person.address' for capacity 'dependent' to it or "
       "its type"},
  };
  for (const Row& row : rows) ExpectOneDiagnostic(row);

  // Consulting-only institutions need no endpoint, and an authorization
  // naming one institution covers a subscription of its type.
  MustParse(std::string(kBase) + R"(
[[institution]]
id = "mut-300"
type = "mutuality"

[[authorization]]
data_type = "person.address"
requester = "mut-300"
capacity = "dependent"
legal_basis = "x"
from = 2020-01-01

[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "dependent"
)");
}

TEST(Loader, ReportsEveryErrorInFileOrder) {
  constexpr std::string_view kText = R"([[institution_type]]
id = "mutuality"
capacities = ["insured"]
colour = "blue"

[[institution]]
id = "mut-100"
type = "mutualty"

[[data_type]]
id = "person.address"
fields = ["street"]

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "employee"
legal_basis = "ISC/24/001"
from = 2020-01-01
to = 2019-01-01
)";
  tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(kText, "n.toml");
  ASSERT_FALSE(definition);
  std::vector<int> lines;
  for (const Diagnostic& diagnostic : definition.error()) lines.push_back(diagnostic.line);
  EXPECT_EQ(lines, (std::vector<int>{4, 8, 17, 20})) << Describe(definition.error());

  Result<Definition> result = ParseDefinition(kText, "n.toml");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidRequest);
  EXPECT_EQ(result.error().message(),
            "n.toml:4: unknown key 'colour' in [[institution_type]] (allowed keys: id, "
            "capacities)\n"
            "n.toml:8: 'type' in [[institution]]: unknown institution type 'mutualty'; did you "
            "mean 'mutuality'?\n"
            "n.toml:17: capacity 'employee' is not allowed for requester type 'mutuality' (its "
            "capacities: insured)\n"
            "n.toml:20: 'to' (2019-01-01) is before 'from' (2020-01-01) in [[authorization]]");
}

// The hub's BIS register as docs/bis.md describes it: an institution with no
// endpoint whose type provides person.identity, named by [bis_register].
constexpr std::string_view kBisRegister = R"(
[[institution_type]]
id = "bis-register"

[[institution]]
id = "bis"
type = "bis-register"
name = "BIS register"

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]

[[availability]]
data_type = "person.identity"
provider_type = "bis-register"
)";

TEST(Loader, ReadsTheBisRegisterAndWhoMayWriteToIt) {
  Definition definition = MustParse(std::string(kBase) + std::string(kBisRegister) + R"(
[bis_register]
institution = "bis"

[[bis_authorization]]
requester_type = "mutuality"
legal_basis = "ISC/24/010"
from = 2020-01-01

[[bis_authorization]]
requester = "nr"
legal_basis = "ISC/24/011"
from = "2021-01-01"
to = 2025-12-31
)");
  EXPECT_EQ(definition.bis_register().institution, "bis");
  const std::vector<BisAuthorization>& authorizations = definition.bis_register().authorizations;
  ASSERT_EQ(authorizations.size(), 2u);
  EXPECT_EQ(authorizations[0].requester_type, "mutuality");
  EXPECT_EQ(authorizations[0].requester, "");
  EXPECT_EQ(authorizations[0].legal_basis, "ISC/24/010");
  EXPECT_EQ(authorizations[0].validity, (Period{*Date::Parse("2020-01-01"), std::nullopt}));
  EXPECT_EQ(authorizations[1].requester, "nr");
  EXPECT_EQ(authorizations[1].validity,
            (Period{*Date::Parse("2021-01-01"), *Date::Parse("2025-12-31")}));
  EXPECT_TRUE(authorizations[0].Names(*definition.FindInstitution("mut-100")));
  EXPECT_FALSE(authorizations[0].Names(*definition.FindInstitution("nr")));
  EXPECT_TRUE(authorizations[1].Names(*definition.FindInstitution("nr")));
  EXPECT_TRUE(definition.FindInstitution("bis")->endpoint.empty());

  EXPECT_EQ(MustParse(kBase).bis_register().institution, "");
  EXPECT_TRUE(MustParse(kBase).bis_register().authorizations.empty());
}

TEST(Loader, RefusesBisRegisterMistakes) {
  const std::string declared = std::string(kBisRegister) + "\n[bis_register]\ninstitution = \"bis\"\n";
  // Without the availability, so that no other rule (a provider without an
  // endpoint) speaks up when [bis_register] itself is wrong.
  const std::string institution_only =
      "[[institution_type]]\nid = \"bis-register\"\n\n[[institution]]\nid = \"bis\"\n"
      "type = \"bis-register\"\n";
  const std::string rows_text[] = {
      // 0: an array of tables
      institution_only + "\n[[bis_register]]  # <-\ninstitution = \"bis\"",
      // 1: a dangling institution
      institution_only + "\n[bis_register]\ninstitution = \"bsi\"  # <-",
      // 2: an endpoint the hub would never call
      std::string(kBase) + "\n[[institution_type]]\nid = \"bis-register\"\n\n[[institution]]\n"
          "id = \"bis\"\ntype = \"bis-register\"\nendpoint = \"https://127.0.0.1:9199\"\n\n"
          "[bis_register]\ninstitution = \"bis\"  # <-",
      // 3: a register that could not answer person.identity
      std::string(kBase) + "\n[[institution_type]]\nid = \"bis-register\"\n\n[[institution]]\n"
          "id = \"bis\"\ntype = \"bis-register\"\n\n[bis_register]\ninstitution = \"bis\"  # <-",
      // 4: authorizations without a register
      "[[bis_authorization]]  # <-\nrequester_type = \"mutuality\"\nlegal_basis = \"x\"\n"
          "from = 2020-01-01",
      // 5: both requester and requester_type
      declared + "\n[[bis_authorization]]  # <-\nrequester = \"mut-100\"\nrequester_type = "
                 "\"mutuality\"\nlegal_basis = \"x\"\nfrom = 2020-01-01",
      // 6: an unknown key
      declared + "\n[[bis_authorization]]\nrequester = \"mut-100\"\nlegal_base = \"x\"  # <-\n"
                 "legal_basis = \"x\"\nfrom = 2020-01-01",
      // 7: a period that ends before it starts
      declared + "\n[[bis_authorization]]\nrequester = \"mut-100\"\nlegal_basis = \"x\"\n"
                 "from = 2020-01-01\nto = 2019-12-31  # <-",
      // 8: a missing legal basis
      declared + "\n[[bis_authorization]]  # <-\nrequester = \"mut-100\"\nfrom = 2020-01-01",
      // 9: an unknown requester type
      declared + "\n[[bis_authorization]]\nrequester_type = \"mutualty\"  # <-\n"
                 "legal_basis = \"x\"\nfrom = 2020-01-01",
      // 10: an unknown key in [bis_register]
      declared + "endpoint = \"https://127.0.0.1:1\"  # <-",
  };
  const std::string_view messages[] = {
      "'bis_register' must be one table: write [bis_register], not [[bis_register]]",
      "'institution' in [bis_register]: unknown institution 'bsi'; did you mean 'bis'?",
      "institution 'bis' (line {institution}) is the BIS register, which the hub answers for "
      "itself: remove its 'endpoint'",
      "the BIS register 'bis' answers person.identity for BIS numbers: add an [[availability]] of "
      "'person.identity' at provider type 'bis-register' (without a capacity)",
      "[[bis_authorization]] needs a [bis_register] naming the institution that stands for the "
      "hub's BIS register",
      "[[bis_authorization]] has both 'requester' and 'requester_type': give exactly one",
      "unknown key 'legal_base' in [[bis_authorization]] (allowed keys: requester, requester_type, "
      "legal_basis, from, to); did you mean 'legal_basis'?",
      "'to' (2019-12-31) is before 'from' (2020-01-01) in [[bis_authorization]]",
      "[[bis_authorization]] is missing required key 'legal_basis'",
      "'requester_type' in [[bis_authorization]]: unknown institution type 'mutualty'; did you "
      "mean 'mutuality'?",
      "unknown key 'endpoint' in [bis_register] (allowed keys: institution)",
  };
  for (size_t i = 0; i < std::size(rows_text); ++i) {
    std::string text = rows_text[i];
    if (i != 2 && i != 3) text = std::string(kBase) + "\n" + text;
    std::string message(messages[i]);
    if (size_t at = message.find("{institution}"); at != std::string::npos) {
      message.replace(at, 13, std::to_string(LineWith(text, "id = \"bis\"") - 1));
    }
    ExpectOneDiagnostic(Row{"bis row " + std::to_string(i), text, message, Placement::kAlone});
  }
}

TEST(Loader, ReadsWhoMayReadTransparencyViews) {
  Definition definition = MustParse(std::string(kBase) + R"(
[[transparency_access]]
requester = "nr"
legal_basis = "ISC/22/050"
from = 2022-01-01

[[transparency_access]]
requester_type = "mutuality"
legal_basis = "ISC/22/051"
from = 2021-01-01
to = 2021-12-31
)");
  const std::vector<TransparencyAccess>& access = definition.transparency_access();
  ASSERT_EQ(access.size(), 2u);
  EXPECT_EQ(access[0].requester, "nr");
  EXPECT_EQ(access[0].requester_type, "");
  EXPECT_EQ(access[0].legal_basis, "ISC/22/050");
  EXPECT_EQ(access[0].validity, (Period{*Date::Parse("2022-01-01"), std::nullopt}));
  EXPECT_EQ(access[1].requester_type, "mutuality");
  EXPECT_EQ(access[1].validity, (Period{*Date::Parse("2021-01-01"), *Date::Parse("2021-12-31")}));
  const Institution& nr = *definition.FindInstitution("nr");
  const Institution& mutuality = *definition.FindInstitution("mut-100");
  EXPECT_EQ(definition.TransparencyAccessOf(nr, *Date::Parse("2022-01-01")), &access[0]);
  EXPECT_EQ(definition.TransparencyAccessOf(nr, *Date::Parse("2021-12-31")), nullptr);
  EXPECT_EQ(definition.TransparencyAccessOf(mutuality, *Date::Parse("2021-06-01")), &access[1]);
  EXPECT_EQ(definition.TransparencyAccessOf(mutuality, *Date::Parse("2022-01-01")), nullptr);
  EXPECT_TRUE(MustParse(kBase).transparency_access().empty());
}

TEST(Loader, RefusesTransparencyAccessMistakes) {
  const std::string rows_text[] = {
      // 0: both requester and requester_type
      "[[transparency_access]]  # <-\nrequester = \"mut-100\"\nrequester_type = \"mutuality\"\n"
      "legal_basis = \"x\"\nfrom = 2022-01-01",
      // 1: neither
      "[[transparency_access]]  # <-\nlegal_basis = \"x\"\nfrom = 2022-01-01",
      // 2: a dangling requester
      "[[transparency_access]]\nrequester = \"mydata\"  # <-\nlegal_basis = \"x\"\n"
      "from = 2022-01-01",
      // 3: an unknown requester type
      "[[transparency_access]]\nrequester_type = \"mutualty\"  # <-\nlegal_basis = \"x\"\n"
      "from = 2022-01-01",
      // 4: a missing legal basis
      "[[transparency_access]]  # <-\nrequester = \"nr\"\nfrom = 2022-01-01",
      // 5: a missing from
      "[[transparency_access]]  # <-\nrequester = \"nr\"\nlegal_basis = \"x\"",
      // 6: a period that ends before it starts
      "[[transparency_access]]\nrequester = \"nr\"\nlegal_basis = \"x\"\nfrom = 2022-01-01\n"
      "to = 2021-12-31  # <-",
      // 7: an unknown key
      "[[transparency_access]]\nrequester = \"nr\"\nlegal_basis = \"x\"\nfrom = 2022-01-01\n"
      "until = 2023-01-01  # <-",
      // 8: a table instead of an array of tables
      "[transparency_access]  # <-\nrequester = \"nr\"\nlegal_basis = \"x\"\nfrom = 2022-01-01",
  };
  const std::string_view messages[] = {
      "[[transparency_access]] has both 'requester' and 'requester_type': give exactly one",
      "[[transparency_access]] needs 'requester' or 'requester_type' (exactly one)",
      "'requester' in [[transparency_access]]: unknown institution 'mydata'",
      "'requester_type' in [[transparency_access]]: unknown institution type 'mutualty'; did you "
      "mean 'mutuality'?",
      "[[transparency_access]] is missing required key 'legal_basis'",
      "[[transparency_access]] is missing required key 'from'",
      "'to' (2021-12-31) is before 'from' (2022-01-01) in [[transparency_access]]",
      "unknown key 'until' in [[transparency_access]] (allowed keys: requester, requester_type, "
      "legal_basis, from, to)",
      "'transparency_access' must be an array of tables: write [[transparency_access]], not "
      "[transparency_access]",
  };
  for (size_t i = 0; i < std::size(rows_text); ++i) {
    ExpectOneDiagnostic(Row{"transparency row " + std::to_string(i),
                            std::string(kBase) + "\n" + rows_text[i], std::string(messages[i]),
                            Placement::kAlone});
  }
}

TEST(Loader, NeverThrowsOnGarbage) {
  std::string deep = "a = " + std::string(10000, '[');
  const std::string inputs[] = {
      std::string("\0\0\0", 3), "\xff\xfe\xfd", "[[[[", "[[institution]]\nid = \"\xc3\x28\"\n",
      deep, "institution = [[[]]]", "\"\"\"",
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(testing::PrintToString(input.substr(0, 20)));
    tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(input, "g");
    ASSERT_FALSE(definition);
    EXPECT_FALSE(definition.error().empty());
  }
}

class LoadDefinitionTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "carrefour-network-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(std::string_view name, std::string_view text) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(LoadDefinitionTest, LoadsAFileAndNamesItInMessages) {
  std::filesystem::path good = Write("good.toml", kBase);
  Result<Definition> definition = LoadDefinition(good);
  ASSERT_TRUE(definition) << definition.error().ToString();
  EXPECT_EQ(definition->source(), good.string());

  std::filesystem::path bad = Write("bad.toml", "[[institution]]\nid = \"x\"\n");
  Result<Definition> refused = LoadDefinition(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidRequest);
  EXPECT_EQ(refused.error().message(),
            bad.string() + ":1: [[institution]] is missing required key 'type'");
}

TEST_F(LoadDefinitionTest, RefusesMissingFilesAndDirectories) {
  Result<Definition> missing = LoadDefinition(dir_ / "absent.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.error().message(), (dir_ / "absent.toml").string() + ": no such file");

  Result<Definition> directory = LoadDefinition(dir_);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code(), StatusCode::kInvalidRequest);
  EXPECT_EQ(directory.error().message(),
            dir_.string() + ": is a directory, not a network definition file");

  tl::expected<Definition, Diagnostics> diagnosed = LoadDefinitionWithDiagnostics(dir_ / "absent.toml");
  ASSERT_FALSE(diagnosed);
  ASSERT_EQ(diagnosed.error().size(), 1u);
  EXPECT_EQ(diagnosed.error().front().line, 0);
}

std::filesystem::path SourceDir() {
  const char* dir = std::getenv("CARREFOUR_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path();
}

TEST(Examples, TheShippedNetworkLoads) {
  ASSERT_FALSE(SourceDir().empty()) << "CARREFOUR_SOURCE_DIR is not set";
  Result<Definition> definition = LoadDefinition(SourceDir() / "examples" / "network.toml");
  ASSERT_TRUE(definition) << definition.error().ToString();
  EXPECT_EQ(definition->institution_types().size(), 9u);
  EXPECT_EQ(definition->institutions().size(), 10u);
  EXPECT_EQ(definition->data_types().size(), 12u);
  EXPECT_EQ(definition->research_projects().size(), 1u);
  ASSERT_EQ(definition->transparency_access().size(), 1u);
  EXPECT_EQ(definition->transparency_access()[0].requester, "mydata");
  for (const Institution& institution : definition->institutions()) {
    SCOPED_TRACE(institution.id);
    if (institution.type == "research-centre" || institution.type == "citizen-portal") {
      EXPECT_EQ(institution.endpoint, "");  // provides nothing: no connector
      continue;
    }
    EXPECT_EQ(institution.endpoint_host, "127.0.0.1");
    EXPECT_GE(institution.endpoint_port, 9101);
    EXPECT_LE(institution.endpoint_port, 9108);
  }
  const DataType* replaced = definition->FindDataType("person.niss-replaced");
  ASSERT_NE(replaced, nullptr);
  EXPECT_EQ(replaced->fields, std::vector<std::string>{"new_niss"});
}

// Each file in examples/broken/ carries one mistake, on the line marked
// "# <-", and says in an "# expect: " comment what the loader answers.
TEST(Examples, EachBrokenExampleFailsWhereItSays) {
  ASSERT_FALSE(SourceDir().empty()) << "CARREFOUR_SOURCE_DIR is not set";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SourceDir() / "examples" / "broken")) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t expect = text.find("# expect: ");
    ASSERT_NE(expect, std::string::npos) << "no '# expect: ' comment";
    size_t start = expect + std::string_view("# expect: ").size();
    std::string message = text.substr(start, text.find('\n', start) - start);

    tl::expected<Definition, Diagnostics> definition = LoadDefinitionWithDiagnostics(entry.path());
    ASSERT_FALSE(definition);
    ASSERT_EQ(definition.error().size(), 1u) << Describe(definition.error());
    EXPECT_EQ(definition.error().front().line, LineWith(text, "# <-"));
    EXPECT_EQ(definition.error().front().message, message);
  }
  EXPECT_GE(files, 3);
}

}  // namespace
}  // namespace carrefour::network
