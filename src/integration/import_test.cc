// SPDX-License-Identifier: EUPL-1.2
// Bulk import into both engines (store/testing/).

#include "integration/import.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network/loader.h"
#include "niss/niss.h"
#include "integration/testing.h"

namespace carrefour::integration {
namespace {

using ::testing::HasSubstr;

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution_type]]
id = "contribution-collector"
capacities = ["employee"]

[[institution]]
id = "mut-100"
type = "mutuality"

[[institution]]
id = "onss"
type = "contribution-collector"
)";

Date Today() { return *Date::FromCivil(2024, 6, 1); }

class ImportTest : public testing::NetworkStoreTest {
 protected:
  ImportTest() : NetworkStoreTest(kNetwork) {}

  // Imports `csv`; the rejections reported, in order.
  Result<ImportCounts> Import(const std::string& csv, std::vector<Rejection>* rejections,
                              size_t batch_size = 1000) {
    std::istringstream input(csv);
    ImportOptions options;
    options.batch_size = batch_size;
    options.today = Today();
    options.on_rejection = [&](const Rejection& rejection) { rejections->push_back(rejection); };
    return ImportDirectoryCsv(input, definition_, store_->directory(), options);
  }

  std::vector<directory::Entry> EntriesOf(const std::string& niss) {
    Result<std::vector<directory::Entry>> entries = store_->directory().EntriesOfPerson(niss);
    EXPECT_TRUE(entries.has_value()) << entries.error().ToString();
    return entries.value_or(std::vector<directory::Entry>{});
  }
};

TEST_P(ImportTest, LoadsGoodLinesAndReportsExactlyTheBadOnes) {
  constexpr int kEntries = 20'000;
  niss::Generator generator(42, Today());
  std::vector<std::string> persons;
  for (int i = 0; i < kEntries; ++i) persons.push_back(generator.Next().digits);

  struct Bad {
    std::string line;
    StatusCode code;
    std::string reason;  // a part of the message
  };
  // Spread over several batches (1000 lines each); line numbers count the
  // header as line 1.
  const std::map<int, Bad> bad = {
      {10, {"mut-100,85073003328,insured,2020-01-01", StatusCode::kInvalidRequest,
            "expected 5 fields"}},
      {1'500, {"mut-100,\"85073003328,insured,2020-01-01,", StatusCode::kInvalidRequest,
               "not closed"}},
      {2'999, {"mut-999,85073003328,insured,2020-01-01,", StatusCode::kUnknownInstitution,
               "'mut-999' is not in the network"}},
      {3'000, {"mut-100,85073003329,insured,2020-01-01,", StatusCode::kInvalidNiss, "check"}},
      {3'001, {"mut-100,85073003328,employee,2020-01-01,", StatusCode::kCapacityNotAllowed,
               "employee"}},
      {7'777, {"onss,85073003328,employee,2020-13-01,", StatusCode::kInvalidRequest, "from:"}},
      {12'345, {"onss,85073003328,employee,2020-01-01,soon", StatusCode::kInvalidRequest, "to:"}},
      {15'000, {"onss,85073003328,employee,2020-02-01,2020-01-31", StatusCode::kInvalidPeriod,
                "before"}},
      // The same identity as line 2 (the first entry) with another end.
      {18'000, {fmt::format("mut-100,{},insured,2020-01-01,2021-01-01", persons[0]),
                StatusCode::kInvalidRequest, "already exists with no end"}},
      {19'999, {"onss," + std::string(10'000, '1') + ",employee,2020-01-01,",
                StatusCode::kInvalidRequest, "longer than"}},
  };

  std::string csv = "institution,niss,capacity,from,to\n";
  int line = 1;
  size_t next_person = 0;
  uint64_t extra_good = 0;
  while (next_person < persons.size()) {
    ++line;
    if (auto it = bad.find(line); it != bad.end()) {
      csv += it->second.line + "\n";
      continue;
    }
    const std::string& niss = persons[next_person];
    switch (next_person % 4) {
      case 0: csv += fmt::format("mut-100,{},insured,2020-01-01,\n", niss); break;
      case 1: csv += fmt::format("mut-100,{},dependent,2019-05-01,2023-12-31\r\n", niss); break;
      // The usual written form and quotes are fine.
      case 2: csv += fmt::format("onss,\"{}.{}.{}-{}.{}\",employee,2021-01-01,\n", niss.substr(0, 2),
                                 niss.substr(2, 2), niss.substr(4, 2), niss.substr(6, 3),
                                 niss.substr(9, 2)); break;
      case 3: csv += fmt::format("onss,{},employee,2018-03-01,2018-03-31\n", niss); break;
    }
    ++next_person;
    if (next_person == 100) {
      // An identical line again (idempotent) and a blank line (ignored).
      csv += fmt::format("onss,{},employee,2018-03-01,2018-03-31\n\n", persons[99]);
      line += 2;
      ++extra_good;
    }
  }

  std::vector<Rejection> rejections;
  Result<ImportCounts> counts = Import(csv, &rejections);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->accepted, kEntries + extra_good);
  EXPECT_EQ(counts->rejected, bad.size());
  EXPECT_EQ(counts->lines, kEntries + extra_good + bad.size());

  ASSERT_EQ(rejections.size(), bad.size());
  auto expected = bad.begin();
  for (const Rejection& rejection : rejections) {
    SCOPED_TRACE(expected->first);
    EXPECT_EQ(rejection.line, static_cast<uint64_t>(expected->first));
    EXPECT_EQ(rejection.status.code(), expected->second.code) << rejection.status.ToString();
    EXPECT_THAT(rejection.status.message(), HasSubstr(expected->second.reason));
    ++expected;
  }

  // Every person got exactly the entry of its line; the conflicting line
  // changed nothing.
  for (size_t i : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{99}, size_t{19'999}}) {
    SCOPED_TRACE(i);
    std::vector<directory::Entry> entries = EntriesOf(persons[i]);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].institution, i % 4 < 2 ? "mut-100" : "onss");
  }
  EXPECT_FALSE(EntriesOf(persons[0])[0].period.to.has_value());
  EXPECT_TRUE(EntriesOf("85073003328").empty());

  // Importing the same file again stores nothing new and rejects the same
  // lines.
  rejections.clear();
  counts = Import(csv, &rejections, 7'000);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->accepted, kEntries + extra_good);
  EXPECT_EQ(rejections.size(), bad.size());
}

