// SPDX-License-Identifier: EUPL-1.2
#include "audit/audit_log.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <fstream>
#include <future>
#include <sstream>
#include <set>

#include <pthread.h>

#include <fmt/format.h>

#include "core/bounded_text.h"
#include "core/crypto.h"
#include "core/timestamp.h"

namespace carrefour::audit {
namespace {

constexpr size_t kPage = 10000;

// Replaces `file` with `text` (a temporary file renamed over it: never
// half-written). Best effort: the store stays the record.
void WriteFileAtomically(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
}

// The person index root that `checkpoint`'s index note commits, read
// without checking its signature (`verifier`, when given, checks it):
// nullopt when it has none; an error when it is not a note of the node at
// the checkpoint's size.
Result<std::optional<Hash>> CommittedIndex(const Checkpoint& checkpoint, const NoteVerifier* verifier = nullptr) {
  if (checkpoint.index_note.empty()) return std::optional<Hash>();
  std::string text;
  if (verifier != nullptr) {
    CARREFOUR_ASSIGN_OR_RETURN(text, verifier->Open(checkpoint.index_note));
  } else {
    const size_t end = checkpoint.index_note.find("\n\n");
    if (end == std::string::npos) return Error(InvalidRequest("the person index note is not a signed note"));
    text = checkpoint.index_note.substr(0, end + 1);
  }
  CARREFOUR_ASSIGN_OR_RETURN(CheckpointBody body, ParseCheckpointText(text));
  if (body.origin != PersonIndexOrigin(checkpoint.node) || body.size != static_cast<uint64_t>(checkpoint.seq)) {
    return Error(InvalidRequest("the person index note is not the node's at the checkpoint's size"));
  }
  return std::optional<Hash>(body.root);
}

// The raw bytes of a person index key as stored (64 hex digits).
Result<std::string> KeyBytes(std::string_view hex) {
  if (hex.empty()) return std::string();
  std::optional<Hash> key = HashFromHex(hex);
  if (!key) return Error(Internal("the store's person index key is not 64 hex digits"));
  return std::string(reinterpret_cast<const char*>(key->data()), key->size());
}

}  // namespace

std::filesystem::path CheckpointFile(const std::filesystem::path& data_dir, std::string_view node) {
  return data_dir / fmt::format("audit-{}.checkpoint", node);
}

std::vector<std::string> KeptCheckpoints(const std::filesystem::path& data_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("audit-") || !name.ends_with(".checkpoint")) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

Checkpoint SignCheckpoint(const NoteSigner& signer, std::string_view node, std::string hash,
                          const CompactRange& tree, int64_t time_us, PersonIndex* index) {
  Checkpoint checkpoint;
  checkpoint.node = std::string(node);
  checkpoint.seq = static_cast<int64_t>(tree.size());
  checkpoint.hash = std::move(hash);
  Hash root = tree.Root();
  checkpoint.root = ToHex(root);
  checkpoint.note = signer.Sign(CheckpointText({CheckpointOrigin(node), tree.size(), root}));
  if (index != nullptr) checkpoint.index_note = signer.Sign(PersonIndexText(node, tree.size(), index->Root()));
  checkpoint.time_us = time_us;
  return checkpoint;
}

Result<std::string> LoadPersonIndexKey(AuditStorage& storage) {
  uint8_t bytes[32];
  if (!crypto::RandomBytes(bytes)) return Error(Internal("no randomness for the person index key"));
  std::string candidate;
  for (uint8_t byte : bytes) candidate += fmt::format("{:02x}", byte);
  CARREFOUR_ASSIGN_OR_RETURN(std::string stored, storage.PersonIndexKey(candidate));
  return KeyBytes(stored);
}

namespace {

// The node's signer: the one given, or a fresh one; its key must be the one
// the store already knows for the node, as a second key would make its
// earlier checkpoints unverifiable.
Result<std::shared_ptr<const NoteSigner>> NodeSigner(AuditStorage& storage, const AuditLog::Options& options) {
  const std::string origin = CheckpointOrigin(options.node);
  std::shared_ptr<const NoteSigner> signer = options.signer;
  if (!signer) {
    CARREFOUR_ASSIGN_OR_RETURN(signer, NoteSigner::Generate(origin));
  }
  if (signer->name() != origin) {
    return Error(InvalidRequest(fmt::format("node {}'s checkpoints are signed by a key named {}, not {}",
                                            options.node, origin, signer->name())));
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<NodeKey> keys, storage.AuditKeys());
  for (const NodeKey& key : keys) {
    if (key.node == options.node && key.verifier_key != signer->verifier_key()) {
      return Error(InvalidRequest(fmt::format(
          "the store's audit log of node {} is signed by the key {}, and this process holds "
          "another ({}): restore the node's key file, or start under another node id",
          options.node, key.verifier_key, signer->verifier_key())));
    }
  }
  return signer;
}

// The checkpoint this node kept outside the store, if any: the store's log
// must extend it.
Result<std::optional<CheckpointBody>> KeptCheckpoint(const AuditLog::Options& options, const NoteSigner& signer) {
  if (options.checkpoint_file.empty()) return std::optional<CheckpointBody>();
  std::ifstream in(options.checkpoint_file);
  if (!in) return std::optional<CheckpointBody>();
  std::stringstream text;
  text << in.rdbuf();
  Result<NoteVerifier> verifier = NoteVerifier::Parse(signer.verifier_key());
  if (!verifier) return Error(verifier.error());
  Result<std::string> opened = verifier->Open(text.str());
  Result<CheckpointBody> body =
      opened ? ParseCheckpointText(*opened) : Result<CheckpointBody>(Error(opened.error()));
  if (!body || body->origin != CheckpointOrigin(options.node)) {
    return Error(Internal(fmt::format("{} is not a checkpoint of node {} signed by its key",
                                      options.checkpoint_file.string(), options.node)));
  }
  return std::optional<CheckpointBody>(*body);
}

// The node's tree and person index, rebuilt from its records in order.
struct Rebuilt {
  CompactRange tree;
  PersonIndex index;
  std::string head_hash = GenesisHash();
  // The last checkpoint predates the person index (it is still to be
  // committed).
  bool index_to_commit = false;
};

Result<bool> MatchLastCheckpoint(const Checkpoint& last, Rebuilt& rebuilt, const NoteSigner& signer,
                                 const std::string& node);

// Rebuilds the node's tree and index, checking on the way the checkpoint
// kept in the data folder and the store's last one (`last`) at their sizes:
// the records may go on past the last (the process stopped between two
// signed checkpoints).
Result<Rebuilt> RebuildNode(AuditStorage& storage, const AuditLog::Options& options,
                            const std::optional<CheckpointBody>& kept, const std::optional<Checkpoint>& last,
                            const NoteSigner& signer) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string index_key, LoadPersonIndexKey(storage));
  Rebuilt rebuilt{{}, PersonIndex(std::move(index_key))};
  auto check_kept = [&]() -> Status {
    if (kept && kept->size == rebuilt.tree.size() && kept->root != rebuilt.tree.Root()) {
      return Internal(fmt::format(
          "the store's audit log of node {} differs from the checkpoint kept in {} (records "
          "changed, or the log was rolled back and rewritten): run carrefour audit verify",
          options.node, options.checkpoint_file.string()));
    }
    if (last && last->seq == static_cast<int64_t>(rebuilt.tree.size())) {
      rebuilt.index.Commit();
      Result<bool> predates = MatchLastCheckpoint(*last, rebuilt, signer, options.node);
      if (!predates) return predates.error();
      rebuilt.index_to_commit = *predates;
    }
    return OkStatus();
  };
  CARREFOUR_RETURN_IF_ERROR(check_kept());
  for (int64_t next = 1;;) {
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<Record> page, storage.ReadAudit(options.node, next, kPage));
    for (const Record& record : page) {
      if (record.seq != next) {
        return Error(Internal(fmt::format(
            "the audit log of node {} jumps from record {} to {}: run carrefour audit verify",
            options.node, next - 1, record.seq)));
      }
      const Hash leaf = LeafHash(record);
      rebuilt.index.Add(record, rebuilt.tree.size(), leaf);
      rebuilt.tree.Append(leaf);
      rebuilt.head_hash = record.hash;
      CARREFOUR_RETURN_IF_ERROR(check_kept());
      ++next;
    }
    if (page.size() < kPage) break;
  }
  if (kept && kept->size > rebuilt.tree.size()) {
    return Error(Internal(fmt::format(
        "the store's audit log of node {} has {} records, but the checkpoint kept in {} covers {}: "
        "records removed at the end (or an old copy of the store)",
        options.node, rebuilt.tree.size(), options.checkpoint_file.string(), kept->size)));
  }
  return rebuilt;
}

