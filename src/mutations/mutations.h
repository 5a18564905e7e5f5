// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Automatic communication of changes (DESIGN.md element 4, docs/api.md section
// 4.3). Start here.
//
//   source's batch -> validate each item -> who must be told (directory's
//   decision engine, today) -> the payload once, each subscriber's copy
//   naming only its fields -> one durable transaction for the mutations,
//   their deliveries and their audit records (shared with the batches that
//   arrived meanwhile: group commit) -> 202
//
//   subscriber's feed read -> its deliveries after `after`, or wait (long
//   poll) until some arrive or the wait ends -> the acknowledgement up to
//   `after` and the read's audit record in one durable transaction (shared
//   with the group's) -> 200
//
// The writes are the service's writer thread's: the callers' threads never
// wait for a disk.
//
// No HTTP here: the hub hands in the caller's identity (its certificate's CN)
// and the body or query parameters, and gets back a status and a body. A
// waiting feed read holds no thread: it is kept in a registry and answered by
// the service's own thread when the caller's deliveries arrive (accepted by
// this process, or by another hub on the same PostgreSQL database, noticed by
// polling) or when its wait ends. docs/mutations.md explains the design.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "directory/decision.h"
#include "directory/engine_source.h"

namespace carrefour::store {
class Store;
struct NewMutation;
struct FeedAck;
}

namespace carrefour::replica {
class DirectoryReplica;
}

namespace carrefour::mutations {

// docs/api.md section 4.3: a bigger batch is refused whole.
inline constexpr size_t kMaxMutationsPerBatch = 1000;
// Batches waiting while one is written go into the next transaction
// together, up to this many mutations (group commit).
inline constexpr size_t kMaxGroupMutations = 8 * kMaxMutationsPerBatch;
// Waiting feed reads are answered inside a group's transaction when it has
// at most this many mutations (docs/mutations.md, "Feeds").
inline constexpr size_t kMaxRiderGroupMutations = 100;
// The data type of an identity replacement, and its field.
inline constexpr std::string_view kNissReplaced = "person.niss-replaced";
inline constexpr std::string_view kNewNissField = "new_niss";

// An answer for the caller.
using Reply = api::Reply;

struct Options {
  // Deliveries (acknowledged or not) and the identities of mutations are
  // kept this long at most.
  std::chrono::seconds retention = std::chrono::days(30);
  // How often the retention purge runs.
  std::chrono::seconds purge_interval{60};
  // A feed read waits at most this long, whatever it asks.
  std::chrono::seconds max_wait{60};
  // How often waiting feed reads look at the store for deliveries accepted
  // by another process (several hubs on one PostgreSQL database); zero =
  // never (one hub: its own acceptances wake the waiters directly).
  std::chrono::milliseconds poll_interval{0};
  size_t default_limit = 100;
  size_t max_limit = 1000;
  // Where the answers of a written group go, all at once (the hub: its
  // event loop), so that the writer thread does no I/O (the answers' log
  // lines, metrics and writes) before it writes the next group. Null: they
  // are called on the writer thread.
  std::function<void(std::function<void()>)> deliver;
};

// For /metrics. Monotonic; read with relaxed loads.
struct Counters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> delivered{0};  // deliveries handed out by feed reads
  std::atomic<uint64_t> expired{0};    // unacknowledged deliveries purged
  std::atomic<uint64_t> feed_reads{0};
};

using directory::EngineSource;

// Thread-safe; every dependency must outlive it.
class MutationService {
 public:
  // With `replica` (may be null), a batch's subscribers are resolved on the
  // directory's copy in memory when it holds every change the store's log
  // had at the publication (DirectoryReplica::ReadAt), else on the store.
  MutationService(EngineSource engine, store::Store& store, audit::AuditLog& audit,
                  const Clock& clock, Options options = {},
                  const replica::DirectoryReplica* replica = nullptr);
  ~MutationService();  // Shutdown()
  MutationService(const MutationService&) = delete;
  MutationService& operator=(const MutationService&) = delete;

