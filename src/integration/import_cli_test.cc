// SPDX-License-Identifier: EUPL-1.2
// Runs the real `carrefour directory import` ($CARREFOUR_BINARY).

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace carrefour {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

class ImportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* binary = getenv("CARREFOUR_BINARY");
    ASSERT_NE(binary, nullptr) << "CARREFOUR_BINARY is not set (ctest sets it)";
    binary_ = binary;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "carrefour-import-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Write("network.toml", R"(
[[institution_type]]
id = "mutuality"
capacities = ["insured", "dependent"]

[[institution]]
id = "mut-100"
type = "mutuality"
)");
  }
  void TearDown() override {
    std::error_code error;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, error);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // Runs `carrefour directory import ARGS` with the test's network and store.
  Outcome Import(const std::string& args) {
    std::string command = fmt::format("'{}' directory import {} 2>&1", binary_, args);
    Outcome run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.out.append(buffer, n);
    int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

  std::string StandardArgs(const std::string& csv) {
    return fmt::format("--network '{}' --store 'sqlite:{}' --file '{}'",
                       (dir_ / "network.toml").string(), (dir_ / "data/hub.db").string(), csv);
  }

  std::string binary_;
  std::filesystem::path dir_;
};

TEST_F(ImportCliTest, AllAcceptedExitsZero) {
  std::string csv = Write("good.csv",
                          "institution,niss,capacity,from,to\n"
                          "mut-100,85073003328,insured,2020-01-01,\n"
                          "mut-100,90.01.01-001.23,dependent,2019-01-01,2019-12-31\n");
  Outcome run = Import(StandardArgs(csv));
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("2 lines: 2 accepted, 0 rejected"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data/hub.db"));

  // Again: idempotent.
  run = Import(StandardArgs(csv));
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("2 lines: 2 accepted, 0 rejected"));
}

TEST_F(ImportCliTest, RejectedLinesAreListedAndExitOne) {
  std::string csv = Write("bad.csv",
                          "mut-100,85073003328,insured,2020-01-01,\n"
                          "mut-100,85073003329,insured,2020-01-01,\n"
                          "mut-100,85073003328,employee,2020-01-01,\n"
                          "just,four,fields,here\n");
  Outcome run = Import(StandardArgs(csv));
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("line 2: invalid-niss"));
  EXPECT_THAT(run.out, HasSubstr("line 3: capacity-not-allowed"));
  EXPECT_THAT(run.out, HasSubstr("line 4: invalid-request: expected 5 fields"));
  EXPECT_THAT(run.out, HasSubstr("4 lines: 1 accepted, 3 rejected"));

  run = Import(StandardArgs(csv) + " --max-errors 1");
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("line 2: invalid-niss"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("line 3:")));
  EXPECT_THAT(run.out, HasSubstr("and 2 more rejected lines not shown"));
}

TEST_F(ImportCliTest, ReadsStandardInput) {
  std::string csv = Write("good.csv", "mut-100,85073003328,insured,2020-01-01,\n");
  Outcome run = Import(StandardArgs("-") + " < '" + csv + "'");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("1 lines: 1 accepted"));
}

TEST_F(ImportCliTest, UsageErrorsExitTwo) {
  std::string csv = Write("good.csv", "mut-100,85073003328,insured,2020-01-01,\n");
  const std::string network = (dir_ / "network.toml").string();
  const std::vector<std::string> cases = {
      fmt::format("--network '{}' --file '{}'", network, csv),  // no --store
      fmt::format("--network '{}' --store sqlite:x.db --file '{}/missing.csv'", network,
                  dir_.string()),
      StandardArgs(csv) + " --batch 0",
      StandardArgs(csv) + " --unknown-flag",
  };
  for (const std::string& args : cases) {
    SCOPED_TRACE(args);
    Outcome run = Import(args);
    EXPECT_EQ(run.exit_code, 2) << run.out;
  }
}

TEST_F(ImportCliTest, UnusableStoreExitsOneWithTheReason) {
  std::string csv = Write("good.csv", "mut-100,85073003328,insured,2020-01-01,\n");
  Outcome run = Import(fmt::format("--network '{}' --store 'mysql://x' --file '{}'",
                               (dir_ / "network.toml").string(), csv));
  EXPECT_EQ(run.exit_code, 1) << run.out;
  EXPECT_THAT(run.out, HasSubstr("no known engine"));
}

}  // namespace
}  // namespace carrefour