// The node's last checkpoint in the store, if any.
Result<std::optional<Checkpoint>> LastCheckpoint(AuditStorage& storage, const std::string& node) {
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> latest, storage.AuditCheckpoints());
  std::optional<Checkpoint> last;
  for (Checkpoint& checkpoint : latest) {
    if (checkpoint.node == node) last = std::move(checkpoint);
  }
  return last;
}

// Checks that `last`, a checkpoint at the size rebuilt so far, matches what
// was rebuilt. True when it predates the person index (the index is still to
// be committed).
Result<bool> MatchLastCheckpoint(const Checkpoint& last, Rebuilt& rebuilt, const NoteSigner& signer,
                                 const std::string& node) {
  if (last.root != ToHex(rebuilt.tree.Root()) || last.hash != rebuilt.head_hash) {
    return Error(Internal(fmt::format(
        "the audit log of node {} does not match its last checkpoint (at {}: {}): run carrefour audit verify",
        node, last.seq, last.hash != rebuilt.head_hash ? "the chain ends elsewhere" : "another Merkle root")));
  }
  Result<NoteVerifier> verifier = NoteVerifier::Parse(signer.verifier_key());
  if (!verifier) return Error(verifier.error());
  Result<std::optional<Hash>> committed = CommittedIndex(last, &*verifier);
  if (!committed) {
    return Error(Internal(fmt::format("the last person index note of node {} cannot be read ({}): run "
                                      "carrefour audit verify",
                                      node, committed.error().message())));
  }
  if (!*committed) return true;
  if (**committed != rebuilt.index.Root()) {
    return Error(Internal(fmt::format(
        "the audit log of node {} does not match the person index its last checkpoint commits: run "
        "carrefour audit verify",
        node)));
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditStorage& storage, Options options,
                                                 const Clock& clock) {
  if (Status valid = CheckNodeId(options.node); !valid.ok()) return Error(std::move(valid));
  CARREFOUR_ASSIGN_OR_RETURN(std::shared_ptr<const NoteSigner> signer, NodeSigner(storage, options));
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<CheckpointBody> kept, KeptCheckpoint(options, *signer));
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<Checkpoint> last, LastCheckpoint(storage, options.node));
  CARREFOUR_ASSIGN_OR_RETURN(Rebuilt rebuilt, RebuildNode(storage, options, kept, last, *signer));
  if (last && last->seq > static_cast<int64_t>(rebuilt.tree.size())) {
    return Error(Internal(fmt::format(
        "the audit log of node {} ends at record {} but its checkpoint covers {}: records removed "
        "at the end? (run carrefour audit verify)",
        options.node, rebuilt.tree.size(), last->seq)));
  }
  rebuilt.index.Commit();
  Checkpoint head;
  bool commit_index = false;  // the last checkpoint predates the person index
  if (last && last->seq == static_cast<int64_t>(rebuilt.tree.size())) {
    commit_index = rebuilt.index_to_commit;
    head = std::move(*last);
  } else {
    // First start of this node, a store from before signed checkpoints, or
    // records written after the last checkpoint by a process that stopped
    // before signing the next (checked up to it above): sign what is there.
    head = SignCheckpoint(*signer, options.node, rebuilt.head_hash, rebuilt.tree, NowMicros(clock),
                          &rebuilt.index);
    CARREFOUR_RETURN_IF_ERROR(storage.AppendAudit({}, head));
  }
  CARREFOUR_ASSIGN_OR_RETURN(NodeKey published,
                             storage.PublishAuditKey({options.node, signer->verifier_key(), NowMicros(clock)}));
  if (published.verifier_key != signer->verifier_key()) {
    return Error(InvalidRequest(fmt::format(
        "another process published a different key for node {}: one process per node id",
        options.node)));
  }
  std::unique_ptr<AuditLog> log(new AuditLog(storage, std::move(options), clock, std::move(signer),
                                             std::move(head), std::move(rebuilt.tree),
                                             std::move(rebuilt.index)));
  if (commit_index) {
    // A store from before the person index: a record now, so that the
    // latest checkpoint commits the index over every earlier record.
    Record record;
    record.kind = Kind::kAdmin;
    record.request_id = NewRequestId();
    record.reason = "person index committed (docs/transparency.md, Completeness)";
    CARREFOUR_RETURN_IF_ERROR(log->AppendAndWait(std::move(record)));
  }
  return log;
}

