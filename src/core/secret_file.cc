// SPDX-License-Identifier: EUPL-1.2
#include "core/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace carrefour {
namespace {

std::string ErrnoText(int error) { return std::strerror(error); }

// Reads the first line of the open `fd`; refuses a file that the group or
// others may access.
Result<std::string> ReadSecret(int fd, const std::filesystem::path& file, std::string_view what,
                               const std::function<bool(std::string_view)>& valid) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return Error(InvalidRequest(fmt::format("cannot read {} {}: {}", what, file.string(), ErrnoText(errno))));
  }
  if ((info.st_mode & 077) != 0) {
    return Error(InvalidRequest(fmt::format(
        "{} {} is accessible to group or others (mode {:04o}): chmod 600 {}", what,
        file.string(), info.st_mode & 07777, file.string())));
  }
  std::string content;
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error(InvalidRequest(fmt::format("cannot read {} {}: {}", what, file.string(), ErrnoText(errno))));
    }
    if (n == 0 || content.size() > 4096) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  std::string line = content.substr(0, content.find('\n'));
  if (!valid(line)) {
    return Error(InvalidRequest(fmt::format("{} is not a valid {}", file.string(), what)));
  }
  return line;
}

Result<std::string> Load(const std::filesystem::path& file, std::string_view what,
                         const std::function<bool(std::string_view)>& valid) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(Status(StatusCode::kNotFound, ErrnoText(errno)));
  Result<std::string> secret = ReadSecret(fd, file, what, valid);
  ::close(fd);
  return secret;
}

}  // namespace

Result<std::string> LoadOrCreateSecret(const std::filesystem::path& file, std::string_view what,
                                       const std::function<bool(std::string_view)>& valid,
                                       const std::function<Result<std::string>()>& make) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    Result<std::string> secret = ReadSecret(fd, file, what, valid);
    ::close(fd);
    return secret;
  }
  // Only a file that is truly absent is created: a dangling link or an
  // unreadable file is the operator's to fix (retrying would never end).
  const int open_error = errno;
  struct stat link_info {};
  if (open_error != ENOENT || ::lstat(file.c_str(), &link_info) == 0) {
    return Error(InvalidRequest(fmt::format(
        "{} {} exists but cannot be opened: {}", what, file.string(),
        open_error == ENOENT ? "it is a link to nothing" : ErrnoText(open_error))));
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::string secret, make());
  std::random_device random;
  const std::filesystem::path temporary =
      file.string() + fmt::format(".tmp-{}-{:08x}", ::getpid(), random());
  fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(InvalidRequest(fmt::format("cannot create {}: {}", temporary.string(), ErrnoText(errno))));
  }
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return Error(InvalidRequest(fmt::format("cannot write {}", temporary.string())));
  }
  // link() fails with EEXIST when another process created `file` meanwhile:
  // that one's secret is the secret.
  const int linked = ::link(temporary.c_str(), file.c_str());
  const int link_error = errno;
  ::unlink(temporary.c_str());
  if (linked != 0) {
    if (link_error == EEXIST) {
      Result<std::string> theirs = Load(file, what, valid);
      if (theirs || theirs.error().code() != StatusCode::kNotFound) return theirs;
    }
    return Error(InvalidRequest(fmt::format("cannot create {} {}: {}", what, file.string(), ErrnoText(link_error))));
  }
  // The new name must survive a crash too.
  int dir = ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return secret;
}

}  // namespace carrefour
