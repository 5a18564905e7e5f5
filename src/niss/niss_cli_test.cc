// SPDX-License-Identifier: EUPL-1.2
// Runs the real binary ($CARREFOUR_BINARY): `carrefour niss check` and
// `carrefour niss generate` as docs/api.md section 2 fixes them.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "niss/niss.h"

namespace carrefour::niss {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs `carrefour args...` with `input` on its standard input. stdin and
// stderr go through files so that no pipe can fill up and block the child.
Outcome Carrefour(const std::vector<std::string>& args, const std::string& input = "") {
  const char* binary = std::getenv("CARREFOUR_BINARY");
  if (binary == nullptr) {
    ADD_FAILURE() << "CARREFOUR_BINARY is not set";
    return {};
  }
  const std::string dir = testing::TempDir();
  const std::string in_path = dir + "niss_cli_stdin_" + std::to_string(getpid());
  const std::string err_path = dir + "niss_cli_stderr_" + std::to_string(getpid());
  std::ofstream(in_path, std::ios::binary) << input;

  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    ADD_FAILURE() << "pipe failed";
    return {};
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out_pipe[1], 1);
    dup2(err, 2);
    close(out_pipe[0]);
    execv(binary, argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  Outcome run;
  char buffer[4096];
  for (ssize_t n; (n = read(out_pipe[0], buffer, sizeof buffer)) > 0;) run.out.append(buffer, n);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err_path);
  std::remove(in_path.c_str());
  std::remove(err_path.c_str());
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

TEST(NissCli, CheckAcceptanceExample) {
  Outcome run = Carrefour({"niss", "check", "85073003328", "17073003384", "12345678901"});
  EXPECT_EQ(run.exit_code, 1);
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.out;
  EXPECT_EQ(lines[0], "85073003328 valid nr born 1985-07-30 sex m");
  EXPECT_EQ(lines[1], "17073003384 valid nr born 2017-07-30 sex m");
  EXPECT_EQ(lines[2].rfind("12345678901 invalid: impossible month 34", 0), 0u) << lines[2];
}

TEST(NissCli, CheckLinesForEachShape) {
  struct Row {
    std::string input;
    std::string line;
  };
  const Row rows[] = {
      {"85.07.30-033.28", "85073003328 valid nr born 1985-07-30 sex m"},
      {"85473003416", "85473003416 valid bis born 1985-07-30 sex f"},
      {"85273003470", "85273003470 valid bis born 1985-07-30 sex unknown"},
      {"85070003355", "85070003355 valid nr born 1985-07-?? sex m"},
      {"85004503314", "85004503314 valid nr born 1985-?\?-?? sex m"},
      {"00200103476", "00200103476 valid bis born unknown sex unknown"},
      {"85 07 30 033 2", "85 07 30 033 2 invalid: 10 digits, expected 11"},
      {"85073003329",
       "85073003329 invalid: wrong check digits 29: they match YYMMDDSSS neither "
       "for a birth in the 1900s nor in the 2000s"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.input);
    Outcome run = Carrefour({"niss", "check", row.input});
    EXPECT_EQ(run.out, row.line + "\n");
    EXPECT_EQ(run.exit_code, row.line.find(" invalid: ") == std::string::npos ? 0 : 1);
  }
}

TEST(NissCli, CheckAllValidExitsZero) {
  Outcome run = Carrefour({"niss", "check", "85073003328", "85.47.30-035.15"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(Lines(run.out).size(), 2u);
}

TEST(NissCli, CheckJsonLines) {
  Outcome run = Carrefour({"niss", "check", "--json", "85.07.30-033.28", "85\"1"});
  EXPECT_EQ(run.exit_code, 1);
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_EQ(lines[0], R"({"input":"85.07.30-033.28","valid":true,"niss":"85073003328","kind":"nr",)"
                      R"("birth_date":"1985-07-30","sex":"m"})");
  EXPECT_EQ(lines[1],
            R"({"input":"85\"1","valid":false,"reason":"non-digit character '\"' at position 3"})");
}

TEST(NissCli, CheckReadsStandardInputForDash) {
  Outcome run =
      Carrefour({"niss", "check", "17073003384", "-"}, "85073003328\r\n\n85.07.30-033.29\n");
  EXPECT_EQ(run.exit_code, 1);
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.out;
  EXPECT_EQ(lines[0], "17073003384 valid nr born 2017-07-30 sex m");
  EXPECT_EQ(lines[1], "85073003328 valid nr born 1985-07-30 sex m");
  EXPECT_EQ(lines[2].rfind("85.07.30-033.29 invalid: wrong check digits 29", 0), 0u) << lines[2];
}

TEST(NissCli, CheckAsOfAnotherDay) {
  // In 2016 a birth in 2017 was not possible yet.
  Outcome run = Carrefour({"niss", "check", "--today", "2016-06-01", "17073003384"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("after the current year"), std::string::npos) << run.out;
}

TEST(NissCli, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"niss", "check"},
      {"niss", "check", "-"},  // stdin empty: still no numbers
      {"niss", "check", "--today", "2016-13-01", "85073003328"},
      {"niss", "generate"},
      {"niss", "generate", "--count", "-3"},
      {"niss", "generate", "--count", "3", "--seed", "x"},
      {"niss", "generate", "--count", "3", "--seed", "-1"},
      {"niss", "generate", "--count", "3", "--seed", "18446744073709551616"},
      {"niss", "generate", "--count", "10000001"},
      {"niss", "generate", "--count", "0x10"},
      {"niss"},
  };
  for (const std::vector<std::string>& args : cases) {
    std::string joined;
    for (const std::string& arg : args) joined += arg + " ";
    SCOPED_TRACE(joined);
    Outcome run = Carrefour(args);
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(Lines(run.err).size(), 1u) << run.err;
  }
}

TEST(NissCli, HelpDescribesBothCommands) {
  Outcome check = Carrefour({"niss", "check", "--help"});
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_NE(check.out.find("--json"), std::string::npos) << check.out;
  Outcome generate = Carrefour({"niss", "generate", "--help"});
  EXPECT_EQ(generate.exit_code, 0);
  EXPECT_NE(generate.out.find("--seed"), std::string::npos) << generate.out;
}

TEST(NissCli, GenerateIsReproduciblePerSeed) {
  Outcome first = Carrefour({"niss", "generate", "--count", "500", "--seed", "7"});
  Outcome again = Carrefour({"niss", "generate", "--count", "500", "--seed", "7"});
  Outcome other = Carrefour({"niss", "generate", "--count", "500", "--seed", "8"});
  Outcome by_default = Carrefour({"niss", "generate", "--count", "500"});
  Outcome seed_one = Carrefour({"niss", "generate", "--count", "500", "--seed", "1"});
  EXPECT_EQ(first.exit_code, 0);
  EXPECT_EQ(first.out, again.out);
  EXPECT_NE(first.out, other.out);
  EXPECT_EQ(by_default.out, seed_one.out);
  // Decimal, never octal.
  EXPECT_EQ(Carrefour({"niss", "generate", "--count", "20", "--seed", "010"}).out,
            Carrefour({"niss", "generate", "--count", "20", "--seed", "10"}).out);

  std::vector<std::string> lines = Lines(first.out);
  ASSERT_EQ(lines.size(), 500u);
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    Result<Number> number = Parse(line);
    ASSERT_TRUE(number) << number.error().ToString();
    EXPECT_EQ(number->digits, line);
    EXPECT_EQ(number->kind, Kind::kNationalRegister);
  }
}

TEST(NissCli, GenerateBis) {
  Outcome run = Carrefour({"niss", "generate", "--count", "300", "--seed", "3", "--bis"});
  EXPECT_EQ(run.exit_code, 0);
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 300u);
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    Result<Number> number = Parse(line);
    ASSERT_TRUE(number) << number.error().ToString();
    EXPECT_EQ(number->kind, Kind::kBis);
  }
  // And they check valid through the command too, read from stdin.
  Outcome check = Carrefour({"niss", "check", "-"}, run.out);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(Lines(check.out).size(), 300u);
}

}  // namespace
}  // namespace carrefour::niss