AuditLog::AuditLog(AuditStorage& storage, Options options, const Clock& clock,
                   std::shared_ptr<const NoteSigner> signer, Checkpoint head, CompactRange tree,
                   PersonIndex index)
    : storage_(storage),
      options_(std::move(options)),
      clock_(clock),
      signer_(std::move(signer)),
      head_(std::move(head)),
      chain_seq_(head_.seq),
      chain_hash_(head_.hash),
      signed_at_(std::chrono::steady_clock::now()),
      tree_(std::move(tree)),
      index_(std::move(index)) {
  KeepCheckpoint(head_);
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  kept_at_ = {};
  KeepCheckpoint(head_);
}

void AuditLog::KeepCheckpoint(const Checkpoint& checkpoint) {
  if (options_.checkpoint_file.empty() || checkpoint.note.empty() || checkpoint.seq == kept_seq_) return;
  auto now = std::chrono::steady_clock::now();
  if (kept_seq_ >= 0 && now - kept_at_ < std::chrono::seconds(1)) return;
  WriteFileAtomically(options_.checkpoint_file, checkpoint.note);
  kept_at_ = now;
  kept_seq_ = checkpoint.seq;
}

void AuditLog::Append(Record record, Done done) { Queue(std::move(record), std::move(done), false); }

void AuditLog::Queue(Record record, Done done, bool on_writer) {
  // Records are kept forever and their reasons quote what callers sent:
  // bounded here, once for every writer, and made UTF-8 (PostgreSQL refuses
  // text that is not, and the record would never be written).
  if (record.reason.size() > kMaxMessageBytes || !IsValidUtf8(record.reason)) {
    record.reason = BoundedText(record.reason);
  }
  if (record.detail.size() > kMaxMessageBytes || !IsValidUtf8(record.detail)) {
    record.detail = BoundedText(record.detail);
  }
  if (record.time_us == 0) record.time_us = NowMicros(clock_);
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(record), std::move(done), on_writer});
  }
  wake_.notify_one();
}

Status AuditLog::AppendAndWait(Record record) {
  std::promise<Status> written;
  std::future<Status> result = written.get_future();
  Queue(std::move(record), [&written](const Status& status) { written.set_value(status); },
        /*on_writer=*/true);
  return result.get();
}

size_t AuditLog::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

int64_t AuditLog::last_seq() const {
  std::lock_guard lock(mu_);
  return chain_seq_;
}

metrics::Histogram AuditLog::commit_durations() const {
  std::lock_guard lock(mu_);
  return commit_seconds_;
}

uint64_t AuditLog::commits() const {
  std::lock_guard lock(mu_);
  return commit_seconds_.count();
}

bool AuditLog::failing() const {
  std::lock_guard lock(mu_);
  return failing_;
}

std::string AuditLog::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Checkpoint AuditLog::checkpoint() const {
  std::lock_guard lock(mu_);
  return head_;
}

Status AuditLog::Integrate() {
  if (!options_.verifiable) return OkStatus();
  std::unique_lock lock(mu_);
  const int64_t target = chain_seq_;
  if (head_.seq >= target) return OkStatus();
  integrate_ = true;
  wake_.notify_one();
  // The writer signs at once when idle, or with the batch it is writing;
  // the bound only keeps a caller from waiting forever on a failing store.
  integrated_.wait_for(lock, std::chrono::seconds(10), [&] { return head_.seq >= target || stopping_; });
  if (head_.seq >= target) return OkStatus();
  return Unavailable(fmt::format("the audit log of node {} could not sign a checkpoint{}", options_.node,
                                 last_error_.empty() ? "" : ": " + last_error_));
}

bool AuditLog::SignsNow(bool idle) const {
  return options_.verifiable &&
         (idle || stopping_ || integrate_ ||
          std::chrono::steady_clock::now() - signed_at_ >= options_.checkpoint_interval);
}

void AuditLog::Advance(const Checkpoint& next) {
  chain_seq_ = next.seq;
  chain_hash_ = next.hash;
  if (!next.note.empty()) {
    head_ = next;
    signed_at_ = std::chrono::steady_clock::now();
    integrate_ = false;
    integrated_.notify_all();
  }
}

