// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/person_index.h"
#include "audit/record.h"
#include "audit/storage.h"
#include "core/clock.h"
#include "core/result.h"
#include "metrics/text.h"

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
// Each node's records are also the leaves of an RFC 6962 Merkle tree (leaf
// index = seq - 1), covered by checkpoints signed with the node's Ed25519
// key (C2SP signed note, docs/api.md 6.1), each saved in the transaction of
// the records it ends at. A batch that comes to an idle writer whose log is
// all signed is signed with its commit (at a trickle, an answered request's
// record is in the checkpoint committed with it). Records that arrive while
// a commit is written (a continuous load) are signed at least every
// Options::checkpoint_interval, and at the latest one interval after the
// load stops (a record is in the next checkpoint, as docs/api.md 6.1
// allows): two Ed25519 signatures and the person index's root per interval,
// not per group commit. Integrate() asks for a checkpoint covering
// everything written so far (a reader that must see the latest records). The checkpoint also commits the
// node's person index (audit/person_index.h), so that a person's list of
// records can be shown complete. The node's verifier key is published in
// the store, so any node and `carrefour audit verify` can check every
// node's log.
//
// Thread-safe. The storage must outlive the log.
class AuditLog {
 public:
  struct Options {
    std::string node = "hub-1";  // unique per hub process (CheckNodeId)
    // Signs the node's checkpoints; its name must be CheckpointOrigin(node).
    // Null: a fresh key (tests; a node without a data folder).
    std::shared_ptr<const NoteSigner> signer;
    size_t max_batch = 2048;  // records per transaction at most
    // Where the node keeps its latest checkpoint outside the store (its data
    // folder), rewritten at most every second and at close: a store whose
    // log was cut back behind it is refused, and verification (the hub's,
    // `carrefour audit verify --data`) checks the store still extends it.
    // Empty: not kept.
    std::filesystem::path checkpoint_file;
    // False for benchmarks only (`carrefour hub --bench-unverifiable-audit`):
    // records are chained and durable as ever, but commits neither extend
    // the Merkle tree nor the person index and save an unsigned checkpoint,
    // so that the cost of the verifiable log can be measured against it.
    // Such a log fails `carrefour audit verify` and cannot answer proofs.
    bool verifiable = true;
    // Under a continuous load (the writer never idle), a signed checkpoint
    // at least this often; at most every second (docs/api.md 6.1).
    std::chrono::milliseconds checkpoint_interval{250};
    // Set: the `done` callbacks of each commit are handed to it together,
    // as one task to run elsewhere (the hub: its API event loop, where
    // answering is posting to the connections — one wake-up per commit
    // instead of one per record, and the writer back to writing at once).
    // Unset: they run on the writer thread. AppendAndWait's own wait is
    // always ended from the writer thread (its caller may be a loop thread).
    std::function<void(std::function<void()>)> deliver;
  };
  // Called once the record is durable (ok) or could not be written (error),
  // from the writer thread or Options::deliver's: keep it short.
  using Done = std::function<void(const Status&)>;

  // Publishes the node's key (refused when the store holds another one for
  // this node), rebuilds the node's tree from its records (a store from
  // before signed checkpoints gets its first one here) and continues the
  // chain. Refuses a log shorter than its last checkpoint.
  static Result<std::unique_ptr<AuditLog>> Open(AuditStorage& storage, Options options,
                                                const Clock& clock = SystemClock());
  ~AuditLog();  // writes what is queued, then stops the writer

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `record` (node, seq and hashes are set here; time_us too when 0).
  void Append(Record record, Done done);
  // Appends and waits until the record is durable.
  Status AppendAndWait(Record record);

  // For a caller whose own write and the records tracing it must be one
  // transaction (a batch of mutations: one durable write, not two). `write`
  // runs with the chain to itself (the writer thread waits meanwhile); it
  // calls `chain` on its records, which adds the records queued by Append
  // meanwhile at their end (they ride along: one fsync for both), numbers
  // and hashes them all after the head (node, seq, hashes; time_us too when
  // 0) and gives the checkpoint that goes with them (signed or not, as for
  // the writer's own commits; the store saves only a signed one); `write`
  // stores all of `records` and the checkpoint in its transaction and
  // returns its outcome.
  // `chain` may be called again on the caller's own records (a retried
  // transaction): each call starts from the same head. On ok the head moves
  // past them and the riders are told; otherwise the head stays and the
  // riders go back to the queue.
  // `busy`: the caller had more work come while its last such write was
  // written (a continuous load). As for the writer's own commits, the
  // checkpoint is then signed only once per checkpoint_interval; the
  // writer thread signs what is left one interval after the load stops.
  using Chain = std::function<Checkpoint(std::vector<Record>& records)>;
  Status AppendWith(const std::function<Status(const Chain& chain)>& write, bool busy = false);

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
  // The last record written (durable), signed or not yet.
  int64_t last_seq() const;
  uint64_t commits() const;
  // How long the group commits took (the store's transaction and its fsync,
  // from the first insert to the durable commit), in seconds: what every
  // audited answer waits for at least once, and up to twice.
  metrics::Histogram commit_durations() const;
  // The latest signed checkpoint (signed note in `note`).
  Checkpoint checkpoint() const;
  // Returns once the latest signed checkpoint covers every record written
  // before the call (at once when it does; otherwise the writer signs one
  // now). Unavailable when the log cannot write it (failing storage).
  Status Integrate();
  const std::string& verifier_key() const { return signer_->verifier_key(); }

