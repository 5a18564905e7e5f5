// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The person directory copied into memory (directory::PersonDirectory) and
// kept exact, so that a hub decides a consultation without a store read on
// its I/O thread. Start here:
//
//   DirectoryReplica replica(store.directory(), [&] { return engine(); });
//   replica.Start();  // a thread loads the whole directory, then follows it
//   ...
//   if (DirectoryReplica::View view = replica.Read(*engine)) {
//     grant = engine->DecideCompact(request, *view, today);  // in memory
//   } else {
//     grant = engine->Decide(request, *store.directory().EntriesOfPerson(niss), today);
//   }
//
// Exactness (docs/architecture.md, "The directory in memory"): the copy
// follows the store's change log (store/directory_store.h), which every
// writer feeds, whatever process it runs in. Read() hands the copy out only
// when all three hold:
//   - it was built on the deciding engine's definition (a reload rebuilds
//     it; meanwhile decisions read the store);
//   - it has caught up with the log since this process's last own write
//     through the store (DirectoryStore::writes()): a file closed through
//     this hub is honoured by its very next decision;
//   - its last catch-up started less than Options::freshness (1 s) ago, so
//     it holds every change any hub committed before then: a file closed
//     through another hub on the same PostgreSQL is honoured here within
//     1 s. A store that cannot be read makes the copy go stale, not wrong.
// Otherwise the caller decides on the store's entries, as before: slower,
// never less exact.
//
// Thread safety: Read() from any number of threads; a View holds the copy
// (a shared lock) until it is destroyed: hold it for one decision only.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "core/status.h"
#include "directory/decision.h"
#include "directory/engine_source.h"
#include "directory/person_directory.h"

namespace carrefour::store {
class DirectoryStore;
}

namespace carrefour::replica {

class DirectoryReplica {
 public:
  struct Options {
    // How often the thread reads the change log.
    std::chrono::milliseconds poll_interval{200};
    // How old the last catch-up may be for the copy to be used.
    std::chrono::milliseconds freshness{1000};
    // Persons per read of the whole directory, and changes per read of the log.
    size_t page = 10000;
    // The log's changes older than this are pruned (by every hub: harmless);
    // a copy that could not catch up for half of it is loaded again whole.
    std::chrono::seconds keep_changes{600};
  };

  // `store` and what `engine` returns must outlive the replica.
  DirectoryReplica(store::DirectoryStore& store, directory::EngineSource engine);
  DirectoryReplica(store::DirectoryStore& store, directory::EngineSource engine, Options options);
  ~DirectoryReplica();  // Stop()
  DirectoryReplica(const DirectoryReplica&) = delete;
  DirectoryReplica& operator=(const DirectoryReplica&) = delete;

  // Starts the thread (named directory-copy): it loads the whole directory
  // for the engine's definition, then catches up every poll_interval (at
  // once when Read() found the copy behind), and loads again after a reload
  // of the definition. Decisions read the store until the first load ends.
  void Start();
  // Stops and joins the thread; the copy goes stale after its freshness.
  void Stop();

  // The copy, held for one decision; false when it may not be used.
  class View {
   public:
    View() = default;
    explicit operator bool() const { return directory_ != nullptr; }
    const directory::PersonDirectory& operator*() const { return *directory_; }
    const directory::PersonDirectory* operator->() const { return directory_; }

   private:
    friend class DirectoryReplica;
    std::shared_lock<std::shared_mutex> lock_;
    const directory::PersonDirectory* directory_ = nullptr;
  };
  // The copy when it can decide for `engine` (see the rules above); an
  // empty View otherwise. Counts which it was (stats()).
  View Read(const directory::DecisionEngine& engine) const;

  // The copy when it was built on `engine`'s definition and holds every
  // change of the store's log up to `position` (DirectoryStore::LastChange()
  // read by the caller just before): exact as of that read, whoever wrote.
  // An empty View otherwise (the thread is asked to catch up). For work
  // that may not use a copy up to 1 s old: subscribers of a mutation
  // (mutations/mutations.h), where a file added through another hub a
  // moment ago must already count.
  View ReadAt(const directory::DecisionEngine& engine, uint64_t position) const;

  // What the thread does: loads the whole directory when there is no copy
  // for the current definition (or it fell too far behind), else catches
  // up with the log. Synchronous; for tests and tools.
  Status Refresh();

  struct Stats {
    size_t persons = 0;
    size_t entries = 0;
    size_t bytes = 0;
    uint64_t loads = 0;          // whole loads done
    uint64_t memory_reads = 0;   // Read() calls that handed the copy out
    uint64_t store_reads = 0;    // and those that did not
  };
  Stats stats() const;

 private:
  using Steady = std::chrono::steady_clock;

  // Counts a read sent to the store and asks the thread to catch up.
  View Declined() const;
  Status Load(std::shared_ptr<const network::Definition> definition);
  Status CatchUp();
  // Replaces the entries of `persons` (ascending) with the store's.
  Status Reread(std::span<const uint64_t> persons);
  void Run();
  void Wake() const;

  store::DirectoryStore& store_;
  directory::EngineSource engine_;
  const Options options_;

  mutable std::shared_mutex mu_;  // directory_: shared to decide, unique to change
  std::unique_ptr<directory::PersonDirectory> directory_;
  std::mutex refresh_mu_;          // one Refresh at a time
  // Where the copy stood, once a minute (refresh_mu_): what to prune.
  std::deque<std::pair<Steady::time_point, uint64_t>> marks_;

  // What Read() checks without a lock.
  std::atomic<uint64_t> seen_writes_{0};    // store writes() before the last catch-up
  // The log position the copy holds; set (by Refresh, under refresh_mu_)
  // after the copy has it, and read by ReadAt under mu_, so never ahead of
  // the copy a View holds.
  std::atomic<uint64_t> applied_{0};
  std::atomic<int64_t> fresh_since_ns_{0};  // when the last catch-up started (steady)
  mutable std::atomic<uint64_t> memory_reads_{0}, store_reads_{0};
  std::atomic<uint64_t> loads_{0};

  mutable std::mutex wake_mu_;
  mutable std::condition_variable wake_cv_;
  mutable std::atomic<bool> wake_{false};
  std::atomic<bool> stopping_{false};  // set under wake_mu_; a load looks at it between pages
  std::thread thread_;
};

}  // namespace carrefour::replica