Status AuditLog::Resync() {
  int64_t seq;
  std::string hash;
  int64_t signed_seq;
  {
    std::lock_guard lock(mu_);
    seq = chain_seq_;
    hash = chain_hash_;
    signed_seq = head_.seq;
  }
  // The node's latest checkpoint in the store: a lost commit's, when it
  // signed one.
  std::optional<Checkpoint> latest;
  if (options_.verifiable) {
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints, storage_.AuditCheckpoints());
    for (Checkpoint& checkpoint : checkpoints) {
      if (checkpoint.node == options_.node && checkpoint.seq > signed_seq) latest = std::move(checkpoint);
    }
  }
  // The lost commit's records (if it went through) follow the chain's end.
  CompactRange tree = tree_;
  auto fail = [this](Status status) {
    index_.Rollback();
    return status;
  };
  for (;;) {
    Result<std::vector<Record>> page = storage_.ReadAudit(options_.node, seq + 1, kPage);
    if (!page) return fail(page.error());
    for (const Record& record : *page) {
      if (record.seq != seq + 1 || record.prev_hash != hash) {
        return fail(Internal(fmt::format("the audit log of node {} does not go on from record {} at {}",
                                         options_.node, seq, record.seq)));
      }
      seq = record.seq;
      hash = record.hash;
      if (!options_.verifiable) continue;
      const Hash leaf = LeafHash(record);
      index_.Add(record, tree.size(), leaf);
      tree.Append(leaf);
      if (latest && latest->seq == seq && (ToHex(tree.Root()) != latest->root || latest->hash != hash)) {
        return fail(Internal(
            fmt::format("the audit log of node {} does not match its checkpoint at {}", options_.node, seq)));
      }
    }
    if (page->size() < kPage) break;
  }
  if (latest && latest->seq > seq) {
    return fail(Internal(fmt::format("the audit log of node {} ends at record {} but its checkpoint covers {}",
                                     options_.node, seq, latest->seq)));
  }
  index_.Commit();
  tree_ = std::move(tree);
  std::lock_guard lock(mu_);
  if (latest) Advance(*latest);  // moves the chain's end to the checkpoint's...
  chain_seq_ = seq;              // ...and the records may go on past it
  chain_hash_ = std::move(hash);
  return OkStatus();
}

Checkpoint AuditLog::ChainOnto(int64_t seq, std::string hash, CompactRange& tree, PersonIndex& index,
                               std::span<Record> records, bool sign) const {
  for (Record& record : records) {
    record.node = options_.node;
    record.seq = ++seq;
    record.prev_hash = std::move(hash);
    if (options_.verifiable) {
      const RecordHashes hashes = HashesOf(record);
      record.hash = hashes.chain;
      index.Add(record, tree.size(), hashes.leaf);
      tree.Append(hashes.leaf);
    } else {
      record.hash = ChainHash(record);
    }
    hash = record.hash;
  }
  if (!sign) {
    Checkpoint unsigned_head;
    unsigned_head.node = options_.node;
    unsigned_head.seq = seq;
    unsigned_head.hash = std::move(hash);
    unsigned_head.time_us = NowMicros(clock_);
    return unsigned_head;
  }
  return SignCheckpoint(*signer_, options_.node, std::move(hash), tree, NowMicros(clock_), &index);
}

