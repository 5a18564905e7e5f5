// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support: runs a real child process (the `carrefour` binary), reads its
// stdout line by line, and stops or kills it. Test code: failures abort.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace carrefour::testing {

class Process {
 public:
  // Starts `argv` with stdout piped to us and stderr appended to `stderr_file`.
  static std::unique_ptr<Process> Start(std::vector<std::string> argv,
                                        const std::string& stderr_file) {
    int out[2];
    if (pipe(out) != 0) std::abort();
    pid_t pid = fork();
    if (pid < 0) std::abort();
    if (pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      int err = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) dup2(err, STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> args;
      for (std::string& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    return std::unique_ptr<Process>(new Process(pid, out[0]));
  }

  ~Process() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (reader_.joinable()) reader_.join();
    close(fd_);
  }

  pid_t pid() const { return pid_; }

  // The first stdout line (already read or to come) for which `match` holds.
  // `guard` only keeps a broken test from hanging forever.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                         std::chrono::seconds guard = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    size_t seen = 0;
    auto deadline = std::chrono::steady_clock::now() + guard;
    for (;;) {
      for (; seen < lines_.size(); ++seen) {
        if (match(lines_[seen])) return lines_[seen];
      }
      if (eof_) return std::nullopt;
      if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
    }
  }

  void Signal(int signal) { kill(pid_, signal); }

  // Every stdout line read so far.
  std::vector<std::string> Lines() {
    std::lock_guard lock(mu_);
    return {lines_.begin(), lines_.end()};
  }

  // Waits up to `guard` for the process to end by itself; its exit code (or
  // 128 + signal), nullopt when it still runs (the guard only keeps a broken
  // test from hanging).
  std::optional<int> WaitFor(std::chrono::seconds guard) {
    if (exited_) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + guard;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Waits for the process to end; its exit code, or 128 + signal.
  int Wait() {
    if (exited_) return exit_code_;
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

 private:
  Process(pid_t pid, int fd) : pid_(pid), fd_(fd) {
    reader_ = std::thread([this] {
      std::string partial;
      char buffer[4096];
      for (;;) {
        ssize_t n = read(fd_, buffer, sizeof buffer);
        if (n <= 0) break;
        partial.append(buffer, static_cast<size_t>(n));
        size_t newline;
        while ((newline = partial.find('\n')) != std::string::npos) {
          std::lock_guard lock(mu_);
          lines_.push_back(partial.substr(0, newline));
          partial.erase(0, newline + 1);
          changed_.notify_all();
        }
      }
      std::lock_guard lock(mu_);
      eof_ = true;
      changed_.notify_all();
    });
  }

  pid_t pid_;
  int fd_;
  bool exited_ = false;
  int exit_code_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> lines_;
  bool eof_ = false;
};

// Runs a command to completion; its exit code and stdout.
inline std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) std::abort();
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

inline std::string Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) {
    std::fprintf(stderr, "environment variable %s is not set (run through ctest)\n", name);
    std::abort();
  }
  return value;
}

}  // namespace carrefour::testing
