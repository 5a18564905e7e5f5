// SPDX-License-Identifier: EUPL-1.2
#include "replica/directory_replica.h"

#include <pthread.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "directory/entry.h"
#include "logging/logging.h"
#include "store/directory_store.h"

namespace carrefour::replica {
namespace {

using directory::PersonDirectory;

int64_t Nanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

constexpr auto kPruneEvery = std::chrono::seconds(60);

}  // namespace

DirectoryReplica::DirectoryReplica(store::DirectoryStore& store, directory::EngineSource engine)
    : DirectoryReplica(store, std::move(engine), Options{}) {}

DirectoryReplica::DirectoryReplica(store::DirectoryStore& store, directory::EngineSource engine,
                                   Options options)
    : store_(store), engine_(std::move(engine)), options_(options) {}

DirectoryReplica::~DirectoryReplica() { Stop(); }

void DirectoryReplica::Start() {
  std::lock_guard lock(wake_mu_);
  if (thread_.joinable()) return;
  stopping_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void DirectoryReplica::Stop() {
  {
    // Under the mutex: the thread checks it in its wait's predicate.
    std::lock_guard lock(wake_mu_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DirectoryReplica::Wake() const {
  if (wake_.exchange(true, std::memory_order_acq_rel)) return;  // already asked
  std::lock_guard lock(wake_mu_);
  wake_cv_.notify_one();
}

DirectoryReplica::View DirectoryReplica::Read(const directory::DecisionEngine& engine) const {
  // Not loaded yet (never fresh), behind, or built on another definition:
  // the thread is asked to catch up, the caller reads the store.
  // Writes first, then the time: a catch-up records the time it started
  // after the count it started with (CatchUp).
  if (store_.writes() != seen_writes_.load(std::memory_order_acquire)) return Declined();
  const int64_t age = Nanos(Steady::now()) - fresh_since_ns_.load(std::memory_order_acquire);
  if (age > std::chrono::nanoseconds(options_.freshness).count()) return Declined();
  return ReadAt(engine, 0);
}

DirectoryReplica::View DirectoryReplica::ReadAt(const directory::DecisionEngine& engine,
                                                uint64_t position) const {
  View view;
  view.lock_ = std::shared_lock(mu_);
  if (directory_ == nullptr || directory_->definition().get() != engine.definition().get() ||
      applied_.load(std::memory_order_acquire) < position) {
    view.lock_.unlock();
    return Declined();
  }
  view.directory_ = directory_.get();
  memory_reads_.fetch_add(1, std::memory_order_relaxed);
  return view;
}

DirectoryReplica::View DirectoryReplica::Declined() const {
  store_reads_.fetch_add(1, std::memory_order_relaxed);
  Wake();
  return View();
}

Status DirectoryReplica::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  std::shared_ptr<const network::Definition> definition = engine_()->definition();
  const auto stale_after = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.keep_changes) / 2;
  const bool too_old = Nanos(Steady::now()) - fresh_since_ns_.load() > stale_after.count();
  // directory_ changes only here, under refresh_mu_: reading it needs no mu_.
  if (directory_ == nullptr || directory_->definition() != definition || too_old) {
    CARREFOUR_RETURN_IF_ERROR(Load(std::move(definition)));
  }
  CARREFOUR_RETURN_IF_ERROR(CatchUp());
  // Every minute, a mark of where this copy stood; the changes before the
  // mark of keep_changes ago are pruned (every hub does it: harmless).
  const Steady::time_point now = Steady::now();
  if (marks_.empty() || now - marks_.back().first >= kPruneEvery) {
    marks_.emplace_back(now, applied_.load(std::memory_order_relaxed));
    uint64_t up_to = 0;
    while (!marks_.empty() && now - marks_.front().first >= options_.keep_changes) {
      up_to = marks_.front().second;
      marks_.pop_front();
    }
    if (up_to > 0) {
      if (Status pruned = store_.ForgetChangesUpTo(up_to); !pruned.ok()) {
        logging::Event(spdlog::level::warn, "directory change log not pruned",
                       {{"error", pruned.ToString()}});
      }
    }
  }
  return OkStatus();
}

Status DirectoryReplica::Load(std::shared_ptr<const network::Definition> definition) {
  const Steady::time_point start = Steady::now();
  // The log's end first: whatever commits while the pages are read is
  // read again by the catch-up that follows.
  CARREFOUR_ASSIGN_OR_RETURN(const uint64_t position, store_.LastChange());
  auto copy = std::make_unique<PersonDirectory>(std::move(definition));
  uint64_t after = 0;
  size_t rejected = 0;
  while (true) {
    // A hub stopping while it loads millions of persons stops now.
    if (stopping_.load(std::memory_order_acquire)) {
      return Unavailable("the directory's copy was being loaded when the hub stopped");
    }
    CARREFOUR_ASSIGN_OR_RETURN(std::vector<directory::Entry> page,
                               store_.EntriesAfter(after, options_.page));
    if (page.empty()) break;
    rejected += copy->Load(page).size();
    after = directory::NissNumber(page.back().niss);
  }
  // Read() does not hand it out before its first catch-up (Refresh runs
  // it next); ReadAt() may, up to `position`.
  fresh_since_ns_.store(0, std::memory_order_release);
  {
    std::unique_lock lock(mu_);
    directory_ = std::move(copy);
    applied_.store(position, std::memory_order_release);
  }
  loads_.fetch_add(1, std::memory_order_relaxed);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start);
  logging::Event(spdlog::level::info, "directory copied into memory",
                 {{"persons", std::to_string(directory_->persons())},
                  {"entries", std::to_string(directory_->entries())},
                  {"bytes", std::to_string(directory_->bytes())},
                  {"rejected", std::to_string(rejected)},
                  {"ms", std::to_string(took.count())}});
  return OkStatus();
}

Status DirectoryReplica::CatchUp() {
  // The count of this process's writes before the log is read: every write
  // it counts committed before the read below, which therefore sees it.
  const uint64_t writes = store_.writes();
  const Steady::time_point start = Steady::now();
  while (true) {
    CARREFOUR_ASSIGN_OR_RETURN(store::DirectoryStore::Changes changes,
                               store_.ChangesAfter(applied_.load(std::memory_order_relaxed),
                                                   options_.page));
    if (changes.persons.empty()) break;
    std::vector<uint64_t> persons = std::move(changes.persons);
    const size_t read = persons.size();
    std::sort(persons.begin(), persons.end());
    persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
    CARREFOUR_RETURN_IF_ERROR(Reread(persons));
    applied_.store(changes.last, std::memory_order_release);
    if (read < options_.page) break;
  }
  seen_writes_.store(writes, std::memory_order_release);
  fresh_since_ns_.store(Nanos(start), std::memory_order_release);
  return OkStatus();
}

Status DirectoryReplica::Reread(std::span<const uint64_t> persons) {
  std::vector<std::string> numbers;
  numbers.reserve(persons.size());
  for (uint64_t person : persons) numbers.push_back(directory::NissFromKey(static_cast<int64_t>(person)));
  // Read after the log: each person's entries are at least as new as the
  // change that named them.
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<directory::Entry> entries,
                             store_.EntriesOfPersons(numbers));
  std::unique_lock lock(mu_);
  // Both in number order (11 digits: string order is number order).
  size_t next = 0;
  for (size_t i = 0; i < persons.size(); ++i) {
    size_t end = next;
    while (end < entries.size() && entries[end].niss == numbers[i]) ++end;
    directory_->Replace(persons[i], std::span(entries).subspan(next, end - next));
    next = end;
  }
  return OkStatus();
}

void DirectoryReplica::Run() {
  pthread_setname_np(pthread_self(), "directory-copy");
  Steady::time_point last_complaint;
  while (true) {
    Status refreshed = Refresh();
    if (stopping_.load(std::memory_order_acquire)) return;
    std::unique_lock lock(wake_mu_);
    if (refreshed.ok()) {
      wake_cv_.wait_for(lock, options_.poll_interval,
                        [&] { return stopping_.load() || wake_.load(std::memory_order_acquire); });
    } else {
      if (Steady::now() - last_complaint > std::chrono::seconds(10)) {
        last_complaint = Steady::now();
        logging::Event(spdlog::level::warn, "directory copy behind: decisions read the store",
                       {{"error", refreshed.ToString()}});
      }
      // Readers keep asking while it is stale: try again at the usual pace.
      wake_cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_.load(); });
    }
    if (stopping_.load()) return;
    wake_.store(false, std::memory_order_release);
  }
}

DirectoryReplica::Stats DirectoryReplica::stats() const {
  Stats stats;
  stats.loads = loads_.load(std::memory_order_relaxed);
  stats.memory_reads = memory_reads_.load(std::memory_order_relaxed);
  stats.store_reads = store_reads_.load(std::memory_order_relaxed);
  std::shared_lock lock(mu_);
  if (directory_ != nullptr) {
    stats.persons = directory_->persons();
    stats.entries = directory_->entries();
    stats.bytes = directory_->bytes();
  }
  return stats;
}

}  // namespace carrefour::replica
