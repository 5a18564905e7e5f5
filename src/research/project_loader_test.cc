// SPDX-License-Identifier: EUPL-1.2
// [[research_project]] in the network definition: the loader's part
// (network/loader.cc), tested here beside the module that uses it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network/loader.h"

namespace carrefour::network {
namespace {

using ::testing::HasSubstr;

// The network every case adds its project to (lines 1-38).
constexpr char kBase[] = R"([[institution_type]]
id = "national-register"

[[institution_type]]
id = "collector"
capacities = ["employee"]

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
id = "uni-a"
type = "university"

[[data_type]]
id = "person.identity"
fields = ["last_name", "birth_date", "sex"]
research_fields = ["birth_date", "sex"]
quasi_identifiers = ["birth_date"]

[[data_type]]
id = "employment.wages"
fields = ["quarter", "gross_wage"]
research_fields = ["quarter", "gross_wage"]

[[data_type]]
id = "orphan.data"
fields = ["x"]
research_fields = ["x"]

[[availability]]
data_type = "person.identity"
provider_type = "national-register"
)";

constexpr char kAvailabilityWages[] = R"(
[[availability]]
data_type = "employment.wages"
provider_type = "collector"
capacity = "employee"
)";

constexpr char kGoodProject[] = R"(
[[research_project]]
id = "rp-wages"
title = "Wages by age"
requester = "uni-a"
legal_basis = "ISC/25/R07"
from = 2025-01-01
to = 2026-12-31
period = { from = 2024-01-01, to = 2024-12-31 }
k = 10
max_suppression = 2

[research_project.cohort]
institution_type = "collector"
capacity = "employee"
from = 2024-06-01

[[research_project.data]]
data_type = "person.identity"
fields = ["birth_date", "sex"]

[[research_project.data]]
data_type = "employment.wages"
fields = ["quarter", "gross_wage"]

[[research_project.quasi_identifier]]
data_type = "person.identity"
field = "birth_date"
coarsen = "year"

[[research_project.quasi_identifier]]
data_type = "employment.wages"
field = "gross_wage"
coarsen = "band"
width = 500
)";

TEST(ResearchProjectLoader, ReadsAWholeProject) {
  Result<Definition> definition =
      ParseDefinition(std::string(kBase) + kAvailabilityWages + kGoodProject, "network.toml");
  ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
  ASSERT_EQ(definition->research_projects().size(), 1u);
  const ResearchProject& p = *definition->FindResearchProject("rp-wages");
  EXPECT_EQ(p.title, "Wages by age");
  EXPECT_EQ(p.requester, "uni-a");
  EXPECT_EQ(p.legal_basis, "ISC/25/R07");
  EXPECT_EQ(p.validity.ToString(), "2025-01-01..2026-12-31");
  EXPECT_EQ(p.period.ToString(), "2024-01-01..2024-12-31");
  EXPECT_EQ(p.k, 10);
  EXPECT_EQ(p.max_suppression, 2);
  EXPECT_EQ(p.cohort.institution_type, "collector");
  EXPECT_EQ(p.cohort.capacity, "employee");
  EXPECT_FALSE(p.cohort.IsList());
  EXPECT_EQ(p.cohort.period.ToString(), "2024-06-01..2024-12-31");  // `to` from the project
  ASSERT_EQ(p.data.size(), 2u);
  EXPECT_EQ(p.data[1].fields, (std::vector<std::string>{"quarter", "gross_wage"}));
  ASSERT_EQ(p.quasi_identifiers.size(), 2u);
  EXPECT_EQ(p.quasi_identifiers[0].coarsen, Coarsening::kYear);
  EXPECT_EQ(p.quasi_identifiers[1].coarsen, Coarsening::kBand);
  EXPECT_EQ(p.quasi_identifiers[1].width, 500);
  EXPECT_EQ(definition->FindResearchProject("nope"), nullptr);
}

TEST(ResearchProjectLoader, DefaultsAndListCohortsAndMaps) {
  std::string text = std::string(kBase) + R"(
[[research_project]]
id = "rp-list"
requester = "uni-a"
legal_basis = "ISC/25/R08"
from = 2025-01-01
period = { from = 2024-01-01 }
cohort = { supplied_by = "onss" }
data = [{ data_type = "person.identity", fields = ["sex", "birth_date"] }]
quasi_identifier = [
  { data_type = "person.identity", field = "sex", coarsen = "map", map = { m = "x", f = "x" } },
  { data_type = "person.identity", field = "birth_date", coarsen = "keep" },
]
)";
  Result<Definition> definition = ParseDefinition(text, "network.toml");
  ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
  const ResearchProject& p = definition->research_projects().front();
  EXPECT_EQ(p.k, 5);
  EXPECT_EQ(p.max_suppression, 5);
  EXPECT_TRUE(p.validity.IsOpen());
  EXPECT_TRUE(p.cohort.IsList());
  EXPECT_EQ(p.cohort.supplied_by, "onss");
  ASSERT_EQ(p.quasi_identifiers.size(), 2u);
  EXPECT_EQ(p.quasi_identifiers[0].map.size(), 2u);
  EXPECT_EQ(p.quasi_identifiers[1].coarsen, Coarsening::kKeep);
  EXPECT_EQ(p.quasi_identifiers[0].map_default, "other");
}

