// SPDX-License-Identifier: EUPL-1.2
#include "demo/processes.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/server.h"

namespace carrefour::demo {

Result<std::unique_ptr<Child>> Child::Start(std::string name, std::vector<std::string> argv,
                                            const std::filesystem::path& log_file,
                                            const std::vector<int>& listeners) {
  // The environment is built before fork(): after it, only async-signal-safe
  // calls are allowed.
  const std::string fds_prefix = std::string(net::kInheritedListenersEnv) + "=";
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::string_view(*entry).starts_with(fds_prefix)) continue;
    environment.emplace_back(*entry);
  }
  if (!listeners.empty()) environment.push_back(fds_prefix + fmt::format("{}", fmt::join(listeners, ",")));
  std::vector<char*> env;
  for (std::string& entry : environment) env.push_back(entry.data());
  env.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return tl::unexpected(Status(StatusCode::kUnavailable, fmt::format("pipe: {}", std::strerror(errno))));
  }
  int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    close(out[0]);
    close(out[1]);
    return tl::unexpected(Status(StatusCode::kUnavailable,
                                 fmt::format("{}: {}", log_file.string(), std::strerror(errno))));
  }
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    close(log);
    return tl::unexpected(Status(StatusCode::kUnavailable, fmt::format("fork: {}", std::strerror(errno))));
  }
  if (pid == 0) {
    // The child: its own process group, so that a Ctrl-C in the terminal
    // reaches the demo only, which then stops its children in order.
    setpgid(0, 0);
    // Should the demo die without stopping its children (kill -9), they
    // stop too rather than linger holding the ports.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(out[1], STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    // The demo opens its sockets close-on-exec; only these cross the exec.
    for (int fd : listeners) fcntl(fd, F_SETFD, 0);
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  close(out[1]);
  close(log);
  return std::unique_ptr<Child>(new Child(std::move(name), pid, out[0], log_file));
}

Child::Child(std::string name, pid_t pid, int stdout_fd, std::filesystem::path log_file)
    : name_(std::move(name)), pid_(pid), fd_(stdout_fd), log_file_(std::move(log_file)) {
  reader_ = std::thread([this] {
    std::ofstream log(log_file_, std::ios::app);
    std::string partial;
    char buffer[4096];
    for (;;) {
      ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      partial.append(buffer, static_cast<size_t>(n));
      size_t newline;
      while ((newline = partial.find('\n')) != std::string::npos) {
        std::string line = partial.substr(0, newline);
        partial.erase(0, newline + 1);
        log << line << "\n" << std::flush;
        std::lock_guard lock(mu_);
        lines_.push_back(std::move(line));
        if (lines_.size() > 1000) lines_.pop_front();
        changed_.notify_all();
      }
    }
    std::lock_guard lock(mu_);
    eof_ = true;
    changed_.notify_all();
  });
}

Child::~Child() {
  Stop();
  if (reader_.joinable()) reader_.join();
  close(fd_);
}

std::optional<std::string> Child::WaitForLine(const std::function<bool(const std::string&)>& match,
                                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t seen = 0;
  for (;;) {
    for (; seen < lines_.size(); ++seen) {
      if (match(lines_[seen])) return lines_[seen];
    }
    if (eof_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

bool Child::Running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int Child::Stop(std::chrono::milliseconds grace) {
  if (exit_code_) return *exit_code_;
  if (!Running()) return *exit_code_;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return *exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *exit_code_;
}

std::string Child::LastLogLine() const {
  std::ifstream in(log_file_);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

std::filesystem::path SelfExecutable() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("carrefour") : self;
}

}  // namespace carrefour::demo
