// SPDX-License-Identifier: EUPL-1.2
// The version line of docs/api.md section 2, from the library and from the
// real binary ($CARREFOUR_BINARY): `carrefour --version`.

#include "version/version.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace carrefour::version {
namespace {

std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  pclose(pipe);
  return out;
}

TEST(VersionTest, TheLineIsNameVersionAndRevision) {
  EXPECT_TRUE(std::regex_match(Line(), std::regex(R"(carrefour [0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]{7,40}|unknown)\))")))
      << Line();
  EXPECT_EQ(UserAgent(), "carrefour/" + std::string(Version()) + " (" + std::string(Revision()) + ")");
}

TEST(VersionTest, TheRevisionIsTheSourceTreesCommit) {
  const char* source = std::getenv("CARREFOUR_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  std::string head = Output("git -C '" + std::string(source) + "' rev-parse --short=12 HEAD 2>/dev/null");
  if (head.empty()) GTEST_SKIP() << "the source tree is not a git checkout";
  head.pop_back();  // '\n'
  EXPECT_EQ(Revision(), head);
}

TEST(VersionTest, TheBinaryPrintsTheLine) {
  const char* binary = std::getenv("CARREFOUR_BINARY");
  ASSERT_NE(binary, nullptr);
  EXPECT_EQ(Output("'" + std::string(binary) + "' --version"), Line() + "\n");
}

}  // namespace
}  // namespace carrefour::version
