// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support: a new, empty folder for one test. Test code: failure aborts.
//
// mkdtemp picks a name nobody holds, so a folder left behind by an earlier
// run (a failed test keeps its folder for reading) can never be reused. A
// name made of the process id is not enough: each test runs in its own
// process, and a fresh container hands out the same ids run after run.

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace carrefour::testing {

inline std::filesystem::path MakeTempDir(std::string_view prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror(pattern.c_str());
    std::abort();
  }
  // mkdtemp makes it 0700; open it like a folder made by create_directories,
  // for helpers that run as another user (initdb runs as postgres when the
  // tests run as root).
  std::filesystem::permissions(pattern, std::filesystem::perms::owner_all |
                                            std::filesystem::perms::group_read |
                                            std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_read |
                                            std::filesystem::perms::others_exec);
  return pattern;
}

}  // namespace carrefour::testing