Status AuditLog::AppendWith(const std::function<Status(const Chain& chain)>& write, bool busy) {
  std::unique_lock chain_lock(chain_mu_);
  int64_t seq;
  std::string hash;
  bool sign;
  std::vector<Pending> riders;
  {
    std::lock_guard lock(mu_);
    seq = chain_seq_;
    hash = chain_hash_;
    const size_t take = std::min(queue_.size(), options_.max_batch);
    for (size_t i = 0; i < take; ++i) {
      riders.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    sign = SignsNow(!busy && riders.empty() && chain_seq_ == head_.seq);
  }
  std::optional<Checkpoint> last;
  CompactRange tree;
  const int64_t now_us = NowMicros(clock_);
  const auto started = std::chrono::steady_clock::now();
  Status status = write([&](std::vector<Record>& records) {
    for (Record& record : records) {
      if (record.time_us == 0) record.time_us = now_us;
      if (record.reason.size() > kMaxMessageBytes || !IsValidUtf8(record.reason)) {
        record.reason = BoundedText(record.reason);
      }
      if (record.detail.size() > kMaxMessageBytes || !IsValidUtf8(record.detail)) {
        record.detail = BoundedText(record.detail);
      }
    }
    for (const Pending& rider : riders) records.push_back(rider.record);
    tree = tree_;  // each call from the same head
    index_.Rollback();
    last = ChainOnto(seq, hash, tree, index_, records, sign);
    return *last;
  });
  bool written = status.ok() && last;
  if (written) {
    index_.Commit();
    tree_ = std::move(tree);
    KeepCheckpoint(*last);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    bool first_unsigned = false;
    {
      std::lock_guard lock(mu_);
      first_unsigned = !sign && chain_seq_ == head_.seq;
      Advance(*last);
      commit_seconds_.Observe(took.count());
    }
    // Left unsigned: the writer thread signs them when the interval ends.
    // Woken by the first such commit only: it then waits for that end, and
    // waking it at every commit of a trickle (thousands a second) only
    // cost two context switches each.
    if (first_unsigned) wake_.notify_one();
  } else {
    index_.Rollback();
  }
  if (!written && !status.ok()) {
    // An in-doubt commit may have gone through after all: the head as
    // stored, for the next write; the riders were written if it moved past
    // them.
    if (Resync().ok() && last) {
      std::lock_guard lock(mu_);
      written = chain_seq_ == last->seq && chain_hash_ == last->hash;
    }
  }
  chain_lock.unlock();
  if (!written && !riders.empty()) {
    // Not written: the writer tries them again, in their order.
    {
      std::lock_guard lock(mu_);
      for (auto it = riders.rbegin(); it != riders.rend(); ++it) queue_.push_front(std::move(*it));
    }
    wake_.notify_one();
    return status;
  }
  for (Pending& rider : riders) {
    if (rider.done) rider.done(OkStatus());
  }
  return status;
}

void AuditLog::WriterLoop() {
  // Named for top -H and perf: its CPU is what the log costs the process.
  pthread_setname_np(pthread_self(), "audit-writer");
  std::vector<Pending> batch;
  std::vector<Record> records;
  bool resync = false;  // the last write failed: re-read the head first
  bool busy = false;    // records came while the last commit was written
  for (;;) {
    if (resync) {
      std::unique_lock chain_lock(chain_mu_);
      Status reread = Resync();
      if (reread.ok()) {
        resync = false;
      } else {
        std::lock_guard lock(mu_);
        last_error_ = reread.message();
      }
    }
    bool sign = false;
    if (!TakeBatch(busy, batch, sign)) return;
    if (batch.empty() && !sign) continue;
    Status status = WriteBatch(batch, records, sign, busy);
    if (!status.ok()) resync = true;
    Deliver(batch, status);
  }
}

void AuditLog::Deliver(std::vector<Pending>& batch, const Status& status) {
  std::vector<Done> later;
  for (Pending& pending : batch) {
    if (!pending.done) continue;
    if (!options_.deliver || pending.on_writer) {
      pending.done(status);
    } else {
      later.push_back(std::move(pending.done));
    }
  }
  if (later.empty()) return;
  options_.deliver([later = std::move(later), status]() {
    for (const Done& done : later) done(status);
  });
}

bool AuditLog::TakeBatch(bool busy, std::vector<Pending>& batch, bool& sign) {
  batch.clear();
  sign = false;
  std::unique_lock lock(mu_);
  // Records written but not signed yet: a checkpoint is due when the
  // interval ends, or at once when a reader asks.
  auto unsigned_records = [this] { return options_.verifiable && chain_seq_ > head_.seq; };
  auto work = [&] { return stopping_ || !queue_.empty() || (integrate_ && unsigned_records()); };
  // Idle with everything signed: the next batch is a trickle's (nothing
  // came while the last commit was written), signed with its commit.
  // Records that come while a commit is written (a continuous load) are
  // signed once per interval, one interval after the load stops, or
  // when a reader asks.
  const bool idle = (queue_.empty() || !busy) && !unsigned_records();
  if (failing_) {
    // While failing and idle, a record saying that the log is written
    // again is tried every second: the log recovers (and readiness with
    // it) without waiting for traffic that a load balancer has sent
    // elsewhere.
    wake_.wait_for(lock, std::chrono::seconds(1), work);
    if (queue_.empty() && !stopping_) {
      Record probe;
      probe.kind = Kind::kAdmin;
      probe.request_id = NewRequestId();
      probe.reason = "the audit log is written again after a failure";
      probe.detail = last_error_;
      probe.time_us = NowMicros(clock_);
      queue_.push_back(Pending{std::move(probe), nullptr});
    }
  } else if (unsigned_records()) {
    wake_.wait_until(lock, signed_at_ + options_.checkpoint_interval, work);
  } else {
    wake_.wait(lock, [&] { return work() || unsigned_records(); });
    // Records that AppendWith left unsigned: the next call waits for the
    // end of the interval (an empty batch would sign at once).
    if (!work()) return true;
  }
  if (queue_.empty() && (!unsigned_records() || (stopping_ && failing_))) {
    // Everything is written (and signed, unless the store fails).
    return !stopping_;
  }
  size_t take = std::min(queue_.size(), options_.max_batch);
  for (size_t i = 0; i < take; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // An empty batch only signs (the interval ended, a reader asked, or the
  // log stops).
  sign = batch.empty() || SignsNow(idle);
  return true;
}

Status AuditLog::WriteBatch(std::vector<Pending>& batch, std::vector<Record>& records, bool sign,
                            bool& busy) {
  // Chain the batch onto the chain's end and extend the tree. Nothing is
  // published until the transaction commits: on failure the head and the
  // tree stay where they were and the next batch reuses the same seqs.
  std::unique_lock chain_lock(chain_mu_);
  int64_t seq;
  std::string hash;
  {
    std::lock_guard lock(mu_);
    seq = chain_seq_;
    hash = chain_hash_;
  }
  records.clear();
  for (Pending& pending : batch) records.push_back(std::move(pending.record));
  CompactRange tree = tree_;
  Checkpoint next = ChainOnto(seq, std::move(hash), tree, index_, records, sign);

  const auto started = std::chrono::steady_clock::now();
  Status status = storage_.AppendAudit(records, next);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  if (status.ok()) {
    index_.Commit();
    tree_ = std::move(tree);
    KeepCheckpoint(next);
  } else {
    index_.Rollback();
  }
  std::lock_guard lock(mu_);
  if (status.ok()) {
    Advance(next);
    commit_seconds_.Observe(took.count());
    failing_ = false;
    busy = !queue_.empty();
  } else {
    failing_ = true;
    last_error_ = status.message();
  }
  return status;
}

namespace {

// One node's log, checked; sets report->verdict and first_bad on the first
// fault. Run's steps share what they learn through the members below; each
// Broken() return stops the check.
class NodeCheck {
 public:
  NodeCheck(AuditStorage& storage, VerifyReport& report, std::string node,
            std::chrono::milliseconds checkpoint_wait)
      : storage_(storage), report_(report), node_(std::move(node)), checkpoint_wait_(checkpoint_wait) {}

  // False when broken (report filled in) ; an error when the store fails.
  Result<bool> Run(const std::optional<NodeKey>& key, bool expected,
                   const std::vector<Checkpoint>& legacy, const std::vector<std::string>& remembered);

 private:
  // The values the walk must meet: roots from the checkpoints and the
  // remembered notes, person index roots, the store's person index key.
  Result<bool> LoadExpectations(const std::optional<NodeKey>& key,
                                const std::vector<std::string>& remembered);
  void ExpectRemembered(const std::vector<std::string>& remembered);
  // False when the tree or the person index at its current size misses a
  // root expected there.
  bool CheckRoots();
  // Walks the records up to the last checkpoint read, checking the chain.
  Result<bool> WalkChain();
  // Records past the last checkpoint read must be covered by a checkpoint
  // signed since (waited for), or follow the chain: then they are reported
  // not verifiable.
  Result<bool> CheckBeyondCovered();
  // A node with no checkpoint: nothing, or records from before signed
  // checkpoints.
  bool CheckWithoutCheckpoint(const std::optional<NodeKey>& key, bool expected,
                              const std::vector<Checkpoint>& legacy);
  // The chain ends where its last checkpoint (and every remembered one) says.
  bool CheckEnd(const Checkpoint& last);
  // The last checkpoint's signed notes are its node's.
  bool CheckLastSignature(const Checkpoint& last, const std::optional<NodeKey>& key);
  bool Whole() {
    report_.records += chain_.records;
    report_.chains.push_back(std::move(chain_));
    return true;
  }

  bool Broken(std::string why) {
    report_.ok = false;
    report_.verdict = Verdict::kBroken;
    report_.first_bad = std::move(why);
    return false;
  }
  void NotVerified(std::string why) {
    report_.not_verified.push_back(fmt::format("node {}: {}", node_, why));
    if (report_.verdict == Verdict::kIntact) {
      report_.ok = false;
      report_.verdict = Verdict::kNotVerifiable;
    }
  }

  AuditStorage& storage_;
  VerifyReport& report_;
  const std::string node_;
  const std::chrono::milliseconds checkpoint_wait_;

  std::vector<Checkpoint> history_;
  std::optional<NoteVerifier> verifier_;
  // Sizes at which the tree's root must be a known value: every checkpoint,
  // and every remembered one that this node's key signed.
  std::multimap<int64_t, std::pair<std::string, std::string>> expected_roots_;  // size -> root, what
  // Sizes at which the person index's root must be a known value: every
  // checkpoint that commits one (what it signs is checked at the end for the
  // last; the store's history is the node's own).
  std::map<int64_t, Hash> expected_index_;
  int64_t remembered_size_ = -1;

  ChainSummary chain_;
  CompactRange tree_;
  PersonIndex index_;
  // The walk stops at the last checkpoint read: records committed after it
  // (a live hub keeps writing) are checked apart, not taken for forgeries.
  int64_t covered_ = INT64_MAX;
  bool beyond_ = false;
};

Result<bool> NodeCheck::Run(const std::optional<NodeKey>& key, bool expected,
                            const std::vector<Checkpoint>& legacy,
                            const std::vector<std::string>& remembered) {
  CARREFOUR_ASSIGN_OR_RETURN(history_, storage_.AuditCheckpointHistory(node_));
  CARREFOUR_ASSIGN_OR_RETURN(bool loaded, LoadExpectations(key, remembered));
  if (!loaded) return false;
  CARREFOUR_ASSIGN_OR_RETURN(bool walked, WalkChain());
  if (!walked) return false;
  if (beyond_) {
    CARREFOUR_ASSIGN_OR_RETURN(bool covered, CheckBeyondCovered());
    if (!covered) return false;
  }
  if (history_.empty()) return CheckWithoutCheckpoint(key, expected, legacy);
  const Checkpoint& last = history_.back();
  if (!CheckEnd(last) || !CheckLastSignature(last, key)) return false;
  return Whole();
}

Result<bool> NodeCheck::LoadExpectations(const std::optional<NodeKey>& key,
                                         const std::vector<std::string>& remembered) {
  if (key) {
    Result<NoteVerifier> parsed = NoteVerifier::Parse(key->verifier_key);
    if (parsed) {
      verifier_ = std::move(*parsed);
    } else {
      NotVerified(fmt::format("its published key cannot be read ({})", parsed.error().message()));
    }
  }
  for (const Checkpoint& checkpoint : history_) {
    expected_roots_.emplace(checkpoint.seq,
                            std::pair(checkpoint.root, fmt::format("its checkpoint at {}", checkpoint.seq)));
  }
  for (const Checkpoint& checkpoint : history_) {
    Result<std::optional<Hash>> committed = CommittedIndex(checkpoint);
    if (!committed) {
      return Broken(fmt::format("node {}, record {}: its person index note is not one ({})", node_,
                                checkpoint.seq, committed.error().message()));
    }
    if (*committed) expected_index_[checkpoint.seq] = **committed;
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::string index_hex, storage_.PersonIndexKey(""));
  CARREFOUR_ASSIGN_OR_RETURN(std::string index_key, KeyBytes(index_hex));
  if (index_key.empty() && !expected_index_.empty()) {
    return Broken(fmt::format(
        "node {}: its checkpoints commit a person index, but the store holds no person index key", node_));
  }
  index_ = PersonIndex(std::move(index_key));
  ExpectRemembered(remembered);
  return true;
}

void NodeCheck::ExpectRemembered(const std::vector<std::string>& remembered) {
  for (const std::string& note : remembered) {
    if (!verifier_) break;
    Result<std::string> text = verifier_->Open(note);
    if (!text) continue;  // another node's
    Result<CheckpointBody> body = ParseCheckpointText(*text);
    if (!body || body->origin != CheckpointOrigin(node_)) continue;
    int64_t size = static_cast<int64_t>(body->size);
    expected_roots_.emplace(size, std::pair(ToHex(body->root),
                                            fmt::format("a checkpoint at {} seen before", size)));
    remembered_size_ = std::max(remembered_size_, size);
  }
}

bool NodeCheck::CheckRoots() {
  auto [begin, end] = expected_roots_.equal_range(static_cast<int64_t>(tree_.size()));
  if (begin == end) return true;
  std::string root = ToHex(tree_.Root());
  for (auto it = begin; it != end; ++it) {
    if (it->second.first != root) {
      return Broken(fmt::format(
          "node {}, record {}: the records 1..{} do not have the Merkle root of {} (a record "
          "changed, or the checkpoint forged)",
          node_, tree_.size(), tree_.size(), it->second.second));
    }
  }
  if (auto committed = expected_index_.find(static_cast<int64_t>(tree_.size()));
      committed != expected_index_.end() && committed->second != index_.Root()) {
    return Broken(fmt::format(
        "node {}, record {}: the person index of the records 1..{} does not have the root its "
        "checkpoint at {} commits (a record left out of it, or the checkpoint forged)",
        node_, tree_.size(), tree_.size(), tree_.size()));
  }
  return true;
}

Result<bool> NodeCheck::WalkChain() {
  chain_ = ChainSummary{node_, 0, GenesisHash(), {}};
  if (!CheckRoots()) return false;
  int64_t expected_seq = 1;
  std::string prev = GenesisHash();
  covered_ = history_.empty() ? INT64_MAX : history_.back().seq;
  while (!beyond_) {
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<Record> page, storage_.ReadAudit(node_, expected_seq, kPage));
    for (const Record& record : page) {
      if (record.seq > covered_) {
        beyond_ = true;
        break;
      }
      if (record.seq != expected_seq) {
        return Broken(fmt::format(
            "node {}, record {}: missing (the chain jumps from {} to {}: removed records?)", node_,
            expected_seq, expected_seq - 1, record.seq));
      }
      if (record.prev_hash != prev) {
        return Broken(fmt::format(
            "node {}, record {}: does not follow the previous record (reordered, or the previous "
            "one was changed)",
            node_, record.seq));
      }
      const RecordHashes hashes = HashesOf(record);
      if (hashes.chain != record.hash) {
        return Broken(fmt::format("node {}, record {}: its hash does not match its content (modified)",
                                  node_, record.seq));
      }
      prev = record.hash;
      const Hash& leaf = hashes.leaf;
      index_.Add(record, tree_.size(), leaf);
      index_.Commit();
      tree_.Append(leaf);
      if (!CheckRoots()) return false;
      ++expected_seq;
      ++chain_.records;
    }
    if (page.size() < kPage) break;
  }
  chain_.head = prev;
  chain_.root = ToHex(tree_.Root());
  return true;
}

Result<bool> NodeCheck::CheckBeyondCovered() {
  // Records committed since the checkpoints were read: a running node signs
  // a checkpoint over them within its interval (at most a second; at once
  // when idle). Records added behind the log's back are never covered.
  const auto deadline = std::chrono::steady_clock::now() + checkpoint_wait_;
  for (;;) {
    CARREFOUR_ASSIGN_OR_RETURN(std::optional<Checkpoint> now, LastCheckpoint(storage_, node_));
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<Record> next, storage_.ReadAudit(node_, covered_ + 1, 1));
    if (next.empty() || (now && now->seq >= next.front().seq)) return true;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Never covered: they must at least follow the chain; then the chain is
  // intact, and they are named as not signed yet.
  std::string prev = chain_.head;
  int64_t seq = covered_;
  for (;;) {
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<Record> page, storage_.ReadAudit(node_, seq + 1, kPage));
    for (const Record& record : page) {
      if (record.seq != seq + 1 || record.prev_hash != prev || ChainHash(record) != record.hash) {
        return Broken(fmt::format(
            "node {}, record {}: not covered by any checkpoint, and does not follow the previous record "
            "(added behind the log's back?)",
            node_, seq + 1));
      }
      prev = record.hash;
      seq = record.seq;
    }
    if (page.size() < kPage) break;
  }
  report_.unsigned_tails.push_back(fmt::format(
      "node {}: records {}..{} follow its last checkpoint (at {}) but no signed checkpoint covers them yet "
      "(the node stopped between two checkpoints: it signs them when it next starts; until then they "
      "cannot be told from records added behind the log's back)",
      node_, covered_ + 1, seq, covered_));
  return true;
}

bool NodeCheck::CheckWithoutCheckpoint(const std::optional<NodeKey>& key, bool expected,
                                       const std::vector<Checkpoint>& legacy) {
  if (chain_.records == 0) {
    if (key) {
      return Broken(fmt::format(
          "node {}: its key is published but it has no checkpoint (its log removed?)", node_));
    }
    if (expected) {
      return Broken(fmt::format("node {}: expected, but the store holds no log of it", node_));
    }
    return true;
  }
  for (const Checkpoint& old : legacy) {
    if (old.node == node_ && old.seq == chain_.records && old.hash == chain_.head) {
      NotVerified(fmt::format(
          "{} records from before signed checkpoints, not signed yet (the node signs them when "
          "it next starts)",
          chain_.records));
      return Whole();
    }
  }
  return Broken(fmt::format("node {}, record 1: not covered by any checkpoint (forged?)", node_));
}

bool NodeCheck::CheckEnd(const Checkpoint& last) {
  if (chain_.records > last.seq) {
    return Broken(fmt::format(
        "node {}, record {}: not covered by any checkpoint (added behind the log's back?)", node_,
        last.seq + 1));
  }
  if (chain_.records < last.seq) {
    return Broken(fmt::format(
        "node {}, record {}: the log ends at record {} but its checkpoint covers {} (records "
        "removed at the end?)",
        node_, chain_.records + 1, chain_.records, last.seq));
  }
  if (last.hash != chain_.head) {
    return Broken(fmt::format("node {}, record {}: the chain does not end where its checkpoint says",
                              node_, chain_.records));
  }
  if (remembered_size_ > chain_.records) {
    return Broken(fmt::format(
        "node {}, record {}: the log ends at record {} but a checkpoint seen before covers {} "
        "(records and checkpoints removed at the end, an old state replayed?)",
        node_, chain_.records + 1, chain_.records, remembered_size_));
  }
  return true;
}

bool NodeCheck::CheckLastSignature(const Checkpoint& last, const std::optional<NodeKey>& key) {
  if (!key) {
    NotVerified("no published key: its checkpoints' signatures cannot be checked");
    return true;
  }
  if (!verifier_) return true;  // reported by LoadExpectations
  Result<std::string> text = verifier_->Open(last.note);
  if (!text) {
    return Broken(fmt::format("node {}, record {}: its last checkpoint's signature is wrong ({})",
                              node_, last.seq, text.error().message()));
  }
  Result<CheckpointBody> body = ParseCheckpointText(*text);
  if (!body || body->origin != CheckpointOrigin(node_) ||
      body->size != static_cast<uint64_t>(last.seq) || ToHex(body->root) != last.root) {
    return Broken(fmt::format(
        "node {}, record {}: its last checkpoint's signed text does not match it", node_, last.seq));
  }
  if (Result<std::optional<Hash>> committed = CommittedIndex(last, &*verifier_); !committed) {
    return Broken(fmt::format("node {}, record {}: its last person index note's signature is wrong ({})",
                              node_, last.seq, committed.error().message()));
  }
  return true;
}
}  // namespace

