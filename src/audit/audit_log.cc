#include "audit/audit_log.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <future>

#include <fmt/format.h>

namespace carrefour::audit {

std::string CheckpointMac(std::string_view key, const Checkpoint& checkpoint) {
  if (key.empty()) return {};
  std::string message = fmt::format("{}:{}:{}", checkpoint.node, checkpoint.seq, checkpoint.hash);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditStorage& storage, Options options,
                                                 const Clock& clock) {
  if (options.node.empty()) return Error(InvalidRequest("the audit node id is empty"));
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints, storage.AuditCheckpoints());
  Checkpoint head{options.node, 0, GenesisHash(), {}};
  for (Checkpoint& checkpoint : checkpoints) {
    if (checkpoint.node == options.node) head = std::move(checkpoint);
  }
  return std::unique_ptr<AuditLog>(new AuditLog(storage, std::move(options), clock, std::move(head)));
}

AuditLog::AuditLog(AuditStorage& storage, Options options, const Clock& clock, Checkpoint head)
    : storage_(storage), options_(std::move(options)), clock_(clock), head_(std::move(head)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

void AuditLog::Append(Record record, Done done) {
  if (record.time_us == 0) {
    record.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                         clock_.Now().time_since_epoch())
                         .count();
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(record), std::move(done)});
  }
  wake_.notify_one();
}

Status AuditLog::AppendAndWait(Record record) {
  std::promise<Status> written;
  std::future<Status> result = written.get_future();
  Append(std::move(record), [&written](const Status& status) { written.set_value(status); });
  return result.get();
}

size_t AuditLog::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

int64_t AuditLog::last_seq() const {
  std::lock_guard lock(mu_);
  return head_.seq;
}

uint64_t AuditLog::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

bool AuditLog::failing() const {
  std::lock_guard lock(mu_);
  return failing_;
}

std::string AuditLog::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Status AuditLog::Resync() {
  Result<std::vector<Checkpoint>> checkpoints = storage_.AuditCheckpoints();
  if (!checkpoints) return checkpoints.error();
  std::lock_guard lock(mu_);
  for (Checkpoint& checkpoint : *checkpoints) {
    if (checkpoint.node == options_.node && checkpoint.seq > head_.seq) head_ = std::move(checkpoint);
  }
  return OkStatus();
}

void AuditLog::WriterLoop() {
  std::vector<Pending> batch;
  std::vector<Record> records;
  bool resync = false;  // the last write failed: re-read the head first
  for (;;) {
    if (resync) {
      Status reread = Resync();
      if (reread.ok()) {
        resync = false;
      } else {
        std::lock_guard lock(mu_);
        last_error_ = reread.message();
      }
    }
    Checkpoint head;
    {
      std::unique_lock lock(mu_);
      if (failing_) {
        // While failing and idle, a record saying that the log is written
        // again is tried every second: the log recovers (and readiness with
        // it) without waiting for traffic that a load balancer has sent
        // elsewhere.
        wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && !stopping_) {
          Record probe;
          probe.kind = Kind::kAdmin;
          probe.request_id = NewRequestId();
          probe.reason = "the audit log is written again after a failure";
          probe.detail = last_error_;
          probe.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              clock_.Now().time_since_epoch())
                              .count();
          queue_.push_back(Pending{std::move(probe), nullptr});
        }
      } else {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      }
      if (queue_.empty()) return;  // stopping, and everything is written
      size_t take = std::min(queue_.size(), options_.max_batch);
      batch.clear();
      for (size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      head = head_;
    }

    // Chain the batch onto the head. Nothing is published until the
    // transaction commits: on failure the head stays where it was and the
    // next batch reuses the same seqs.
    records.clear();
    Checkpoint next = head;
    for (Pending& pending : batch) {
      Record& record = pending.record;
      record.node = options_.node;
      record.seq = next.seq + 1;
      record.prev_hash = next.hash;
      record.hash = ChainHash(record);
      next.seq = record.seq;
      next.hash = record.hash;
      records.push_back(record);
    }
    next.mac = CheckpointMac(options_.checkpoint_key, next);

    Status status = storage_.AppendAudit(records, next);
    {
      std::lock_guard lock(mu_);
      if (status.ok()) {
        head_ = next;
        ++commits_;
        failing_ = false;
      } else {
        failing_ = true;
        last_error_ = status.message();
        resync = true;
      }
    }
    for (Pending& pending : batch) {
      if (pending.done) pending.done(status);
    }
  }
}

Result<VerifyReport> Verify(AuditStorage& storage, std::string_view checkpoint_key) {
  constexpr size_t kPage = 10000;
  VerifyReport report;
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<Checkpoint> checkpoints, storage.AuditCheckpoints());
  auto fail = [&report](const std::string& node, int64_t seq, std::string_view why) {
    report.ok = false;
    report.first_bad = fmt::format("node {}, record {}: {}", node, seq, why);
  };
  for (const Checkpoint& checkpoint : checkpoints) {
    ChainSummary chain{checkpoint.node, 0, GenesisHash()};
    int64_t expected_seq = 1;
    std::string prev = GenesisHash();
    for (;;) {
      CARREFOUR_ASSIGN_OR_RETURN(std::vector<Record> page,
                                 storage.ReadAudit(checkpoint.node, expected_seq, kPage));
      for (const Record& record : page) {
        if (record.seq != expected_seq) {
          fail(checkpoint.node, expected_seq,
               fmt::format("missing (the chain jumps from {} to {}: removed records?)",
                           expected_seq - 1, record.seq));
          return report;
        }
        if (record.prev_hash != prev) {
          fail(checkpoint.node, record.seq,
               "does not follow the previous record (reordered, or the previous one was changed)");
          return report;
        }
        if (ChainHash(record) != record.hash) {
          fail(checkpoint.node, record.seq, "its hash does not match its content (modified)");
          return report;
        }
        prev = record.hash;
        ++expected_seq;
        ++chain.records;
      }
      if (page.size() < kPage) break;
    }
    if (chain.records != checkpoint.seq || prev != checkpoint.hash) {
      fail(checkpoint.node, chain.records + 1,
           fmt::format("the chain ends at record {} but its checkpoint says {} (records removed "
                       "at the end?)",
                       chain.records, checkpoint.seq));
      return report;
    }
    if (!checkpoint_key.empty() && CheckpointMac(checkpoint_key, checkpoint) != checkpoint.mac) {
      fail(checkpoint.node, checkpoint.seq, "the checkpoint's MAC is wrong (checkpoint rewritten)");
      return report;
    }
    chain.head = prev;
    report.records += chain.records;
    report.chains.push_back(std::move(chain));
  }
  return report;
}

}  // namespace carrefour::audit
