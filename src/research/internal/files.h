// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The output folder's files: written whole and durably (temporary file,
// fsync, rename, fsync of the folder), so that a crash leaves either the old
// file or the new one, never half of one; and an exclusive lock per folder.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace carrefour::research::internal {

// Replaces `file` with `content`, durably. kInternal naming the file.
// Without `sync_folder`, the rename is durable only once SyncFolder() of its
// folder returns: one folder sync then covers several files.
Status WriteFileDurably(const std::filesystem::path& file, std::string_view content,
                        bool sync_folder = true);

// fsync of a folder: the renames and creations in it are durable.
Status SyncFolder(const std::filesystem::path& folder);

// Appends `line` (with its "\n") to `file` and fsyncs it. kInternal.
Status AppendLineDurably(const std::filesystem::path& file, std::string_view line);

// The whole file; not-found when it does not exist, kInternal otherwise.
Result<std::string> ReadWholeFile(const std::filesystem::path& file);

// A file written in pieces and published whole: the pieces go to FILE.tmp,
// Commit() syncs it and renames it over FILE. Destroyed uncommitted, the
// temporary file is removed.
class DurableWriter {
 public:
  static Result<DurableWriter> Open(const std::filesystem::path& file);
  DurableWriter(DurableWriter&& other) noexcept;
  DurableWriter& operator=(DurableWriter&&) = delete;
  ~DurableWriter();

  Status Append(std::string_view bytes);
  Status Commit();

 private:
  DurableWriter(std::filesystem::path file, int fd) : file_(std::move(file)), fd_(fd) {}
  std::filesystem::path file_;
  int fd_ = -1;
  std::string buffer_;
};

// An exclusive advisory lock (flock) on `file`, created if need be, held as
// long as the object lives. The kernel drops it when the process dies, so a
// crash never leaves a folder locked.
class FileLock {
 public:
  // invalid-request saying `what` is in use when another process holds it.
  static Result<FileLock> Acquire(const std::filesystem::path& file, std::string_view what);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace carrefour::research::internal