// Research release is decided per data type, not by a list of names that
// look identifying: a field outside the type's `research_fields` is never
// extracted, and a field the type calls a quasi-identifier must have a
// declared coarsening (else it would leave raw and escape k-anonymity).
TEST(ResearchProjectLoader, EveryReleasedFieldIsClassifiedByItsDataType) {
  struct Case {
    const char* find;
    const char* replace;
    const char* message;
  };
  const Case cases[] = {
      {"research_fields = [\"birth_date\", \"sex\"]", "research_fields = [\"birth_date\"]",
       "'sex' of 'person.identity' is not released for research: the data type's "
       "'research_fields' (birth_date)"},
      {"research_fields = [\"birth_date\", \"sex\"]\n", "",
       "'birth_date' of 'person.identity' is not released for research: the data type's "
       "'research_fields' (none)"},
      {"quasi_identifiers = [\"birth_date\"]", "quasi_identifiers = [\"birth_date\", \"sex\"]",
       "'sex' of 'person.identity' is a quasi-identifier (its [[data_type]] says so): "
       "[[research_project]] 'rp-wages' must declare how it is coarsened"},
      {"research_fields = [\"birth_date\", \"sex\"]", "research_fields = [\"birth_date\", \"last_name\"]",
       "'last_name' of 'person.identity' is a direct identifier: it cannot be in 'research_fields'"},
      {"research_fields = [\"birth_date\", \"sex\"]", "research_fields = [\"birth_date\", \"sexe\"]",
       "'sexe' in 'research_fields' of data type 'person.identity' is not one of its fields"},
      {"quasi_identifiers = [\"birth_date\"]", "quasi_identifiers = [\"birth_date\", \"birth_date\"]",
       "'birth_date' is listed twice in 'quasi_identifiers' in [[data_type]]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.replace);
    std::string base = std::string(kBase) + kAvailabilityWages;
    size_t at = base.find(c.find);
    ASSERT_NE(at, std::string::npos);
    base.replace(at, std::string(c.find).size(), c.replace);
    tl::expected<Definition, Diagnostics> definition =
        ParseDefinitionWithDiagnostics(base + kGoodProject, "network.toml");
    ASSERT_FALSE(definition.has_value());
    std::string all;
    for (const Diagnostic& d : definition.error()) all += d.ToString() + "\n";
    EXPECT_THAT(all, HasSubstr(c.message));
  }
  // Unchanged, the same project loads: the refusals above are the
  // classification's, not the project's.
  EXPECT_TRUE(ParseDefinition(std::string(kBase) + kAvailabilityWages + kGoodProject, "network.toml"));
}

// Each case replaces one line of kGoodProject; the error must name the
// right line and say what is wrong.
TEST(ResearchProjectLoader, RefusesWithFileAndLine) {
  struct Case {
    const char* find;
    const char* replace;
    const char* message;
  };
  const Case cases[] = {
      {"requester = \"uni-a\"", "requester = \"uni-x\"", "unknown institution 'uni-x'"},
      {"fields = [\"birth_date\", \"sex\"]", "fields = [\"birth_date\", \"last_name\"]",
       "'last_name' of 'person.identity' is a direct identifier"},
      {"fields = [\"birth_date\", \"sex\"]", "fields = [\"birth_date\", \"sexe\"]",
       "'sexe' is not a field of data type 'person.identity'"},
      {"coarsen = \"year\"", "coarsen = \"yaer\"", "unknown coarsening 'yaer'"},
      {"field = \"birth_date\"", "field = \"sex2\"", "'sex2' is not among the fields"},
      {"width = 500", "", "needs 'width'"},
      {"capacity = \"employee\"\nfrom = 2024-06-01", "capacity = \"employe\"\nfrom = 2024-06-01",
       "capacity 'employe' is not allowed"},
      {"institution_type = \"collector\"\ncapacity", "supplied_by = \"onss\"\ncapacity",
       "a supplied list is taken as it is"},
      {"institution_type = \"collector\"",
       "institution_type = \"collector\"\ninstitution = \"onss\"", "exactly one of"},
      {"k = 10", "k = 1", "'k' in [[research_project]] must be between 2 and"},
      {"to = 2026-12-31", "to = 2024-12-31", "'to' (2024-12-31) is before 'from'"},
      {"period = { from = 2024-01-01, to = 2024-12-31 }",
       "period = { from = 2024-01-01, until = 2024-12-31 }", "unknown key 'until'"},
      {"data_type = \"employment.wages\"\nfields", "data_type = \"orphan.data\"\nfields",
       "no [[availability]] names data type 'orphan.data'"},
      {"title = \"Wages by age\"", "title = \"Wages by age\"\nsecret = 1", "unknown key 'secret'"},
  };
  const std::string base = std::string(kBase) + kAvailabilityWages;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.find);
    std::string project = kGoodProject;
    size_t at = project.find(c.find);
    ASSERT_NE(at, std::string::npos);
    project.replace(at, std::string(c.find).size(), c.replace);
    tl::expected<Definition, Diagnostics> definition =
        ParseDefinitionWithDiagnostics(base + project, "network.toml");
    ASSERT_FALSE(definition.has_value());
    const Diagnostics& errors = definition.error();
    ASSERT_FALSE(errors.empty());
    std::string all;
    for (const Diagnostic& d : errors) all += d.ToString() + "\n";
    EXPECT_THAT(all, HasSubstr(c.message));
    // The line points into the project, not at the top of the file.
    int base_lines = static_cast<int>(std::count(base.begin(), base.end(), '\n'));
    EXPECT_GT(errors.front().line, base_lines) << all;
  }
}

TEST(ResearchProjectLoader, DuplicateIdsAreRefused) {
  std::string text = std::string(kBase) + kAvailabilityWages + kGoodProject + kGoodProject;
  tl::expected<Definition, Diagnostics> definition = ParseDefinitionWithDiagnostics(text, "n.toml");
  ASSERT_FALSE(definition.has_value());
  EXPECT_THAT(definition.error().front().message,
              HasSubstr("duplicate research project id 'rp-wages'"));
}

}  // namespace
}  // namespace carrefour::network
