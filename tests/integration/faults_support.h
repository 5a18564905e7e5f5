// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support for the fault tests (docs/scale-out.md): a PostgreSQL cluster
// of the test's own (so that it can be restarted, halted and resumed), with
// the hub processes of hub_process.h. Test code: failures are gtest
// failures, or abort.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "tests/integration/helpers.h"
#include "tests/integration/hub_process.h"
#include "tests/integration/process.h"

namespace carrefour::testing {

// A throw-away PostgreSQL cluster of the test's own, through
// scripts/postgres-test-cluster.sh.
class Cluster {
 public:
  // Empty url() when the cluster could not be started (the reason in error()).
  explicit Cluster(std::filesystem::path dir) : dir_(std::move(dir)) {
    auto [code, output] = Script("start");
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (code == 0) {
      url_ = output;
    } else {
      error_ = output;
    }
  }
  ~Cluster() { Script("stop"); }

  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

  // pg_ctl restart -m fast: every session is terminated; back when it returns.
  void Restart() { ASSERT_EQ(Script("restart").first, 0) << "restarting PostgreSQL"; }
  // The server stops (connections refused) ...
  void Halt() { ASSERT_EQ(Script("halt").first, 0) << "stopping PostgreSQL"; }
  // ... and starts again on the same port.
  void Resume() { ASSERT_EQ(Script("resume").first, 0) << "starting PostgreSQL again"; }

  // Runs `sql` with psql; its output (tuples only, unaligned), or "" with a
  // gtest failure.
  std::string Sql(const std::string& sql) const {
    std::filesystem::path file = dir_.parent_path() / fmt::format("query-{}.sql", getpid());
    std::ofstream(file) << sql;
    auto [code, output] = RunCommand(
        fmt::format("psql '{}' -v ON_ERROR_STOP=1 -qtA -f '{}' 2>&1", url_, file.string()));
    std::filesystem::remove(file);
    EXPECT_EQ(code, 0) << sql << "\n" << output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return code == 0 ? output : std::string();
  }
  int64_t Count(const std::string& sql) const {
    std::string text = Sql(sql);
    return text.empty() ? -1 : std::stoll(text);
  }

 private:
  std::pair<int, std::string> Script(const std::string& action) {
    return RunCommand(fmt::format("'{}/scripts/postgres-test-cluster.sh' {} '{}' 2>&1",
                                  Env("CARREFOUR_SOURCE_DIR"), action, dir_.string()));
  }

  std::filesystem::path dir_;
  std::string url_, error_;
};

}  // namespace carrefour::testing
