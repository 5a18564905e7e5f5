// SPDX-License-Identifier: EUPL-1.2
// [[quota]] in the network definition (docs/api.md section 3).

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "network/loader.h"

namespace carrefour::network {
namespace {

constexpr std::string_view kBase = R"([[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution_type]]
id = "national-register"

[[institution]]
id = "nr"
type = "national-register"

[[institution]]
id = "mut-100"
type = "mutuality"

[[institution]]
id = "mut-200"
type = "mutuality"
)";

int LineWith(std::string_view text, std::string_view needle) {
  size_t at = text.find(needle);
  if (at == std::string_view::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

TEST(Quota, ReadsQuotasAndFindsTheOneThatApplies) {
  std::string text = std::string(kBase) + R"(
[[quota]]
institution_type = "mutuality"
requests_per_second = 200
burst = 400

[[quota]]
institution = "mut-200"
requests_per_second = 5
)";
  auto definition = ParseDefinitionWithDiagnostics(text, "net.toml");
  ASSERT_TRUE(definition) << definition.error().front().ToString();
  ASSERT_EQ(definition->quotas().size(), 2u);
  const Quota& type_wide = definition->quotas()[0];
  EXPECT_EQ(type_wide.institution_type, "mutuality");
  EXPECT_EQ(type_wide.requests_per_second, 200);
  EXPECT_EQ(type_wide.burst, 400);
  EXPECT_EQ(type_wide.line, LineWith(text, "[[quota]]"));
  EXPECT_EQ(definition->quotas()[1].burst, 5) << "burst defaults to the rate";

  // An institution's own quota wins over its type's, whatever the order.
  EXPECT_EQ(definition->QuotaFor(*definition->FindInstitution("mut-100")), &type_wide);
  EXPECT_EQ(definition->QuotaFor(*definition->FindInstitution("mut-200")),
            &definition->quotas()[1]);
  EXPECT_EQ(definition->QuotaFor(*definition->FindInstitution("nr")), nullptr);
}

TEST(Quota, RefusesMistakesWithTheirLine) {
  struct Row {
    std::string_view name;
    std::string_view text;  // the line of the error is marked "# <-"
    std::string_view says;
  };
  const Row rows[] = {
      {"neither", "[[quota]] # <-\nrequests_per_second = 1\n", "institution"},
      {"both",
       "[[quota]] # <-\ninstitution = \"mut-100\"\ninstitution_type = \"mutuality\"\n"
       "requests_per_second = 1\n",
       "exactly one"},
      {"unknown institution", "[[quota]]\ninstitution = \"mut-999\" # <-\nrequests_per_second = 1\n",
       "mut-999"},
      {"unknown type", "[[quota]]\ninstitution_type = \"bank\" # <-\nrequests_per_second = 1\n",
       "bank"},
      {"no rate", "[[quota]] # <-\ninstitution = \"mut-100\"\n", "requests_per_second"},
      {"zero rate", "[[quota]]\ninstitution = \"mut-100\"\nrequests_per_second = 0 # <-\n",
       "requests_per_second"},
      {"rate not a number",
       "[[quota]]\ninstitution = \"mut-100\"\nrequests_per_second = \"fast\" # <-\n",
       "requests_per_second"},
      {"zero burst",
       "[[quota]]\ninstitution = \"mut-100\"\nrequests_per_second = 1\nburst = 0 # <-\n", "burst"},
      {"unknown key",
       "[[quota]]\ninstitution = \"mut-100\"\nrequests_per_second = 1\nper_minute = 3 # <-\n",
       "per_minute"},
      {"duplicate",
       "[[quota]] # first\ninstitution = \"mut-100\"\nrequests_per_second = 1\n"
       "[[quota]] # <-\ninstitution = \"mut-100\"\nrequests_per_second = 2\n",
       "duplicate quota for institution 'mut-100'"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    std::string text = std::string(kBase) + "\n" + std::string(row.text);
    auto definition = ParseDefinitionWithDiagnostics(text, "net.toml");
    ASSERT_FALSE(definition) << "accepted:\n" << text;
    ASSERT_EQ(definition.error().size(), 1u) << definition.error()[1].ToString();
    const Diagnostic& diagnostic = definition.error().front();
    EXPECT_EQ(diagnostic.source, "net.toml");
    EXPECT_EQ(diagnostic.line, LineWith(text, "# <-")) << diagnostic.ToString();
    EXPECT_NE(diagnostic.message.find(row.says), std::string::npos) << diagnostic.message;
  }
}

}  // namespace
}  // namespace carrefour::network