TEST_P(ImportTest, AFileOfBadLinesOnlyIsReportedWhole) {
  std::string csv;
  for (int i = 0; i < 2'500; ++i) csv += "nobody,1,2,3,4\n";
  std::vector<Rejection> rejections;
  Result<ImportCounts> counts = Import(csv, &rejections, 100);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->accepted, 0u);
  EXPECT_EQ(counts->rejected, 2'500u);
  ASSERT_EQ(rejections.size(), 2'500u);
  for (size_t i = 0; i < rejections.size(); ++i) ASSERT_EQ(rejections[i].line, i + 1);
}

TEST_P(ImportTest, HeaderOnlyOrEmptyInputImportsNothing) {
  for (std::string csv : {"", "\n\n", "Institution, NISS, capacity, from, to\r\n"}) {
    SCOPED_TRACE(csv);
    std::vector<Rejection> rejections;
    Result<ImportCounts> counts = Import(csv, &rejections);
    ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
    EXPECT_EQ(counts->lines, 0u);
    EXPECT_TRUE(rejections.empty());
  }
}

TEST_P(ImportTest, AHeaderLaterInTheFileIsABadLine) {
  std::vector<Rejection> rejections;
  Result<ImportCounts> counts = Import(
      "mut-100,85073003328,insured,2020-01-01,\ninstitution,niss,capacity,from,to\n", &rejections);
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->accepted, 1u);
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_EQ(rejections[0].line, 2u);
}

// RFC 4180 quoting, read as the connector's CSV mode reads it (core/csv.h):
// quoted commas and doubled quotes are data; a record is one line, so a
// quote left open at a line's end is an error of that line alone.
TEST_P(ImportTest, QuotedCommasQuotesAndLineBreaksAreData) {
  std::vector<Rejection> rejections;
  Result<ImportCounts> counts = Import(
      "\"mut-100\", \"85.07.30-033.28\" ,insured,2020-01-01,\n"
      "mut-100,17073003384,\"ins,ured\",2020-01-01,\n"
      "mut-100,17073003384,\"in\"\"sured\",2020-01-01,\n"
      "mut-100,17073003384,\"two\nlines\",2020-01-01,\n"
      "mut-100,17073003384,dependent,2020-01-01,\n",
      &rejections);
  ASSERT_TRUE(counts.has_value()) << counts.error().ToString();
  EXPECT_EQ(counts->accepted, 2u);
  ASSERT_EQ(rejections.size(), 4u);
  EXPECT_EQ(rejections[0].line, 2u);
  EXPECT_THAT(rejections[0].status.message(), HasSubstr("ins,ured"));
  EXPECT_EQ(rejections[1].line, 3u);
  EXPECT_THAT(rejections[1].status.message(), HasSubstr("in\"sured"));
  EXPECT_EQ(rejections[2].line, 4u);
  EXPECT_THAT(rejections[2].status.message(), HasSubstr("not closed on its line"));
  EXPECT_EQ(rejections[3].line, 5u);
  EXPECT_THAT(rejections[3].status.message(), HasSubstr("quote inside unquoted field"));
  EXPECT_EQ(EntriesOf("85073003328").size(), 1u);
  ASSERT_EQ(EntriesOf("17073003384").size(), 1u);
  EXPECT_EQ(EntriesOf("17073003384")[0].capacity, "dependent");
}

INSTANTIATE_TEST_SUITE_P(Engines, ImportTest, store::testing::AllEngines(),
                         store::testing::EngineTestName);

}  // namespace
}  // namespace carrefour::integration
