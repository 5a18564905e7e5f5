// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A SQLite VFS over the platform's default one that gathers the writes of a
// write-ahead log into one system call per commit (docs/store.md, "Writes
// to the WAL"). SQLite writes each frame of a commit as two writes (its 24-
// byte header, then the page), so a commit of 800 pages costs 1 600 calls,
// each locking the file and copying part of a page cache page; the commit
// then syncs. Here the contiguous writes of a WAL file wait in memory until
// the next operation that is not such a write (its sync at the commit, a
// read, a truncation, a size query...), and leave as one write.
//
// Durability is unchanged: nothing is durable before the sync, and the
// sync sends the gathered bytes first. A failed gathered write is reported
// by the call that sent it (the sync: the commit fails and rolls back).
// Only for connections that sync the WAL at every commit (synchronous =
// FULL), as the store's writer does: other connections learn of new frames
// from the shared WAL index, which SQLite updates after the commit's sync.
// Files other than WAL files are the default VFS's own, untouched.

#include <cstdint>

namespace carrefour::store::sqlite {

// The VFS's name, registered (not as the default) on first call.
// Thread-safe.
const char* WalGatheringVfs();

// Process-wide counts, for tests: the writes SQLite made to the VFS's WAL
// files, and the writes those became on the default VFS.
struct WalWriteCounts {
  uint64_t gathered = 0;
  uint64_t sent = 0;
};
WalWriteCounts WalGatheringCounts();

}  // namespace carrefour::store::sqlite
