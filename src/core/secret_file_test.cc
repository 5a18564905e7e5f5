// SPDX-License-Identifier: EUPL-1.2
#include "core/secret_file.h"
#include "core/testing/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace carrefour {
namespace {

namespace fs = std::filesystem;

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = carrefour::testing::MakeTempDir(std::string("carrefour-secret-") +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<std::string> Get(const fs::path& file) {
    return LoadOrCreateSecret(
        file, "test key", [](std::string_view key) { return key.size() == 8; },
        [this]() -> Result<std::string> {
          ++made_;
          return std::string("abcdefgh");
        });
  }

  fs::path dir_;
  int made_ = 0;
};

TEST_F(SecretFileTest, CreatedOnceOwnerOnlyWithoutLeftoversThenRead) {
  const fs::path file = dir_ / "key";
  mode_t previous = ::umask(0);  // the mode must not depend on the umask
  Result<std::string> first = Get(file);
  ::umask(previous);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(*first, "abcdefgh");
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  Result<std::string> again = Get(file);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(*again, "abcdefgh");
  EXPECT_EQ(made_, 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SecretFileTest, DanglingLinkIsAnErrorNotAnEndlessRetry) {
  const fs::path file = dir_ / "key";
  fs::create_symlink(dir_ / "nowhere", file);
  Result<std::string> key = Get(file);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message().find("cannot be opened"), std::string::npos) << key.error().ToString();
  EXPECT_EQ(made_, 0);
}

TEST_F(SecretFileTest, FileReadableByOthersOrInvalidIsRefused) {
  const fs::path file = dir_ / "key";
  std::ofstream(file) << "abcdefgh\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  Result<std::string> open = Get(file);
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message().find("group or others"), std::string::npos) << open.error().ToString();
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(Get(file));
  std::ofstream(file, std::ios::trunc) << "";  // what a crash mid-write used to leave
  EXPECT_FALSE(Get(file));
  EXPECT_EQ(made_, 0);
}

}  // namespace
}  // namespace carrefour
