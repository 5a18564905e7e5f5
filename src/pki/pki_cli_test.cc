// SPDX-License-Identifier: EUPL-1.2
// Runs the real `carrefour` binary: `pki init` and `pki issue` as an operator
// would, including the refusal to overwrite.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "pki/pki.h"

namespace carrefour::pki {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

class PkiCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* binary = std::getenv("CARREFOUR_BINARY");
    ASSERT_NE(binary, nullptr) << "CARREFOUR_BINARY is not set (run through ctest)";
    binary_ = binary;
    std::string pattern = (fs::temp_directory_path() / "carrefour-pki-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ / "pki";
  }
  void TearDown() override { fs::remove_all(root_); }

  Outcome Carrefour(const std::string& arguments) {
    fs::path out = root_ / "stdout";
    fs::path err = root_ / "stderr";
    std::string command =
        Quote(binary_) + " " + arguments + " >" + Quote(out.string()) + " 2>" + Quote(err.string());
    int status = std::system(command.c_str());
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return {exit_code, ReadAll(out), ReadAll(err)};
  }

  std::string binary_;
  fs::path root_;
  fs::path dir_;
};

TEST_F(PkiCliTest, InitThenIssueWritesVerifiableFiles) {
  const std::string dir = Quote(dir_.string());
  Outcome init = Carrefour("pki init --dir " + dir);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.out.find(CaCertPath(dir_).string()), std::string::npos) << init.out;
  EXPECT_NE(init.out.find(KeyPath(dir_, "ca").string()), std::string::npos) << init.out;

  Outcome issue =
      Carrefour("pki issue --dir " + dir + " --name mut-100 --host 127.0.0.1 --host localhost");
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  EXPECT_NE(issue.out.find(CertPath(dir_, "mut-100").string()), std::string::npos) << issue.out;
  EXPECT_NE(issue.out.find(KeyPath(dir_, "mut-100").string()), std::string::npos) << issue.out;

  Result<std::string> cn = CommonNameOf(CertPath(dir_, "mut-100"));
  ASSERT_TRUE(cn.has_value()) << cn.error().ToString();
  EXPECT_EQ(*cn, "mut-100");
}

TEST_F(PkiCliTest, RefusesToOverwriteWithoutForce) {
  const std::string dir = Quote(dir_.string());
  ASSERT_EQ(Carrefour("pki init --dir " + dir).exit_code, 0);
  ASSERT_EQ(Carrefour("pki issue --dir " + dir + " --name hub").exit_code, 0);
  const std::string ca_before = ReadAll(CaCertPath(dir_));
  const std::string hub_before = ReadAll(CertPath(dir_, "hub"));

  Outcome init = Carrefour("pki init --dir " + dir);
  EXPECT_EQ(init.exit_code, 1);
  EXPECT_NE(init.err.find("already exists"), std::string::npos) << init.err;
  Outcome issue = Carrefour("pki issue --dir " + dir + " --name hub");
  EXPECT_EQ(issue.exit_code, 1);
  EXPECT_NE(issue.err.find(CertPath(dir_, "hub").string()), std::string::npos) << issue.err;
  EXPECT_EQ(ReadAll(CaCertPath(dir_)), ca_before);
  EXPECT_EQ(ReadAll(CertPath(dir_, "hub")), hub_before);

  Outcome forced = Carrefour("pki issue --dir " + dir + " --name hub --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(ReadAll(CertPath(dir_, "hub")), hub_before);
}

TEST_F(PkiCliTest, ErrorsAndUsageErrorsHaveTheirExitCodes) {
  struct Row {
    std::string arguments;
    int exit_code;
  };
  const std::string dir = Quote(dir_.string());
  const Row rows[] = {
      {"pki issue --dir " + dir + " --name hub", 1},  // no CA yet
      {"pki init", 2},                                // --dir missing
      {"pki issue --dir " + dir, 2},                  // --name missing
      {"pki init --dir " + dir + " --days many", 2},  // not a number
      {"pki", 2},                                     // no subcommand
      {"pki init --dir " + dir + " --days 0", 1},     // out of range
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.arguments);
    Outcome run = Carrefour(row.arguments);
    EXPECT_EQ(run.exit_code, row.exit_code) << run.err;
    EXPECT_FALSE(run.err.empty());
  }
  Outcome bad_name = Carrefour("pki init --dir " + dir);
  ASSERT_EQ(bad_name.exit_code, 0) << bad_name.err;
  bad_name = Carrefour("pki issue --dir " + dir + " --name ../evil");
  EXPECT_EQ(bad_name.exit_code, 1);
  EXPECT_NE(bad_name.err.find("../evil"), std::string::npos) << bad_name.err;
  EXPECT_FALSE(fs::exists(root_ / "evil.crt"));

  Outcome help = Carrefour("pki issue --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--host"), std::string::npos) << help.out;
}

TEST_F(PkiCliTest, RevokePrintsTheSerialsAndCrlRenews) {
  const std::string dir = Quote(dir_.string());
  ASSERT_EQ(Carrefour("pki init --dir " + dir).exit_code, 0);
  ASSERT_EQ(Carrefour("pki issue --dir " + dir + " --name mut-100").exit_code, 0);
  Result<std::string> serial = SerialOf(CertPath(dir_, "mut-100"));
  ASSERT_TRUE(serial.has_value());

  Outcome revoke = Carrefour("pki revoke --dir " + dir + " --name mut-100");
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_NE(revoke.out.find("serial " + *serial), std::string::npos) << revoke.out;
  EXPECT_NE(revoke.out.find(CrlPath(dir_).string()), std::string::npos) << revoke.out;
  std::string first = ReadAll(CrlPath(dir_));
  EXPECT_EQ(first.rfind("-----BEGIN X509 CRL-----", 0), 0u) << first;

  Outcome crl = Carrefour("pki crl --dir " + dir + " --days 3");
  ASSERT_EQ(crl.exit_code, 0) << crl.err;
  EXPECT_NE(ReadAll(CrlPath(dir_)), first);

  Outcome unknown = Carrefour("pki revoke --dir " + dir + " --name nobody");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nobody"), std::string::npos) << unknown.err;
  EXPECT_EQ(Carrefour("pki revoke --dir " + dir).exit_code, 2);
  EXPECT_EQ(Carrefour("pki crl --help").exit_code, 0);
}

}  // namespace
}  // namespace carrefour::pki
