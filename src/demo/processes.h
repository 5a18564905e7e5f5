// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Child processes of `carrefour demo`: the hub and the connectors run as
// separate processes, exactly as they would on separate machines. A Child's
// stdout is read line by line (to learn the ports it printed); its stderr
// goes to a log file. Stopping is SIGTERM, then SIGKILL after a grace period.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace carrefour::demo {

class Child {
 public:
  // Starts `argv` (argv[0] a path); stderr and stdout are also appended to
  // `log_file`. `listeners` are listening sockets the child inherits (named
  // in CARREFOUR_LISTEN_FDS, net/server.h): its servers adopt them instead
  // of binding. kUnavailable when it cannot be started.
  static Result<std::unique_ptr<Child>> Start(std::string name, std::vector<std::string> argv,
                                              const std::filesystem::path& log_file,
                                              const std::vector<int>& listeners = {});
  ~Child();  // Stop()

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

  // The first stdout line matching `match` within `timeout`; nullopt when
  // the process ended or the time ran out.
  // The last line of the child's log (what a failing child said last on
  // stderr), empty when there is none.
  std::string LastLogLine() const;

  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout);
  // True while the process runs.
  bool Running();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code (or
  // 128 + signal). Idempotent.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  Child(std::string name, pid_t pid, int stdout_fd, std::filesystem::path log_file);

  std::string name_;
  pid_t pid_;
  int fd_;
  std::filesystem::path log_file_;
  std::optional<int> exit_code_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> lines_;
  bool eof_ = false;
};

// The path of the running executable (/proc/self/exe), to start the same
// `carrefour` binary as children.
std::filesystem::path SelfExecutable();

}  // namespace carrefour::demo