Result<VerifyReport> Verify(AuditStorage& storage, const VerifyOptions& options) {
  VerifyReport report;
  std::set<std::string> nodes(options.expected_nodes.begin(), options.expected_nodes.end());
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<std::string> with_records, storage.AuditNodes());
  nodes.insert(with_records.begin(), with_records.end());
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> latest, storage.AuditCheckpoints());
  for (const Checkpoint& checkpoint : latest) nodes.insert(checkpoint.node);
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> legacy, storage.LegacyAuditCheckpoints());
  for (const Checkpoint& checkpoint : legacy) nodes.insert(checkpoint.node);
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<NodeKey> keys, storage.AuditKeys());
  std::map<std::string, NodeKey> key_of;
  for (NodeKey& key : keys) {
    nodes.insert(key.node);
    key_of.emplace(key.node, std::move(key));
  }
  for (const std::string& node : nodes) {
    std::optional<NodeKey> key;
    if (auto it = key_of.find(node); it != key_of.end()) key = it->second;
    bool expected = std::find(options.expected_nodes.begin(), options.expected_nodes.end(), node) !=
                    options.expected_nodes.end();
    NodeCheck check(storage, report, node, options.checkpoint_wait);
    CARREFOUR_ASSIGN_OR_RETURN(bool whole, check.Run(key, expected, legacy, options.remembered));
    if (!whole) return report;
  }
  return report;
}

