// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace carrefour::research::internal {
namespace {

Status WriteAll(int fd, std::string_view content, const std::filesystem::path& file) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

Status SyncFolder(const std::filesystem::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return Internal(fmt::format("cannot open {}: {}", folder.string(), std::strerror(errno)));
  int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0)
    return Internal(fmt::format("cannot sync {}: {}", folder.string(), std::strerror(errno)));
  return OkStatus();
}

Status WriteFileDurably(const std::filesystem::path& file, std::string_view content,
                        bool sync_folder) {
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Internal(fmt::format("cannot create {}: {}", temporary.string(), std::strerror(errno)));
  }
  Status written = WriteAll(fd, content, temporary);
  if (written.ok() && ::fsync(fd) != 0) {
    written = Internal(fmt::format("cannot sync {}: {}", temporary.string(), std::strerror(errno)));
  }
  ::close(fd);
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return written;
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    return Internal(fmt::format("cannot rename {} to {}: {}", temporary.string(), file.string(),
                                std::strerror(errno)));
  }
  return sync_folder ? SyncFolder(file.parent_path()) : OkStatus();
}

Status AppendLineDurably(const std::filesystem::path& file, std::string_view line) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0)
    return Internal(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  Status written = WriteAll(fd, line, file);
  if (written.ok() && ::fsync(fd) != 0) {
    written = Internal(fmt::format("cannot sync {}: {}", file.string(), std::strerror(errno)));
  }
  ::close(fd);
  return written;
}

Result<std::string> ReadWholeFile(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error(NotFound(fmt::format("{}: no such file", file.string())));
    return Error(Internal(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno))));
  }
  std::string content;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return Error(
          Internal(fmt::format("cannot read {}: {}", file.string(), std::strerror(error))));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

Result<DurableWriter> DurableWriter::Open(const std::filesystem::path& file) {
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Error(
        Internal(fmt::format("cannot create {}: {}", temporary.string(), std::strerror(errno))));
  }
  return DurableWriter(file, fd);
}

DurableWriter::DurableWriter(DurableWriter&& other) noexcept
    : file_(std::move(other.file_)), fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

DurableWriter::~DurableWriter() {
  if (fd_ < 0) return;
  ::close(fd_);
  std::filesystem::path temporary = file_;
  temporary += ".tmp";
  ::unlink(temporary.c_str());
}

Status DurableWriter::Append(std::string_view bytes) {
  // Whole megabytes per write(2): the final files are rewritten row by row.
  buffer_ += bytes;
  if (buffer_.size() < (1u << 20)) return OkStatus();
  Status written = WriteAll(fd_, buffer_, file_);
  buffer_.clear();
  return written;
}

Status DurableWriter::Commit() {
  std::filesystem::path temporary = file_;
  temporary += ".tmp";
  CARREFOUR_RETURN_IF_ERROR(WriteAll(fd_, buffer_, temporary));
  buffer_.clear();
  if (::fsync(fd_) != 0) {
    return Internal(fmt::format("cannot sync {}: {}", temporary.string(), std::strerror(errno)));
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temporary.c_str(), file_.c_str()) != 0) {
    return Internal(fmt::format("cannot rename {} to {}: {}", temporary.string(), file_.string(),
                                std::strerror(errno)));
  }
  return SyncFolder(file_.parent_path());
}

Result<FileLock> FileLock::Acquire(const std::filesystem::path& file, std::string_view what) {
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return Error(Internal(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno))));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Error(InvalidRequest(
          fmt::format("{} is in use by another process (lock {})", what, file.string())));
    }
    return Error(Internal(fmt::format("cannot lock {}: {}", file.string(), std::strerror(error))));
  }
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace carrefour::research::internal
