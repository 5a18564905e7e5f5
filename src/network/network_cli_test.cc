// SPDX-License-Identifier: EUPL-1.2
// `carrefour network check` end to end: the real binary ($CARREFOUR_BINARY)
// on the shipped examples ($CARREFOUR_SOURCE_DIR).

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class NetworkCli : public testing::Test {
 protected:
  void SetUp() override {
    const char* binary = std::getenv("CARREFOUR_BINARY");
    const char* source = std::getenv("CARREFOUR_SOURCE_DIR");
    ASSERT_NE(binary, nullptr) << "CARREFOUR_BINARY is not set";
    ASSERT_NE(source, nullptr) << "CARREFOUR_SOURCE_DIR is not set";
    binary_ = binary;
    examples_ = std::filesystem::path(source) / "examples";
    std::string pattern =
        (std::filesystem::temp_directory_path() / "carrefour-network-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `carrefour ARGS` (ARGS already shell-quoted), capturing both streams.
  Outcome Carrefour(const std::string& args) {
    std::filesystem::path out = dir_ / "out", err = dir_ / "err";
    std::string command = Quote(binary_) + " " + args + " >" + Quote(out.string()) + " 2>" +
                          Quote(err.string());
    int status = std::system(command.c_str());
    Outcome run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadAll(out);
    run.err = ReadAll(err);
    return run;
  }

  std::string binary_;
  std::filesystem::path examples_;
  std::filesystem::path dir_;
};

TEST_F(NetworkCli, CheckPrintsASummaryOfTheExample) {
  std::string file = (examples_ / "network.toml").string();
  Outcome run = Carrefour("network check " + Quote(file));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_NE(run.out.find(file + ": valid network definition"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("9 institution types, 10 institutions, 12 data types,"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("authorizations"), std::string::npos);
  // The health insurers' grants, with capacity and legal basis.
  EXPECT_NE(run.out.find("mutuality (2 institutions: mut-100, mut-300)"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("ISC/24/001"), std::string::npos);
  EXPECT_NE(run.out.find("(only famiwal)"), std::string::npos) << run.out;
}

TEST_F(NetworkCli, CheckJsonIsOneObject) {
  Outcome run = Carrefour("network check --json " + Quote((examples_ / "network.toml").string()));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("{\"valid\":true,", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("\"counts\":{\"institution_types\":9,\"institutions\":10,"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.back(), '\n');
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << "one line";
}

TEST_F(NetworkCli, CheckReportsFileAndLineOfABrokenDefinition) {
  std::string file = (examples_ / "broken" / "unknown-type.toml").string();
  Outcome run = Carrefour("network check " + Quote(file));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, file + ":94: 'type' in [[institution]]: unknown institution type "
                            "'mutualty'; did you mean 'mutuality'?\n" +
                         file + ": not a valid network definition (1 error)\n");

  Outcome json = Carrefour("network check --json " + Quote(file));
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_NE(json.out.find("\"line\":94"), std::string::npos) << json.out;
  EXPECT_NE(json.err.find(":94: "), std::string::npos);
}

TEST_F(NetworkCli, CheckRefusesAMissingFile) {
  std::string file = (dir_ / "absent.toml").string();
  Outcome run = Carrefour("network check " + Quote(file));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, file + ": no such file\n");
}

TEST_F(NetworkCli, UsageErrorsExitTwo) {
  EXPECT_EQ(Carrefour("network check").exit_code, 2);
  EXPECT_EQ(Carrefour("network check a.toml b.toml").exit_code, 2);
  EXPECT_EQ(Carrefour("network check --no-such-flag a.toml").exit_code, 2);
  EXPECT_EQ(Carrefour("network").exit_code, 2);
  Outcome help = Carrefour("network check --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--json"), std::string::npos) << help.out;
}

}  // namespace
