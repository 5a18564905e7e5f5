// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace carrefour::store::sqlite {
namespace {

constexpr const char kName[] = "carrefour-wal-gathering";

// Sent once this much is gathered, so that a huge transaction (a bulk
// import) does not hold its whole WAL in memory.
constexpr size_t kMaxGathered = 8u << 20;

sqlite3_vfs* base_vfs = nullptr;  // set once, before registration

std::atomic<uint64_t> gathered_writes{0};
std::atomic<uint64_t> sent_writes{0};

// A WAL file: our header, then the default VFS's file object.
struct WalFile {
  sqlite3_file header;  // must stay first: SQLite sees a sqlite3_file*
  sqlite3_file* real;   // right after this struct, in the same allocation
  std::string* pending; // gathered bytes, from pending_offset
  sqlite3_int64 pending_offset;
};

WalFile* AsWal(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file); }
const sqlite3_io_methods* Real(WalFile* wal) { return wal->real->pMethods; }

// The default VFS on Unix writes at most 128 KiB - 1 bytes per call (it
// masks larger sizes): the gathered bytes leave in pieces of 64 KiB.
constexpr size_t kMaxWrite = 64u << 10;

// Sends the gathered bytes; the first failed write's code (and nothing kept)
// if one fails.
int Flush(WalFile* wal) {
  const std::string& pending = *wal->pending;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < pending.size() && rc == SQLITE_OK; done += kMaxWrite) {
    const size_t size = std::min(kMaxWrite, pending.size() - done);
    rc = Real(wal)->xWrite(wal->real, pending.data() + done, static_cast<int>(size),
                           wal->pending_offset + static_cast<sqlite3_int64>(done));
    sent_writes.fetch_add(1, std::memory_order_relaxed);
  }
  wal->pending->clear();
  return rc;
}

int Close(sqlite3_file* file) {
  WalFile* wal = AsWal(file);
  int flushed = Flush(wal);
  int rc = Real(wal)->xClose(wal->real);
  delete wal->pending;
  wal->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  WalFile* wal = AsWal(file);
  if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
  return Real(wal)->xRead(wal->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* wal = AsWal(file);
  gathered_writes.fetch_add(1, std::memory_order_relaxed);
  std::string& pending = *wal->pending;
  const bool follows =
      !pending.empty() && offset == wal->pending_offset + static_cast<sqlite3_int64>(pending.size());
  if (!follows) {
    if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
    wal->pending_offset = offset;
  }
  pending.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  return pending.size() >= kMaxGathered ? Flush(wal) : SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* wal = AsWal(file);
  if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
  return Real(wal)->xTruncate(wal->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  WalFile* wal = AsWal(file);
  if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
  return Real(wal)->xSync(wal->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* wal = AsWal(file);
  if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
  return Real(wal)->xFileSize(wal->real, size);
}

int Lock(sqlite3_file* file, int level) {
  WalFile* wal = AsWal(file);
  return Real(wal)->xLock(wal->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  WalFile* wal = AsWal(file);
  return Real(wal)->xUnlock(wal->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  WalFile* wal = AsWal(file);
  return Real(wal)->xCheckReservedLock(wal->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  WalFile* wal = AsWal(file);
  if (int rc = Flush(wal); rc != SQLITE_OK) return rc;
  return Real(wal)->xFileControl(wal->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  WalFile* wal = AsWal(file);
  return Real(wal)->xSectorSize(wal->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  WalFile* wal = AsWal(file);
  return Real(wal)->xDeviceCharacteristics(wal->real);
}

// Version 1: a WAL file is never memory-mapped nor holds the shared index
// (that is the main database file's).
const sqlite3_io_methods kWalMethods = {
    1,         Close,       Read,       Write,       Truncate,   Sync,
    FileSize,  Lock,        Unlock,     CheckReservedLock,       FileControl,
    SectorSize, DeviceCharacteristics,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  (void)vfs;
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Everything but WAL files: the default VFS's file object, as is (the
    // space reserved is large enough for it).
    return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
  }
  WalFile* wal = AsWal(file);
  wal->header.pMethods = nullptr;  // until open: SQLite then skips xClose
  wal->real = reinterpret_cast<sqlite3_file*>(wal + 1);
  int rc = base_vfs->xOpen(base_vfs, name, wal->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // The default VFS may have set methods to be closed even on failure.
    if (wal->real->pMethods != nullptr) wal->real->pMethods->xClose(wal->real);
    return rc;
  }
  wal->pending = new (std::nothrow) std::string();
  if (wal->pending == nullptr) {
    wal->real->pMethods->xClose(wal->real);
    return SQLITE_NOMEM;
  }
  wal->pending_offset = 0;
  wal->header.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The rest is the default VFS's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return base_vfs->xDelete(base_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base_vfs->xAccess(base_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return base_vfs->xFullPathname(base_vfs, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return base_vfs->xDlOpen(base_vfs, name); }
void DlError(sqlite3_vfs*, int size, char* out) { base_vfs->xDlError(base_vfs, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return base_vfs->xDlSym(base_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { base_vfs->xDlClose(base_vfs, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) {
  return base_vfs->xRandomness(base_vfs, size, out);
}
int Sleep(sqlite3_vfs*, int micros) { return base_vfs->xSleep(base_vfs, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return base_vfs->xCurrentTime(base_vfs, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, size, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

const char* Register() {
  base_vfs = sqlite3_vfs_find(nullptr);
  if (base_vfs == nullptr || base_vfs->iVersion < 2) return nullptr;
  static sqlite3_vfs vfs = {};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + base_vfs->szOsFile;
  vfs.mxPathname = base_vfs->mxPathname;
  vfs.zName = kName;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  return sqlite3_vfs_register(&vfs, /*makeDflt=*/0) == SQLITE_OK ? kName : nullptr;
}

}  // namespace

const char* WalGatheringVfs() {
  static const char* const name = Register();
  return name;
}

WalWriteCounts WalGatheringCounts() {
  return WalWriteCounts{gathered_writes.load(std::memory_order_relaxed),
                        sent_writes.load(std::memory_order_relaxed)};
}

}  // namespace carrefour::store::sqlite
