#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/record.h"
#include "audit/storage.h"
#include "core/clock.h"
#include "core/result.h"

namespace carrefour::audit {

// The hub's audit log: an append-only, hash-chained record of every
// integration, consultation, refusal and mutation, durable before the answer
// leaves. Start here.
//
// Each hub process writes its own chain (named by its node id), so several
// hubs on one database never contend on a chain head. Records are written by
// one writer thread with group commit: everything queued while a transaction
// is in flight goes into the next one, so durability costs one commit per
// batch, not per record.
//
// Thread-safe. The storage must outlive the log.
class AuditLog {
 public:
  struct Options {
    std::string node = "hub-1";  // unique per hub process
    std::string checkpoint_key;  // HMAC key for checkpoints; empty = no MAC
    size_t max_batch = 2048;     // records per transaction at most
  };
  // Called once the record is durable (ok) or could not be written (error),
  // from the writer thread: keep it short.
  using Done = std::function<void(const Status&)>;

  // Reads the node's checkpoint to continue its chain.
  static Result<std::unique_ptr<AuditLog>> Open(AuditStorage& storage, Options options,
                                                const Clock& clock = SystemClock());
  ~AuditLog();  // writes what is queued, then stops the writer

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `record` (node, seq and hashes are set here; time_us too when 0).
  void Append(Record record, Done done);
  // Appends and waits until the record is durable.
  Status AppendAndWait(Record record);

  const std::string& node() const { return options_.node; }
  // Whether the last write of the log failed (and no write or re-read of
  // the chain's head has succeeded since); then `last_error()` says why.
  // After a failure the writer re-reads the node's checkpoint before its
  // next write (a commit whose outcome was unknown may have gone through);
  // while failing and idle it tries, every second, to write an admin record
  // saying that the log is written again: a failing log recovers by itself
  // when the storage does.
  bool failing() const;
  std::string last_error() const;
  size_t queued() const;
  int64_t last_seq() const;
  uint64_t commits() const;

 private:
  struct Pending {
    Record record;
    Done done;
  };

  AuditLog(AuditStorage& storage, Options options, const Clock& clock, Checkpoint head);
  void WriterLoop();
  // Re-reads this node's checkpoint into head_ (writer thread).
  Status Resync();

  AuditStorage& storage_;
  const Options options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  Checkpoint head_;  // guarded by mu_ for readers; written by the writer
  uint64_t commits_ = 0;
  bool failing_ = false;    // guarded by mu_
  std::string last_error_;  // guarded by mu_
  std::thread writer_;
};

// HMAC-SHA-256 of "node:seq:hash" under `key`, hex; empty when key is empty.
std::string CheckpointMac(std::string_view key, const Checkpoint& checkpoint);

struct ChainSummary {
  std::string node;
  int64_t records = 0;
  std::string head;  // hash of the last record
};

struct VerifyReport {
  bool ok = true;
  int64_t records = 0;
  std::vector<ChainSummary> chains;
  // When !ok: which record is the first bad one, and why
  // ("node hub-1, record 42: its hash does not match its content").
  std::string first_bad;
};

// Walks every chain: consecutive seqs from 1, each prev_hash equal to the
// previous record's hash, each hash equal to its content, and the chain's end
// equal to its checkpoint (with a MAC check when `checkpoint_key` is given).
// Detects modified, removed and reordered records. An error Status only when
// the storage cannot be read.
Result<VerifyReport> Verify(AuditStorage& storage, std::string_view checkpoint_key = {});

}  // namespace carrefour::audit