Status AuditTrees::LoadIndexKey() {
  if (!index_key_.empty()) return OkStatus();
  CARREFOUR_ASSIGN_OR_RETURN(std::string hex, storage_.PersonIndexKey(""));
  CARREFOUR_ASSIGN_OR_RETURN(index_key_, KeyBytes(hex));
  return OkStatus();
}

Status AuditTrees::Extend(const std::string& node, uint64_t size) {
  CARREFOUR_RETURN_IF_ERROR(LoadIndexKey());
  NodeTrees& trees = trees_[node];
  if (trees.index.index_key() != index_key_) {
    // New, or built before the store had a key: (re)built with it.
    trees = NodeTrees{};
    trees.index = PersonIndex(index_key_);
  }
  MerkleTree& tree = trees.tree;
  // Exactly up to `size`: the records past a checkpoint (not signed yet)
  // stay out, or the index could no longer prove at that checkpoint.
  while (tree.size() < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kPage, size - tree.size()));
    CARREFOUR_ASSIGN_OR_RETURN(
        std::vector<Record> page,
        storage_.ReadAudit(node, static_cast<int64_t>(tree.size()) + 1, want));
    if (page.size() > want) page.resize(want);
    for (const Record& record : page) {
      if (record.seq != static_cast<int64_t>(tree.size()) + 1) {
        return Internal(fmt::format("the audit log of node {} jumps from record {} to {}", node,
                                    tree.size(), record.seq));
      }
      const Hash leaf = LeafHash(record);
      trees.index.Add(record, tree.size(), leaf);
      trees.index.Commit();
      tree.Append(leaf);
    }
    if (page.size() < want) break;
  }
  if (tree.size() == 0) return NotFound(fmt::format("no audit records of node {}", node));
  if (tree.size() < size) {
    return InvalidRequest(
        fmt::format("the audit log of node {} has {} records, not {}", node, tree.size(), size));
  }
  return OkStatus();
}