 private:
  struct Pending {
    Record record;
    Done done;
    bool on_writer = false;  // `done` runs on the writer thread, never deliver
  };

  AuditLog(AuditStorage& storage, Options options, const Clock& clock,
           std::shared_ptr<const NoteSigner> signer, Checkpoint head, CompactRange tree,
           PersonIndex index);
  void WriterLoop();
  void Queue(Record record, Done done, bool on_writer);
  // Waits for work and takes the next batch off the queue into `batch`
  // (possibly empty: a checkpoint is due); `sign` tells whether its commit
  // signs. False when the log stops with everything written. `busy`: records
  // came while the last commit was written.
  bool TakeBatch(bool busy, std::vector<Pending>& batch, bool& sign);
  // Chains, writes and publishes `batch` (records moved into `records`) in
  // one transaction; `busy` set to whether more records queued meanwhile.
  Status WriteBatch(std::vector<Pending>& batch, std::vector<Record>& records, bool sign,
                    bool& busy);
  // Tells the batch's callers how their records went (options_.deliver).
  void Deliver(std::vector<Pending>& batch, const Status& status);
  // Extends the chain, tree_ and index_ with the node's records in the
  // store past the chain's end, and head_ with its latest checkpoint (writer
  // thread): a commit reported failed may have gone through.
  Status Resync();
  // Whether the commit of a batch signs its checkpoint (mu_ held): `idle`,
  // the batch came to a writer that was waiting with everything signed.
  bool SignsNow(bool idle) const;
  // After a commit that ended the chain at `next` (signed when its note is
  // not empty); mu_ held.
  void Advance(const Checkpoint& next);
  void KeepCheckpoint(const Checkpoint& checkpoint);  // chain_mu_ held
  // Numbers and hashes `records` after the record `seq` whose hash is
  // `hash`, appends their leaves to `tree` and folds them into `index`
  // (uncommitted); the checkpoint after them, signed when `sign` (otherwise
  // its note is empty and the store does not save it).
  Checkpoint ChainOnto(int64_t seq, std::string hash, CompactRange& tree, PersonIndex& index,
                       std::span<Record> records, bool sign) const;

  AuditStorage& storage_;
  const Options options_;
  const Clock& clock_;
  const std::shared_ptr<const NoteSigner> signer_;

  // Held while a transaction that extends the chain is written (the
  // writer's, or AppendWith's): one at a time, each after the last head.
  std::mutex chain_mu_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  Checkpoint head_;  // the latest signed; guarded by mu_ for readers; written by the writer
  // The chain's end: the last record written (head_.seq when signed).
  int64_t chain_seq_ = 0;   // guarded by mu_
  std::string chain_hash_;  // guarded by mu_
  bool integrate_ = false;  // guarded by mu_: a reader waits for a checkpoint
  std::condition_variable integrated_;
  std::chrono::steady_clock::time_point signed_at_{};  // mu_ held
  CompactRange tree_;  // chain_mu_ held; up to the chain's end
  PersonIndex index_;  // chain_mu_ held; committed up to the chain's end
  std::chrono::steady_clock::time_point kept_at_{};  // chain_mu_ held
  int64_t kept_seq_ = -1;                             // chain_mu_ held
  // Every commit's duration (its count is commits()); 0.1 ms to 1 s: an
  // fsync on a fast disk to a stalled one.
  metrics::Histogram commit_seconds_{
      {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0}};  // mu_
  bool failing_ = false;    // guarded by mu_
  std::string last_error_;  // guarded by mu_
  std::thread writer_;
};

// DIR/audit-<node>.checkpoint: where a hub keeps its node's latest
// checkpoint (Options::checkpoint_file).
std::filesystem::path CheckpointFile(const std::filesystem::path& data_dir, std::string_view node);

// The checkpoints kept in a data folder (every audit-*.checkpoint file).
std::vector<std::string> KeptCheckpoints(const std::filesystem::path& data_dir);

