// SPDX-License-Identifier: EUPL-1.2
#include "directory/integration.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "network/loader.h"

namespace carrefour::directory {
namespace {

constexpr std::string_view kNetwork = R"toml(
[[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution_type]]
id = "family-fund"
capacities = ["child-beneficiary"]

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
)toml";

Date D(std::string_view text) { return *Date::Parse(text); }

const Date kToday = D("2024-06-15");

EntryChange Change(EntryAction action, std::string niss, std::string capacity,
                   std::string_view from, std::string_view to = "", std::string institution = "") {
  return EntryChange{
      action, Entry{std::move(niss), std::move(institution), std::move(capacity),
                    Period{D(from), to.empty() ? std::nullopt : std::optional<Date>(D(to))}}};
}

TEST(ValidateEntryChange, NormalizesAndChecksEachChange) {
  Result<network::Definition> definition = network::ParseDefinition(kNetwork, "test.toml");
  ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
  const network::Institution& caller = *definition->FindInstitution("mut-100");

  struct Case {
    std::string name;
    EntryChange change;
    Date today;
    StatusCode code;
    std::vector<std::string> message_has;
    Entry expected;  // when accepted
  };
  const Entry accepted{"85073003328", "mut-100", "insured", Period{D("2024-01-01"), std::nullopt}};
  auto accepted_as = [&](std::string niss, std::string capacity, Period period) {
    return Entry{std::move(niss), "mut-100", std::move(capacity), period};
  };
  const std::vector<Case> cases = {
      {"an add with separators in the number",
       Change(EntryAction::kAdd, "85.07.30-033.28", "insured", "2024-01-01"),
       kToday,
       StatusCode::kOk,
       {},
       accepted},
      {"the body's institution is replaced by the caller's",
       Change(EntryAction::kAdd, "85073003328", "insured", "2024-01-01", "", "mut-200"),
       kToday,
       StatusCode::kOk,
       {},
       accepted},
      {"a closed period",
       Change(EntryAction::kAdd, "85073003328", "dependent", "2024-01-01", "2024-01-01"),
       kToday,
       StatusCode::kOk,
       {},
       accepted_as("85073003328", "dependent", Period::Day(D("2024-01-01")))},
      {"wrong check digits",
       Change(EntryAction::kAdd, "85073003329", "insured", "2024-01-01"),
       kToday,
       StatusCode::kInvalidNiss,
       {"85073003329"},
       {}},
      {"too short",
       Change(EntryAction::kAdd, "8507300332", "insured", "2024-01-01"),
       kToday,
       StatusCode::kInvalidNiss,
       {"8507300332"},
       {}},
      {"born in 2023: valid today",
       Change(EntryAction::kAdd, "23010100103", "insured", "2024-01-01"),
       kToday,
       StatusCode::kOk,
       {},
       accepted_as("23010100103", "insured", Period{D("2024-01-01"), std::nullopt})},
      {"born in 2023: not yet possible in 2022",
       Change(EntryAction::kAdd, "23010100103", "insured", "2022-01-01"),
       D("2022-06-15"),
       StatusCode::kInvalidNiss,
       {"23010100103"},
       {}},
      {"a capacity the caller's type may not declare",
       Change(EntryAction::kAdd, "85073003328", "child-beneficiary", "2024-01-01"),
       kToday,
       StatusCode::kCapacityNotAllowed,
       {"'mutuality'", "'child-beneficiary'", "insured, dependent"},
       {}},
      {"an empty capacity",
       Change(EntryAction::kAdd, "85073003328", "", "2024-01-01"),
       kToday,
       StatusCode::kCapacityNotAllowed,
       {"insured, dependent"},
       {}},
      {"a period that ends before it starts",
       Change(EntryAction::kAdd, "85073003328", "insured", "2024-02-01", "2024-01-31"),
       kToday,
       StatusCode::kInvalidPeriod,
       {"2024-02-01", "2024-01-31"},
       {}},
      {"the number is checked first",
       Change(EntryAction::kAdd, "85073003329", "child-beneficiary", "2024-02-01", "2024-01-31"),
       kToday,
       StatusCode::kInvalidNiss,
       {},
       {}},
      {"then the capacity",
       Change(EntryAction::kAdd, "85073003328", "child-beneficiary", "2024-02-01", "2024-01-31"),
       kToday,
       StatusCode::kCapacityNotAllowed,
       {},
       {}},
      {"a close",
       Change(EntryAction::kClose, "85073003328", "insured", "2024-01-01", "2024-05-31"),
       kToday,
       StatusCode::kOk,
       {},
       accepted_as("85073003328", "insured", Period{D("2024-01-01"), D("2024-05-31")})},
      {"a close without an end",
       Change(EntryAction::kClose, "85073003328", "insured", "2024-01-01"),
       kToday,
       StatusCode::kInvalidRequest,
       {"'insured'", "2024-01-01", "'to'"},
       {}},
      {"a close that ends before the start",
       Change(EntryAction::kClose, "85073003328", "insured", "2024-01-01", "2023-12-31"),
       kToday,
       StatusCode::kInvalidPeriod,
       {},
       {}},
      {"a close of a capacity no longer allowed (definition changed)",
       Change(EntryAction::kClose, "85073003328", "retired", "2024-01-01", "2024-05-31"),
       kToday,
       StatusCode::kOk,
       {},
       accepted_as("85073003328", "retired", Period{D("2024-01-01"), D("2024-05-31")})},
      {"a remove of a capacity no longer allowed",
       Change(EntryAction::kRemove, "85.07.30-033.28", "retired", "2024-01-01"),
       kToday,
       StatusCode::kOk,
       {},
       accepted_as("85073003328", "retired", Period{D("2024-01-01"), std::nullopt})},
      {"a remove with a bad number",
       Change(EntryAction::kRemove, "1234", "insured", "2024-01-01"),
       kToday,
       StatusCode::kInvalidNiss,
       {},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EntryChange change = c.change;
    Status status = ValidateEntryChange(*definition, caller, c.today, &change);
    EXPECT_EQ(status.code(), c.code) << status.ToString();
    for (const std::string& part : c.message_has) {
      EXPECT_NE(status.message().find(part), std::string::npos)
          << "'" << part << "' not in: " << status.message();
    }
    if (status.ok()) {
      EXPECT_EQ(change.entry, c.expected);
      EXPECT_EQ(change.action, c.change.action);
    }
  }
}

}  // namespace
}  // namespace carrefour::directory