Result<AuditTrees::Inclusion> AuditTrees::InclusionProof(const std::string& node, uint64_t index,
                                                         uint64_t size) {
  std::lock_guard lock(mu_);
  CARREFOUR_RETURN_IF_ERROR(Extend(node, size));
  const MerkleTree& tree = trees_[node].tree;
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Hash> proof, tree.InclusionProof(index, size));
  return Inclusion{index, size, tree.Leaf(index), std::move(proof)};
}

Result<std::vector<Hash>> AuditTrees::ConsistencyProof(const std::string& node, uint64_t from,
                                                       uint64_t to) {
  std::lock_guard lock(mu_);
  CARREFOUR_RETURN_IF_ERROR(Extend(node, to));
  return trees_[node].tree.ConsistencyProof(from, to);
}

Result<std::optional<AuditTrees::PersonProof>> AuditTrees::ProvePerson(const std::string& node,
                                                                       std::string_view niss,
                                                                       uint64_t size) {
  std::lock_guard lock(mu_);
  PersonProof out;
  // A node that has only signed its empty tree has an empty index.
  CARREFOUR_RETURN_IF_ERROR(size == 0 ? LoadIndexKey() : Extend(node, size));
  if (index_key_.empty()) return Error(Unavailable("the store holds no person index key yet"));
  out.key = PersonKey(index_key_, niss);
  if (size == 0) return std::optional<PersonProof>(std::move(out));
  NodeTrees& trees = trees_[node];
  if (trees.tree.size() != size) return std::optional<PersonProof>();
  out.size = size;
  out.value = trees.index.Get(out.key);
  out.proof = trees.index.Prove(out.key);
  out.root = trees.index.Root();
  return std::optional<PersonProof>(std::move(out));
}

}  // namespace carrefour::audit