// Signs the checkpoint of `node` over the tree `tree` whose last record has
// chain hash `hash`, committing the person index `index` when not null.
Checkpoint SignCheckpoint(const NoteSigner& signer, std::string_view node, std::string hash,
                          const CompactRange& tree, int64_t time_us, PersonIndex* index = nullptr);

// The store's person index key (raw bytes), created with random bytes when
// it has none.
Result<std::string> LoadPersonIndexKey(AuditStorage& storage);

struct ChainSummary {
  std::string node;
  int64_t records = 0;
  std::string head;  // chain hash of the last record
  std::string root;  // hex Merkle root over its records (empty when not checked)
};

enum class Verdict {
  kIntact,         // every node's log checked and whole
  kBroken,         // a record or checkpoint was changed, removed or added: first_bad
  kNotVerifiable,  // nothing found wrong, but some check could not be made: not_verified
};

struct VerifyReport {
  bool ok = true;  // verdict == kIntact
  Verdict verdict = Verdict::kIntact;
  int64_t records = 0;
  std::vector<ChainSummary> chains;
  // When broken: the first bad record or checkpoint, and why
  // ("node hub-1, record 42: its hash does not match its content").
  std::string first_bad;
  // Why some node could not be checked ("node hub-2: no published key").
  std::vector<std::string> not_verified;
  // Records that follow a node's chain after its last checkpoint but that no
  // signed checkpoint covers yet (a node stopped between two checkpoints
  // signs them when it next starts): the chain is intact, and they are
  // named here ("node hub-1: records 6..9 ...").
  std::vector<std::string> unsigned_tails;
};

struct VerifyOptions {
  // Nodes whose log must be in the store (this hub's own node; the nodes
  // whose keys a data folder holds): a missing one is broken.
  std::vector<std::string> expected_nodes;
  // Signed checkpoints seen before (kept by the node, or by a witness): the
  // store's log must extend each, so cutting the tail and its checkpoints
  // is found.
  std::vector<std::string> remembered;
  // How long to wait for a running node to sign a checkpoint over records
  // it wrote after the checkpoints were read, before reporting them not
  // verifiable.
  std::chrono::milliseconds checkpoint_wait{2000};
};

// Walks every node's log (every node with records, a checkpoint, a key, or
// expected): consecutive seqs from 1, each prev_hash equal to the previous
// record's hash, each hash equal to its content; the Merkle root at each of
// the node's checkpoints equal to the checkpoint's; the last checkpoint
// covering the node's records and signed by the node's published key
// (records after it that follow the chain but that no checkpoint covers,
// after waiting `checkpoint_wait` for the node to sign one, are listed in
// unsigned_tails; records after it that do not follow are broken);
// remembered checkpoints extended. Detects modified, removed, added and
// reordered records and replayed or forged checkpoints. An error Status only
// when the storage cannot be read.
Result<VerifyReport> Verify(AuditStorage& storage, const VerifyOptions& options = {});

// Proofs over any node's tree (docs/api.md 6.1 /proof and /consistency), from
// the records in the store: each node's tree is built once and extended
// when a bigger one is asked for. Thread-safe.
class AuditTrees {
 public:
  explicit AuditTrees(AuditStorage& storage) : storage_(storage) {}

  struct Inclusion {
    uint64_t index = 0;
    uint64_t size = 0;
    Hash leaf{};
    std::vector<Hash> proof;
  };
  // An invalid-request error when the node's log has fewer than `size`
  // records or index >= size; not-found for a node without records.
  Result<Inclusion> InclusionProof(const std::string& node, uint64_t index, uint64_t size);
  Result<std::vector<Hash>> ConsistencyProof(const std::string& node, uint64_t from, uint64_t to);

  // What a node's person index says of one person at a tree size.
  struct PersonProof {
    uint64_t size = 0;
    Hash key{};  // PersonKey(the store's index key, niss)
    PersonValue value;
    PersonIndexProof proof;
    Hash root{};
  };
  // The entry of `niss` in `node`'s person index at exactly `size` records
  // (`size` a checkpoint's), with its proof. Nullopt when the index has
  // already moved past `size` (a later checkpoint was asked for meanwhile):
  // ask again with the latest checkpoint. Unavailable when the store has no
  // index key.
  Result<std::optional<PersonProof>> ProvePerson(const std::string& node, std::string_view niss,
                                                 uint64_t size);

 private:
  struct NodeTrees {
    MerkleTree tree;
    PersonIndex index;  // the same records as `tree`
  };
  Status LoadIndexKey();                                   // mu_ held
  Status Extend(const std::string& node, uint64_t size);  // mu_ held

  AuditStorage& storage_;
  std::mutex mu_;
  std::string index_key_;  // raw; read on first use
  std::map<std::string, NodeTrees> trees_;
};

}  // namespace carrefour::audit
