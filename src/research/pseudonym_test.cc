// SPDX-License-Identifier: EUPL-1.2
// Pseudonyms, the research key, and who may run a project.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "network/loader.h"
#include "research/research.h"
#include "core/testing/temp_dir.h"

namespace carrefour::research {
namespace {

namespace fs = std::filesystem;

constexpr char kKey[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kAnna[] = "85073003328";
constexpr char kBob[] = "17073003384";

TEST(Pseudonymizer, SamePersonSameProjectSamePseudonym) {
  Pseudonymizer a(kKey, "rp-1");
  Pseudonymizer b(kKey, "rp-1");
  EXPECT_EQ(a.Pseudonym(kAnna), b.Pseudonym(kAnna));
  EXPECT_NE(a.Pseudonym(kAnna), a.Pseudonym(kBob));
}

TEST(Pseudonymizer, ProjectsAndKeysGiveUnrelatedPseudonyms) {
  Pseudonymizer one(kKey, "rp-1");
  Pseudonymizer two(kKey, "rp-2");
  Pseudonymizer other_key("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
                          "rp-1");
  EXPECT_NE(one.Pseudonym(kAnna), two.Pseudonym(kAnna));
  EXPECT_NE(one.Pseudonym(kAnna), other_key.Pseudonym(kAnna));
  EXPECT_NE(one.KeyFingerprint(), two.KeyFingerprint());
  EXPECT_EQ(one.KeyFingerprint(), Pseudonymizer(kKey, "rp-1").KeyFingerprint());
}

// Known answers: pseudonyms must stay the same across extracts and versions
// (researchers link a project's extracts by them). The expected values were
// computed outside this code (Python's hmac over the documented scheme:
// project key = HMAC-SHA-256(master key text, "carrefour research pseudonym
// v1" NUL project); pseudonym = the first 16 bytes of HMAC-SHA-256(project
// key, niss), each nibble as a letter 'a'..'p'). Should this test fail,
// every existing extract's pseudonyms are broken.
TEST(Pseudonymizer, KnownAnswersPinTheScheme) {
  Pseudonymizer one(kKey, "rp-1");
  Pseudonymizer two(kKey, "rp-2");
  EXPECT_EQ(one.Pseudonym(kAnna), "jobijlnnodcabecnkbendiilmjiijjbh");
  EXPECT_EQ(one.Pseudonym(kBob), "elhkpofnkodgjnbjnffockkjakhnkpek");
  EXPECT_EQ(two.Pseudonym(kAnna), "dmldmmmfnikmhikmidapjnjaonhdlnmm");
  EXPECT_EQ(two.Pseudonym(kBob), "addgbcikildblodpgbchfjjidghpgpdk");
  EXPECT_EQ(one.KeyFingerprint(), "ff2f9c615fc9e1a0");
  EXPECT_EQ(two.KeyFingerprint(), "fdd1c108044832df");
}

TEST(Pseudonymizer, PseudonymsAreLettersOnly) {
  // No digit at all: a pseudonym can never be read (or scanned) as a
  // national number.
  Pseudonymizer p(kKey, "rp-1");
  std::string pseudonym = p.Pseudonym(kAnna);
  ASSERT_EQ(pseudonym.size(), 32u);
  for (char c : pseudonym) EXPECT_TRUE(c >= 'a' && c <= 'p') << pseudonym;
}

TEST(ResearchKey, CreatedOnceWithOwnerOnlyMode) {
  fs::path dir = carrefour::testing::MakeTempDir("carrefour-research-key");
  fs::create_directories(dir);
  Result<std::string> first = LoadOrCreateKey(dir / "research.key");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->size(), 64u);
  struct stat info {};
  ASSERT_EQ(stat((dir / "research.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  Result<std::string> again = LoadOrCreateKey(dir / "research.key");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *first);

  std::ofstream(dir / "broken.key") << "not a key\n";
  Result<std::string> broken = LoadOrCreateKey(dir / "broken.key");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kInternal);
  fs::remove_all(dir);
}

TEST(ResearchKey, DanglingLinkIsAnErrorNotACrash) {
  fs::path dir = carrefour::testing::MakeTempDir("carrefour-research-link");
  fs::create_directories(dir);
  fs::create_symlink(dir / "gone.key", dir / "research.key");
  Result<std::string> key = LoadOrCreateKey(dir / "research.key");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), StatusCode::kInternal);
  EXPECT_NE(key.error().message().find("cannot be opened"), std::string::npos) << key.error().ToString();
  fs::remove_all(dir);
}

constexpr char kNetwork[] = R"(
[[institution_type]]
id = "national-register"
[[institution_type]]
id = "university"
[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"
[[institution]]
id = "uni-a"
type = "university"
[[institution]]
id = "uni-b"
type = "university"
[[data_type]]
id = "person.identity"
fields = ["last_name", "birth_date", "sex"]
research_fields = ["birth_date"]
[[availability]]
data_type = "person.identity"
provider_type = "national-register"
[[research_project]]
id = "rp-1"
requester = "uni-a"
legal_basis = "ISC/25/R01"
from = 2025-01-01
to = 2025-12-31
period = { from = 2024-01-01, to = 2024-12-31 }
cohort = { supplied_by = "uni-a" }
data = [{ data_type = "person.identity", fields = ["birth_date"] }]
)";

TEST(CheckMayRun, OnlyTheRequesterWhileTheLegalBasisIsValid) {
  Result<network::Definition> definition = network::ParseDefinition(kNetwork, "network.toml");
  ASSERT_TRUE(definition.has_value()) << definition.error().ToString();
  const network::ResearchProject& project = *definition->FindResearchProject("rp-1");
  struct Case {
    const char* institution;
    const char* today;
    StatusCode expected;
  };
  const Case cases[] = {
      {"uni-a", "2025-06-01", StatusCode::kOk},
      {"uni-a", "2025-01-01", StatusCode::kOk},
      {"uni-a", "2025-12-31", StatusCode::kOk},
      {"uni-b", "2025-06-01", StatusCode::kNotAuthorized},  // no legal basis
      {"nr", "2025-06-01", StatusCode::kNotAuthorized},
      {"uni-a", "2024-12-31", StatusCode::kNotAuthorized},  // not yet valid
      {"uni-a", "2026-01-01", StatusCode::kNotAuthorized},  // expired
      {"nobody", "2025-06-01", StatusCode::kUnknownInstitution},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.institution) + " on " + c.today);
    Status status = CheckMayRun(*definition, project, c.institution, *Date::Parse(c.today));
    EXPECT_EQ(status.code(), c.expected) << status.ToString();
  }
  Status refused = CheckMayRun(*definition, project, "uni-b", *Date::Parse("2025-06-01"));
  EXPECT_NE(refused.message().find("ISC/25/R01"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace carrefour::research