  // POST /v1/mutations from `caller`. `done` is called exactly once, after
  // the mutations, their deliveries and their audit records are durable (one
  // transaction, shared with the batches of other callers that arrived
  // meanwhile), possibly from another thread.
  void Publish(std::string_view caller, std::string_view body, std::function<void(Reply)> done);

  // GET /v1/mutations/feed?after=&limit=&wait= from `caller` (the query
  // parameters as given; absent = nullopt). `done` is called exactly once,
  // possibly much later (long poll) and from another thread; `abandoned`,
  // when given, tells that nobody listens any more (the waiter is dropped).
  void ReadFeed(std::string_view caller, std::optional<std::string_view> after,
                std::optional<std::string_view> limit, std::optional<std::string_view> wait,
                std::function<void(Reply)> done, std::function<bool()> abandoned = nullptr);

  // Runs a retention pass now (the service also runs one every
  // purge_interval).
  Status Purge();

  // Answers every waiting feed read (with what is there), stops the feed
  // loop, then the writer once everything queued is written; later feed
  // reads do not wait and later writes are made by their callers. Idempotent.
  void Shutdown();

  const Counters& counters() const { return counters_; }
  size_t waiting() const;

  // Prometheus text: the counters, and per subscriber the backlog and the age
  // of its oldest unacknowledged delivery (read from the store).
  std::string Metrics() const;

 private:
  struct Waiter;
  struct Intake;
  struct Rider;

  // Queues `intakes` for the writer thread (group commit).
  void Commit(std::vector<std::shared_ptr<Intake>> intakes);
  void WriterLoop();
  // `busy`: more came while the last group was written (AuditLog::AppendWith).
  void WriteGroup(const std::vector<std::shared_ptr<Intake>>& intakes, bool busy = false);
  std::vector<Rider> TakeRiders(const std::vector<store::NewMutation>& mutations);
  void Settled(const Status& written, const std::vector<std::shared_ptr<Intake>>& group,
               const std::vector<std::shared_ptr<Intake>>& reads,
               const std::vector<store::FeedAck>& acks, std::vector<Rider>& riders);
  // Answers `status` (audited first).
  void Refuse(const Intake& intake, const Status& status, std::function<void(Reply)> done);

  void Answer(std::shared_ptr<Waiter> waiter, bool final,
              std::vector<std::shared_ptr<Intake>>& to_write);
  void Loop();

  EngineSource engine_;
  store::Store& store_;
  const replica::DirectoryReplica* replica_;
  audit::AuditLog& audit_;
  const Clock& clock_;
  const Options options_;
  Counters counters_;

  // Batches and acknowledging feed reads waiting for the writer thread
  // (group commit).
  std::mutex intake_mu_;
  std::condition_variable intake_wake_;
  std::vector<std::shared_ptr<Intake>> intake_queue_;  // guarded by intake_mu_
  bool writer_stopping_ = false;                        // guarded by intake_mu_
  bool writer_stopped_ = false;  // guarded by intake_mu_; then callers write
  // Per feed, the cursor its acknowledgements durably reached here (a read
  // after no further one writes nothing); guarded by intake_mu_.
  std::map<std::string, int64_t, std::less<>> acked_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::list<std::shared_ptr<Waiter>> waiters_;  // guarded by mu_
  std::set<std::string> woken_;                 // callers with new deliveries; guarded by mu_
  // Per caller, bumped at each publication for it; guarded by mu_.
  std::map<std::string, uint64_t, std::less<>> generation_;
  bool registered_ = false;  // a waiter was added since the loop last looked; guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::thread thread_;  // the feed loop: waiting reads, retention
  std::thread writer_;  // WriterLoop
};

// Parses the feed's query parameters: `after` a cursor ("0" or absent = the
// start), `limit` 1..max_limit, `wait` seconds (capped at max_wait).
// invalid-request naming the bad one.
struct FeedQuery {
  int64_t after = 0;
  size_t limit = 100;
  std::chrono::seconds wait{0};
};
Result<FeedQuery> ParseFeedQuery(std::optional<std::string_view> after,
                                 std::optional<std::string_view> limit,
                                 std::optional<std::string_view> wait, const Options& options);

}  // namespace carrefour::mutations
