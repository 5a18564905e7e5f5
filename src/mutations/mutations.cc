// SPDX-License-Identifier: EUPL-1.2
#include "mutations/mutations.h"

#include <pthread.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "audit/answer.h"
#include "core/json_text.h"
#include "core/timestamp.h"
#include "metrics/text.h"
#include "niss/niss.h"
#include "replica/directory_replica.h"
#include "store/store.h"

namespace carrefour::mutations {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

// An id is the source's own reference; bounded so that a hostile source
// cannot fill the store with huge keys.
constexpr size_t kMaxIdLength = 200;

int64_t MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

// One item of a batch once validated: what the store needs, and the data
// before it is cut per subscriber.
struct Item {
  store::NewMutation mutation;
  // The item's "data" in the parsed body (which outlives the item); for an
  // identity replacement, a copy with the new number normalized.
  const json::object* parsed = nullptr;
  json::object replaced;
  const json::object& data() const { return replaced.empty() ? *parsed : replaced; }
};

Result<Item> ParseItem(const directory::DecisionEngine& engine, std::string_view caller,
                       const json::value& value, Date today, audit::Record* record) {
  if (!value.is_object()) return Error(InvalidRequest("a mutation must be a JSON object"));
  const json::object& object = value.as_object();
  CARREFOUR_RETURN_IF_ERROR(
      api::RejectUnknownKeys(object, {"id", "data_type", "niss", "effective", "data"}));
  Item item;
  store::NewMutation& mutation = item.mutation;
  mutation.source = std::string(caller);
  CARREFOUR_ASSIGN_OR_RETURN(mutation.id, api::RequiredString(object, "id"));
  // Ids travel into subscribers' databases and logs: letters, digits and a
  // few separators only, so that none can forge a log line or surprise a
  // consumer.
  const bool plain = std::all_of(mutation.id.begin(), mutation.id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':' || c == '/';
  });
  if (mutation.id.empty() || mutation.id.size() > kMaxIdLength || !plain) {
    return Error(InvalidRequest(fmt::format(
        "'id' must be 1 to {} characters among letters, digits and - _ . : /", kMaxIdLength)));
  }
  CARREFOUR_ASSIGN_OR_RETURN(mutation.data_type, api::RequiredString(object, "data_type"));
  record->data_type = mutation.data_type;
  const network::DataType* type = engine.definition()->FindDataType(mutation.data_type);
  if (type == nullptr) {
    return Error(UnknownDataType(
        fmt::format("'{}' is not a data type of the network", mutation.data_type)));
  }
  if (!engine.IsSource(caller, mutation.data_type)) {
    return Error(NotASource(fmt::format("{} is not an authentic source of {}", caller,
                                        mutation.data_type)));
  }
  CARREFOUR_ASSIGN_OR_RETURN(std::string niss, api::RequiredString(object, "niss"));
  Result<std::string> normalized = niss::Normalize(niss, today);
  if (!normalized) return Error(normalized.error().WithContext("'niss'"));
  mutation.niss = *normalized;
  record->niss = mutation.niss;
  Result<Date> effective = api::RequiredDate(object, "effective");
  if (!effective) {
    return Error(InvalidRequest("'effective' must be a date YYYY-MM-DD"));
  }
  mutation.effective = *effective;
  const json::value* data = object.if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return Error(InvalidRequest("'data' must be a JSON object"));
  }
  item.parsed = &data->as_object();
  std::string unknown;
  for (const auto& [key, field_value] : *item.parsed) {
    if (type->HasField(key)) continue;
    if (!unknown.empty()) unknown += ", ";
    unknown += fmt::format("'{}'", std::string_view(key));
  }
  if (!unknown.empty()) {
    return Error(InvalidRequest(fmt::format("'data' holds fields that {} does not have: {}",
                                            mutation.data_type, unknown)));
  }
  if (mutation.data_type == kNissReplaced) {
    const json::value* replacement = item.parsed->if_contains(kNewNissField);
    if (replacement == nullptr || !replacement->is_string()) {
      return Error(InvalidRequest(fmt::format("'data' of {} needs '{}', the new number",
                                              kNissReplaced, kNewNissField)));
    }
    Result<std::string> new_niss = niss::Normalize(replacement->as_string(), today);
    if (!new_niss) return Error(new_niss.error().WithContext(fmt::format("'{}'", kNewNissField)));
    if (*new_niss == mutation.niss) {
      return Error(InvalidRequest("an identity replacement needs a number different from 'niss'"));
    }
    mutation.replaced_by = *new_niss;
    item.replaced = *item.parsed;
    item.replaced[kNewNissField] = *new_niss;
  }
  return item;
}

// Keeps only `fields` of `data`: what a subscriber is not authorized to
// receive never leaves the hub. Written directly, not through a new object
// holding copies of the values.
std::string Cut(const json::object& data, const std::vector<std::string_view>& fields) {
  std::string out = "{";
  for (std::string_view field : fields) {
    const json::value* value = data.if_contains(field);
    if (value == nullptr) continue;
    if (out.size() > 1) out += ',';
    AppendJsonString(field, &out);
    out += ':';
    out += json::serialize(*value);
  }
  out += '}';
  return out;
}

// A feed's answer, written directly: a copy's data is already JSON (the
// store cut it from the payload the hub serialized), so it is not parsed
// and serialized again per delivery.
std::string FeedAnswer(const std::vector<store::Delivery>& feed, int64_t next) {
  std::string out = R"({"mutations":[)";
  out.reserve(64 + feed.size() * 256);
  for (size_t i = 0; i < feed.size(); ++i) {
    const store::Delivery& delivery = feed[i];
    if (i > 0) out += ',';
    out += R"({"cursor":")";
    out += std::to_string(delivery.cursor);
    out += R"(","id":)";
    AppendJsonString(delivery.id, &out);
    out += R"(,"source":)";
    AppendJsonString(delivery.source, &out);
    out += R"(,"data_type":)";
    AppendJsonString(delivery.data_type, &out);
    out += R"(,"niss":)";
    AppendJsonString(delivery.niss, &out);
    out += R"(,"effective":")";
    out += delivery.effective.ToString();
    out += R"(","data":)";
    out += delivery.data.empty() ? std::string_view("{}") : std::string_view(delivery.data);
    out += '}';
  }
  out += R"(],"next":")";
  out += std::to_string(next);
  out += R"("})";
  return out;
}

// A feed read's answer (in `reply`) and its audit record, without the
// answer's digest (the caller adds it, or AuditThenAnswer does).
audit::Record ReadRecord(const std::string& caller, int64_t after, SteadyClock::time_point start,
                         const Result<std::vector<store::Delivery>>& feed, Reply& reply) {
  audit::Record record;
  record.kind = audit::Kind::kFeedRead;
  record.request_id = audit::NewRequestId();
  record.requester = caller;
  if (!feed) {
    Status status = Unavailable(fmt::format("the feed could not be read: {}", feed.error().message()));
    record.outcome = status.code();
    record.reason = status.message();
    reply = api::ErrorReply(status);
  } else {
    const int64_t next = feed->empty() ? after : feed->back().cursor;
    reply = Reply{200, FeedAnswer(*feed, next)};
    record.reason = "read";
    record.detail = fmt::format("after={} returned={} next={}", after, feed->size(), next);
    if (feed->size() == 1) record.niss = feed->front().niss;
  }
  record.latency_us = MicrosSince(start);
  return record;
}

Result<int64_t> ParseNumber(std::string_view text, std::string_view name) {
  if (text.empty() || text.size() > 18) {
    return Error(InvalidRequest(fmt::format("'{}' must be a non-negative number", name)));
  }
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Error(InvalidRequest(fmt::format("'{}' must be a non-negative number", name)));
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

// Per person of a batch (keys view into the sorted, unique `persons`): the
// entries active on `today`, on which subscribers are resolved. One read
// for every person: one read per person made the directory the largest
// cost of a batch (a round trip each on PostgreSQL; docs/benchmarks.md,
// "Mutations").
using EntriesByPerson = std::map<std::string_view, std::vector<directory::Entry>>;

// The directory's copy when it holds every change the store's log has now
// (DirectoryReplica::ReadAt): exact, as a store read. Empty otherwise.
replica::DirectoryReplica::View CopyAtLogEnd(store::DirectoryStore& directory,
                                             const replica::DirectoryReplica* replica,
                                             const directory::DecisionEngine& engine) {
  if (replica == nullptr) return {};
  Result<uint64_t> end = directory.LastChange();
  if (!end) return {};  // the store's read says why, if it fails too
  return replica->ReadAt(engine, *end);
}

// `persons` ascending; the store's entries of each, active on `today`.
Result<EntriesByPerson> ActiveEntriesOf(store::DirectoryStore& directory,
                                        const std::vector<std::string>& persons, Date today) {
  EntriesByPerson entries_of;
  if (persons.empty()) return entries_of;
  Result<std::vector<directory::Entry>> entries = directory.EntriesOfPersons(persons);
  if (!entries) {
    return Error(Unavailable(fmt::format("the person directory could not be read: {}",
                                         entries.error().message())));
  }
  for (directory::Entry& entry : *entries) {
    if (!entry.period.Contains(today)) continue;
    auto found = std::lower_bound(persons.begin(), persons.end(), entry.niss);
    if (found == persons.end() || *found != entry.niss) continue;  // not asked for
    entries_of[*found].push_back(std::move(entry));
  }
  return entries_of;
}

// Gives `item` one copy per subscriber. The payload is stored once, holding
// only what some subscriber may receive; each copy names its own fields of
// it (all of them, usually). Returns who receives it, on which legal basis,
// for the audit record.
std::string AddCopies(Item& item, const std::vector<directory::Subscriber>& subscribers) {
  const json::object& data = item.data();
  // The fields sent that each subscriber receives (a subscriber's fields
  // are distinct, directory::Subscriber), and all of them.
  std::vector<size_t> received(subscribers.size(), 0);
  std::vector<std::string_view> stored_fields;
  for (size_t s = 0; s < subscribers.size(); ++s) {
    for (std::string_view field : subscribers[s].fields) {
      if (!data.contains(field)) continue;
      ++received[s];
      if (std::find(stored_fields.begin(), stored_fields.end(), field) == stored_fields.end()) {
        stored_fields.push_back(field);
      }
    }
  }
  // Usually some subscriber may receive every field sent: the data is
  // stored as it came, without cutting a copy of it first.
  if (!subscribers.empty()) {
    item.mutation.data =
        stored_fields.size() == data.size() ? json::serialize(data) : Cut(data, stored_fields);
  }
  std::string legal_bases;
  item.mutation.copies.reserve(subscribers.size());
  for (size_t s = 0; s < subscribers.size(); ++s) {
    const directory::Subscriber& subscriber = subscribers[s];
    store::MutationCopy& copy = item.mutation.copies.emplace_back();
    copy.subscriber = subscriber.institution->id;
    // A copy names its fields only when it has fewer than the payload.
    if (received[s] != stored_fields.size()) {
      std::vector<std::string>& fields = copy.fields.emplace();
      for (std::string_view field : subscriber.fields) {
        if (data.contains(field)) fields.emplace_back(field);
      }
    }
    if (!legal_bases.empty()) legal_bases += ",";
    legal_bases += subscriber.institution->id;
    if (!subscriber.authorizations.empty()) {
      legal_bases += ":" + subscriber.authorizations.front()->legal_basis;
    }
  }
  return legal_bases;
}

}  // namespace

Result<FeedQuery> ParseFeedQuery(std::optional<std::string_view> after,
                                 std::optional<std::string_view> limit,
                                 std::optional<std::string_view> wait, const Options& options) {
  FeedQuery query;
  query.limit = options.default_limit;
  if (after) {
    Result<int64_t> cursor = ParseNumber(*after, "after");
    if (!cursor) {
      return Error(InvalidRequest("'after' must be a cursor from a previous answer, or 0"));
    }
    query.after = *cursor;
  }
  if (limit) {
    CARREFOUR_ASSIGN_OR_RETURN(int64_t value, ParseNumber(*limit, "limit"));
    if (value < 1 || static_cast<size_t>(value) > options.max_limit) {
      return Error(InvalidRequest(fmt::format("'limit' must be 1 to {}", options.max_limit)));
    }
    query.limit = static_cast<size_t>(value);
  }
  if (wait) {
    CARREFOUR_ASSIGN_OR_RETURN(int64_t seconds, ParseNumber(*wait, "wait"));
    query.wait = std::min(std::chrono::seconds(seconds), options.max_wait);
  }
  return query;
}

// A feed read that found nothing and waits.
struct MutationService::Waiter {
  std::string caller;
  FeedQuery query;
  // The read acknowledges up to query.after and that is not yet durable
  // here: the acknowledgement is written with the answer's audit record.
  bool acknowledge = false;
  SteadyClock::time_point start;
  SteadyClock::time_point deadline;
  std::function<void(Reply)> done;
  std::function<bool()> abandoned;
};

// A waiting feed read taken into a group's transaction: its feed is read
// there, after the group's deliveries, and answered with the publication.
struct MutationService::Rider {
  std::shared_ptr<Waiter> waiter;
  bool answered = false;  // set by the transaction (each time it runs)
  size_t delivered = 0;
  Reply reply;
};

MutationService::MutationService(EngineSource engine, store::Store& store,
                                 audit::AuditLog& audit, const Clock& clock, Options options,
                                 const replica::DirectoryReplica* replica)
    : engine_(std::move(engine)),
      store_(store),
      replica_(replica),
      audit_(audit),
      clock_(clock),
      options_(options),
      thread_([this] { Loop(); }),
      writer_([this] { WriterLoop(); }) {}

MutationService::~MutationService() { Shutdown(); }

// A validated batch on its way to the store: what the write needs, and what
// makes its answer and its audit records once the outcome is known.
struct MutationService::Intake {
  SteadyClock::time_point start;
  audit::Record base;  // kind, request id, requester
  std::vector<store::NewMutation> batch;
  std::vector<size_t> batch_index;  // the item of each entry of `batch`
  std::vector<audit::Record> records;  // one per item
  std::vector<Status> statuses;        // why an item was rejected
  std::vector<size_t> subscriber_counts;
  std::vector<std::string> ids;  // each item's id as sent, for the records
  std::function<void(Reply)> done;
  // Instead of a batch: a feed read's answer (`reply`, already made) with
  // its acknowledgement and its audit record (the only one of `records`),
  // written with the next group: one durable write for them, the other
  // feeds' and the publications'.
  std::optional<store::FeedAck> ack;
  // Set by the write:
  std::vector<bool> in_batch, is_accepted;
  Reply reply;
  std::vector<std::string> woken;  // subscribers of its accepted mutations

  // Notes the store's verdict on this batch's mutations (accepted[offset + k]
  // for batch item k, which `all` holds at the same place) and whom they wake.
  void Settle(const std::vector<bool>& accepted, size_t offset,
              const std::vector<store::NewMutation>& all);
  // Writes the answer, and appends the audit records that trace it (one per
  // item, or one for an empty batch), each with the answer's digest.
  void AnswerInto(std::vector<audit::Record>& trail);
  // Item i's part of the answer; completes its audit record.
  json::object Outcome(size_t i, audit::Record& record) const;
  // Adds the items' outcomes to `counters`.
  void Count(Counters& counters) const;
};

void MutationService::Intake::Settle(const std::vector<bool>& accepted, size_t offset,
                                     const std::vector<store::NewMutation>& all) {
  const size_t items = records.size();
  in_batch.assign(items, false);
  is_accepted.assign(items, false);
  woken.clear();
  for (size_t k = 0; k < batch_index.size(); ++k) {
    in_batch[batch_index[k]] = true;
    is_accepted[batch_index[k]] = accepted[offset + k];
    if (!accepted[offset + k]) continue;
    for (const store::MutationCopy& copy : all[offset + k].copies) {
      woken.push_back(copy.subscriber);
    }
  }
}

json::object MutationService::Intake::Outcome(size_t i, audit::Record& record) const {
  json::object result;
  result["index"] = i;
  if (!in_batch[i]) {
    result["status"] = "rejected";
    result["error"] = api::ErrorObject(statuses[i]).at("error");
    record.outcome = statuses[i].code();
    record.reason = statuses[i].message();
  } else if (is_accepted[i]) {
    result["status"] = "accepted";
    result["subscribers"] = subscriber_counts[i];
    record.reason = "accepted";
  } else {
    result["status"] = "duplicate";
    record.reason = "duplicate";
  }
  if (!ids[i].empty()) record.detail = fmt::format("id={}", ids[i]);
  if (is_accepted[i]) record.detail += fmt::format(" subscribers={}", subscriber_counts[i]);
  return result;
}

void MutationService::Intake::AnswerInto(std::vector<audit::Record>& trail) {
  const size_t items = records.size();
  const size_t first = trail.size();
  json::array results;
  results.reserve(items);
  for (size_t i = 0; i < items; ++i) {
    audit::Record& record = trail.emplace_back(records[i]);
    results.push_back(Outcome(i, record));
  }
  json::object answer;
  answer["results"] = std::move(results);
  reply = Reply{202, json::serialize(answer)};
  if (items == 0) {  // an empty batch: still one trace of the call
    audit::Record& record = trail.emplace_back(base);
    record.reason = "empty batch";
  }
  const std::string digest = audit::Sha256Hex(reply.body);
  const int64_t latency = MicrosSince(start);
  for (size_t r = first; r < trail.size(); ++r) {
    trail[r].latency_us = latency;
    trail[r].answer_sha256 = digest;
  }
}

void MutationService::Intake::Count(Counters& counters) const {
  for (size_t i = 0; i < records.size(); ++i) {
    if (!in_batch[i]) {
      counters.rejected.fetch_add(1, std::memory_order_relaxed);
    } else if (is_accepted[i]) {
      counters.accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters.duplicates.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void MutationService::Refuse(const Intake& intake, const Status& status,
                             std::function<void(Reply)> done) {
  counters_.rejected.fetch_add(1, std::memory_order_relaxed);
  audit::Record record = intake.base;
  record.outcome = status.code();
  record.reason = status.message();
  record.latency_us = MicrosSince(intake.start);
  // The refusal is traced before it leaves, as everything else.
  audit::AuditThenAnswer(
      audit_, std::move(record), api::ErrorReply(status),
      [] { return api::ErrorReply(Unavailable("the audit log could not be written")); },
      std::move(done));
}

void MutationService::Publish(std::string_view caller, std::string_view body,
                              std::function<void(Reply)> done) {
  auto intake = std::make_shared<Intake>();
  intake->start = SteadyClock::now();
  const Date today = clock_.Today();
  std::shared_ptr<const directory::DecisionEngine> engine = engine_();
  intake->base.kind = audit::Kind::kMutation;
  intake->base.request_id = audit::NewRequestId();
  intake->base.requester = std::string(caller);
  auto refuse = [&](const Status& status) { Refuse(*intake, status, std::move(done)); };

  // The tree lives until the batch is queued (the items' data point into
  // it): one arena, freed at once, instead of an allocation per node.
  json::monotonic_resource arena(std::min<size_t>(body.size() * 2 + 1024, 4 << 20));
  Result<json::object> object = api::ParseObject(body, &arena);
  if (!object) return refuse(object.error());
  Result<const json::array*> list_read =
      api::BatchList(*object, "mutations", kMaxMutationsPerBatch);
  if (!list_read) return refuse(list_read.error());
  const json::array& list = **list_read;

  std::vector<audit::Record>& records = intake->records;
  records.assign(list.size(), intake->base);
  intake->statuses.resize(list.size());
  intake->subscriber_counts.assign(list.size(), 0);
  intake->ids.resize(list.size());
  std::vector<std::optional<Item>> items(list.size());
  std::vector<std::string> persons;
  for (size_t i = 0; i < list.size(); ++i) {
    if (const json::object* item = list[i].if_object()) {
      if (const json::value* id = item->if_contains("id"); id && id->is_string()) {
        intake->ids[i] = std::string(std::string_view(id->as_string()).substr(0, kMaxIdLength));
      }
    }
    Result<Item> item = ParseItem(*engine, caller, list[i], today, &records[i]);
    if (!item) {
      intake->statuses[i] = item.error();
      continue;
    }
    persons.push_back(item->mutation.niss);
    items[i] = std::move(*item);
  }
  // Subscribers on the directory's copy in memory when it holds every
  // change the store's log has now (exact, as a store read); else on the
  // store's entries, read once for the batch.
  replica::DirectoryReplica::View copy = CopyAtLogEnd(store_.directory(), replica_, *engine);
  EntriesByPerson entries_of;
  if (!copy) {
    std::sort(persons.begin(), persons.end());
    persons.erase(std::unique(persons.begin(), persons.end()), persons.end());
    Result<EntriesByPerson> read = ActiveEntriesOf(store_.directory(), persons, today);
    if (!read) return refuse(read.error());
    entries_of = std::move(*read);
  }
  static const std::vector<directory::Entry> kNoEntries;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!items[i]) continue;
    Item& item = *items[i];
    std::vector<directory::Subscriber> subscribers;
    if (copy) {
      subscribers = engine->SubscribersOfCompact(
          caller, item.mutation.data_type, copy->Find(directory::NissNumber(item.mutation.niss)), today);
    } else {
      auto found = entries_of.find(item.mutation.niss);
      subscribers = engine->SubscribersOf(caller, item.mutation.data_type,
                                          found == entries_of.end() ? kNoEntries : found->second, today);
    }
    records[i].providers = AddCopies(item, subscribers);  // who receives it, on which legal basis
    intake->subscriber_counts[i] = subscribers.size();
    intake->batch.push_back(std::move(item.mutation));
    intake->batch_index.push_back(i);
  }
  copy = replica::DirectoryReplica::View();  // released before the queue
  intake->done = std::move(done);
  Commit({std::move(intake)});
}

// Group commit (docs/mutations.md, "Intake"): the service's writer thread
// writes everything queued meanwhile in one transaction, again and again
// until the queue is empty; the callers' threads (the hub's I/O threads, the
// feed loop) never wait for a disk.
void MutationService::Commit(std::vector<std::shared_ptr<Intake>> intakes) {
  {
    std::lock_guard lock(intake_mu_);
    if (!writer_stopped_) {
      for (std::shared_ptr<Intake>& intake : intakes) intake_queue_.push_back(std::move(intake));
      intake_wake_.notify_one();
      return;
    }
  }
  WriteGroup(intakes);  // after Shutdown: written at once, here
}

void MutationService::WriterLoop() {
  pthread_setname_np(pthread_self(), "mutations-write");
  // Work came while the last group was written (a continuous load): its
  // checkpoint is signed once per interval, not per commit.
  bool busy = false;
  std::unique_lock lock(intake_mu_);
  while (true) {
    intake_wake_.wait(lock, [&] { return writer_stopping_ || !intake_queue_.empty(); });
    if (intake_queue_.empty()) break;  // stopping, and everything is written
    // Bounded: a transaction of at most a few batches' worth.
    size_t mutations = 0, take = 0;
    while (take < intake_queue_.size() &&
           (take == 0 || mutations + intake_queue_[take]->batch.size() <= kMaxGroupMutations)) {
      mutations += intake_queue_[take]->batch.size();
      ++take;
    }
    std::vector<std::shared_ptr<Intake>> group(
        std::make_move_iterator(intake_queue_.begin()),
        std::make_move_iterator(intake_queue_.begin() + static_cast<ptrdiff_t>(take)));
    intake_queue_.erase(intake_queue_.begin(), intake_queue_.begin() + static_cast<ptrdiff_t>(take));
    lock.unlock();
    WriteGroup(group, busy);
    lock.lock();
    busy = !intake_queue_.empty();
  }
  writer_stopped_ = true;
}

void MutationService::WriteGroup(const std::vector<std::shared_ptr<Intake>>& intakes, bool busy) {
  // Feed reads' acknowledgements ride along (the latest per feed; in
  // subscriber order, as the store locks them), with the reads' records.
  std::vector<std::shared_ptr<Intake>> group, reads;
  std::map<std::string, int64_t> upto;
  for (const std::shared_ptr<Intake>& intake : intakes) {
    if (intake->ack) {
      int64_t& cursor = upto[intake->ack->subscriber];
      cursor = std::max(cursor, intake->ack->acknowledged);
      reads.push_back(intake);
    } else {
      group.push_back(intake);
    }
  }
  // The mutations of every batch, one after the other: one transaction,
  // one durable write for them, their deliveries, the acknowledgements, the
  // answers of the reads they wake, and all their audit records.
  std::vector<store::NewMutation> all;
  for (const std::shared_ptr<Intake>& intake : group) {
    for (store::NewMutation& mutation : intake->batch) all.push_back(std::move(mutation));
  }
  // Waiting reads ride in a small group's transaction (a trickle: saving a
  // commit halves their delay); a big group's is long enough already, and
  // reading thousands of deliveries in it would hold the single writer, so
  // they are woken after it, as any other.
  std::vector<Rider> riders;
  if (all.size() <= kMaxRiderGroupMutations) riders = TakeRiders(all);
  for (const Rider& rider : riders) {
    if (!rider.waiter->acknowledge) continue;
    int64_t& cursor = upto[rider.waiter->caller];
    cursor = std::max(cursor, rider.waiter->query.after);
  }
  std::vector<store::FeedAck> acks;
  for (auto& [subscriber, cursor] : upto) acks.push_back(store::FeedAck{subscriber, cursor});
  // The records hold each answer's digest, so they are made once the
  // outcome of every item is known, inside the transaction.
  auto trail = [&](const audit::AuditLog::Chain& chain, const std::vector<bool>& accepted,
                   const store::FeedReader& read) -> Result<store::ChainedRecords> {
    store::ChainedRecords chained;
    size_t offset = 0;
    for (const std::shared_ptr<Intake>& intake : group) {
      intake->Settle(accepted, offset, all);
      offset += intake->batch_index.size();
      intake->AnswerInto(chained.records);
    }
    for (const std::shared_ptr<Intake>& intake : reads) {
      chained.records.insert(chained.records.end(), intake->records.begin(), intake->records.end());
    }
    for (Rider& rider : riders) {
      const Waiter& waiter = *rider.waiter;
      CARREFOUR_ASSIGN_OR_RETURN(std::vector<store::Delivery> feed,
                                 read(waiter.caller, waiter.query.after, waiter.query.limit));
      rider.answered = !feed.empty();
      if (!rider.answered) continue;  // nothing new for it (duplicates): it waits on
      rider.delivered = feed.size();
      audit::Record& record = chained.records.emplace_back(
          ReadRecord(waiter.caller, waiter.query.after, waiter.start, feed, rider.reply));
      record.answer_sha256 = audit::Sha256Hex(rider.reply.body);
    }
    chained.checkpoint = chain(chained.records);
    return chained;
  };
  Status written = audit_.AppendWith([&](const audit::AuditLog::Chain& chain) -> Status {
    Result<std::vector<bool>> stored = store_.mutations().AcceptMutations(
        all, NowMicros(clock_),
        [&](const std::vector<bool>& flags, const store::FeedReader& read) {
          return trail(chain, flags, read);
        },
        acks);
    return stored ? OkStatus() : stored.error();
  }, busy);
  Settled(written, group, reads, acks, riders);
}

// Tells everyone in a written (or failed) group: the publishers, the
// reads, the riders, and the feed loop for the subscribers it woke.
void MutationService::Settled(const Status& written,
                              const std::vector<std::shared_ptr<Intake>>& group,
                              const std::vector<std::shared_ptr<Intake>>& reads,
                              const std::vector<store::FeedAck>& acks, std::vector<Rider>& riders) {
  if (written.ok()) {
    std::lock_guard lock(intake_mu_);
    for (const store::FeedAck& ack : acks) {
      int64_t& known = acked_[ack.subscriber];
      known = std::max(known, ack.acknowledged);
    }
  }
  // Called once everything below is settled; on the caller's loop when
  // options_.deliver says where.
  std::vector<std::function<void()>> answers;
  std::vector<std::shared_ptr<Waiter>> waiting;  // riders with nothing yet
  for (Rider& rider : riders) {
    if (!written.ok() || !rider.answered) {
      if (written.ok()) rider.waiter->acknowledge = false;  // written with the group
      waiting.push_back(std::move(rider.waiter));
      continue;
    }
    counters_.feed_reads.fetch_add(1, std::memory_order_relaxed);
    counters_.delivered.fetch_add(rider.delivered, std::memory_order_relaxed);
    answers.push_back([waiter = rider.waiter, reply = std::move(rider.reply)]() mutable {
      waiter->done(std::move(reply));
    });
  }
  std::set<std::string> woken;
  if (written.ok()) {
    for (const std::shared_ptr<Intake>& intake : group) {
      intake->Count(counters_);
      woken.insert(intake->woken.begin(), intake->woken.end());
    }
  }
  // The feed loop has something new to look at only then: waking it for
  // nothing (a group of reads) cost two context switches per group.
  const bool news = !woken.empty() || !waiting.empty();
  std::vector<std::shared_ptr<Waiter>> stranded;
  {
    std::lock_guard lock(mu_);
    for (const std::string& subscriber : woken) {
      woken_.insert(subscriber);
      ++generation_[subscriber];
    }
    if (stopping_) {
      stranded = std::move(waiting);  // the feed loop may have answered its last
    } else {
      for (std::shared_ptr<Waiter>& waiter : waiting) waiters_.push_back(std::move(waiter));
      registered_ = registered_ || !waiting.empty();
    }
  }
  if (news) wake_.notify_one();
  std::vector<std::shared_ptr<Intake>> to_write;
  for (std::shared_ptr<Waiter>& waiter : stranded) Answer(std::move(waiter), /*final=*/true, to_write);
  if (!to_write.empty()) Commit(std::move(to_write));
  for (const std::shared_ptr<Intake>& intake : group) {
    if (written.ok()) {
      answers.push_back([intake] { intake->done(std::move(intake->reply)); });
    } else {
      Refuse(*intake,
             Unavailable(fmt::format("the mutations could not be stored, none is accepted: {}",
                                     written.message())),
             std::move(intake->done));
    }
  }
  for (const std::shared_ptr<Intake>& intake : reads) {
    if (!written.ok()) {
      intake->reply = api::ErrorReply(Unavailable("the audit log could not be written; read the feed again"));
    }
    answers.push_back([intake] { intake->done(std::move(intake->reply)); });
  }
  if (answers.empty()) return;
  auto answer_all = [answers = std::move(answers)] {
    for (const std::function<void()>& answer : answers) answer();
  };
  if (options_.deliver) {
    options_.deliver(std::move(answer_all));
  } else {
    answer_all();
  }
}

// Takes out the waiting reads of the subscribers `mutations` have copies
// for: they ride in the group's transaction.
std::vector<MutationService::Rider> MutationService::TakeRiders(
    const std::vector<store::NewMutation>& mutations) {
  std::vector<Rider> riders;
  std::lock_guard lock(mu_);
  if (waiters_.empty() || stopping_) return riders;
  std::set<std::string_view> subscribers;
  for (const store::NewMutation& mutation : mutations) {
    for (const store::MutationCopy& copy : mutation.copies) subscribers.insert(copy.subscriber);
  }
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (subscribers.count((*it)->caller) > 0) {
      // One nobody listens to any more is dropped, as the feed loop does.
      if (!(*it)->abandoned || !(*it)->abandoned()) riders.push_back(Rider{std::move(*it)});
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  return riders;
}

void MutationService::ReadFeed(std::string_view caller, std::optional<std::string_view> after,
                               std::optional<std::string_view> limit,
                               std::optional<std::string_view> wait,
                               std::function<void(Reply)> done, std::function<bool()> abandoned) {
  auto waiter = std::make_shared<Waiter>();
  waiter->caller = std::string(caller);
  waiter->start = SteadyClock::now();
  waiter->done = std::move(done);
  waiter->abandoned = std::move(abandoned);
  Result<FeedQuery> query = ParseFeedQuery(after, limit, wait, options_);
  if (!query) {
    audit::Record record;
    record.kind = audit::Kind::kFeedRead;
    record.request_id = audit::NewRequestId();
    record.requester = waiter->caller;
    record.outcome = query.error().code();
    record.reason = query.error().message();
    audit::AuditThenAnswer(
        audit_, std::move(record), api::ErrorReply(query.error()),
        [] { return api::ErrorReply(Unavailable("the audit log could not be written; try again")); },
        std::move(waiter->done));
    return;
  }
  waiter->query = *query;
  waiter->deadline = waiter->start + query->wait;
  if (query->after > 0) {
    std::lock_guard lock(intake_mu_);
    auto known = acked_.find(waiter->caller);
    waiter->acknowledge = known == acked_.end() || known->second < query->after;
  }
  std::vector<std::shared_ptr<Intake>> to_write;
  Answer(std::move(waiter), /*final=*/false, to_write);
  if (!to_write.empty()) Commit(std::move(to_write));
}

// Reads the waiter's feed; answers when there is something, when `final`, or
// when its wait is over; otherwise (re)registers it. An answer that
// acknowledges goes to `to_write` (the caller commits it): the
// acknowledgement and the read's audit record are one durable write, shared
// with the group's. The read comes first: it only looks after the cursor
// being acknowledged, and nothing leaves before that write.
void MutationService::Answer(std::shared_ptr<Waiter> waiter, bool final,
                             std::vector<std::shared_ptr<Intake>>& to_write) {
  Result<std::vector<store::Delivery>> feed;
  while (true) {
    // A publication between the read and the registration below would wake
    // nobody: the generation tells that one happened, and the read is redone.
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = generation_[waiter->caller];
    }
    feed = store_.mutations().DeliveriesAfter(waiter->caller, waiter->query.after,
                                              waiter->query.limit);
    if (!feed || !feed->empty() || final || SteadyClock::now() >= waiter->deadline) break;
    std::lock_guard lock(mu_);
    if (stopping_) break;
    if (generation_[waiter->caller] != seen) continue;
    waiters_.push_back(std::move(waiter));
    registered_ = true;  // the loop recomputes its next wake-up
    wake_.notify_one();
    return;
  }
  counters_.feed_reads.fetch_add(1, std::memory_order_relaxed);
  if (feed) counters_.delivered.fetch_add(feed->size(), std::memory_order_relaxed);
  Reply reply;
  audit::Record record = ReadRecord(waiter->caller, waiter->query.after, waiter->start, feed, reply);
  if (feed && waiter->acknowledge) {
    record.answer_sha256 = audit::Sha256Hex(reply.body);
    auto intake = std::make_shared<Intake>();
    intake->ack = store::FeedAck{waiter->caller, waiter->query.after};
    intake->records.push_back(std::move(record));
    intake->reply = std::move(reply);
    intake->done = [waiter](Reply answer) { waiter->done(std::move(answer)); };
    to_write.push_back(std::move(intake));
    return;
  }
  // What leaves the hub is traced first, as for a consultation. (A failed
  // read acknowledges nothing: the caller reads again.)
  audit::AuditThenAnswer(
      audit_, std::move(record), std::move(reply),
      [] {
        return api::ErrorReply(
            Unavailable("the audit log could not be written; read the feed again"));
      },
      [waiter](Reply answer) { waiter->done(std::move(answer)); });
}

void MutationService::Loop() {
  pthread_setname_np(pthread_self(), "mutations-feed");
  SteadyClock::time_point next_poll = SteadyClock::now() + options_.poll_interval;
  SteadyClock::time_point next_purge = SteadyClock::now() + options_.purge_interval;
  std::unique_lock lock(mu_);
  while (true) {
    SteadyClock::time_point until = next_purge;
    if (options_.poll_interval.count() > 0 && !waiters_.empty()) until = std::min(until, next_poll);
    for (const auto& waiter : waiters_) until = std::min(until, waiter->deadline);
    wake_.wait_until(lock, until, [&] { return stopping_ || registered_ || !woken_.empty(); });
    if (stopping_) break;
    registered_ = false;

    const SteadyClock::time_point now = SteadyClock::now();
    const bool poll = options_.poll_interval.count() > 0 && now >= next_poll;
    if (poll) next_poll = now + options_.poll_interval;
    // Take out the waiters to look at: their caller got deliveries here,
    // another hub may have given them some (poll), or their time is up.
    std::vector<std::shared_ptr<Waiter>> due;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      const Waiter& waiter = **it;
      if (poll || woken_.count(waiter.caller) > 0 || now >= waiter.deadline ||
          (waiter.abandoned && waiter.abandoned())) {
        due.push_back(std::move(*it));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    woken_.clear();
    const bool purge = now >= next_purge;
    if (purge) next_purge = now + options_.purge_interval;
    lock.unlock();
    std::vector<std::shared_ptr<Intake>> to_write;
    for (std::shared_ptr<Waiter>& waiter : due) {
      if (waiter->abandoned && waiter->abandoned()) continue;  // nobody to answer
      Answer(std::move(waiter), /*final=*/false, to_write);
    }
    if (!to_write.empty()) Commit(std::move(to_write));
    if (purge) (void)Purge();
    lock.lock();
  }
  std::list<std::shared_ptr<Waiter>> last = std::move(waiters_);
  lock.unlock();
  std::vector<std::shared_ptr<Intake>> to_write;
  for (std::shared_ptr<Waiter>& waiter : last) Answer(std::move(waiter), /*final=*/true, to_write);
  if (!to_write.empty()) Commit(std::move(to_write));
}

Status MutationService::Purge() {
  const int64_t cutoff =
      NowMicros(clock_) -
      std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
  Result<store::PurgeCounts> purged = store_.mutations().Purge(cutoff);
  if (!purged) return purged.error();
  counters_.expired.fetch_add(static_cast<uint64_t>(purged->expired_deliveries),
                              std::memory_order_relaxed);
  return OkStatus();
}

void MutationService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();  // its last answers are queued
  {
    std::lock_guard lock(intake_mu_);
    writer_stopping_ = true;
  }
  intake_wake_.notify_all();
  if (writer_.joinable()) writer_.join();  // everything queued is written
}

size_t MutationService::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

std::string MutationService::Metrics() const {
  metrics::TextWriter out;
  auto metric = [&out](std::string_view name, std::string_view help, std::string_view type) {
    out.Family(name, type, help);
  };
  auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
    metric(name, help, "counter");
    out.Sample(name, {}, static_cast<double>(value));
  };
  counter("carrefour_mutations_accepted_total", "Mutations accepted.", counters_.accepted.load());
  counter("carrefour_mutations_duplicate_total", "Mutations refused as duplicates.",
          counters_.duplicates.load());
  counter("carrefour_mutations_rejected_total", "Mutations rejected.", counters_.rejected.load());
  counter("carrefour_mutations_delivered_total", "Deliveries handed out by feed reads.",
          counters_.delivered.load());
  counter("carrefour_mutations_expired_total",
          "Unacknowledged deliveries purged at the end of the retention.", counters_.expired.load());
  counter("carrefour_feed_reads_total", "Feed reads answered.", counters_.feed_reads.load());
  metric("carrefour_feed_waiting", "Feed reads waiting (long poll).", "gauge");
  out.Sample("carrefour_feed_waiting", {}, static_cast<double>(waiting()));
  Result<std::vector<store::FeedBacklog>> backlog = store_.mutations().Backlog();
  if (!backlog) return std::move(out).Text();
  const int64_t now = NowMicros(clock_);
  metric("carrefour_feed_backlog", "Deliveries not yet acknowledged, per subscriber.", "gauge");
  for (const store::FeedBacklog& feed : *backlog) {
    out.Sample("carrefour_feed_backlog", {{"subscriber", feed.subscriber}}, static_cast<double>(feed.pending));
  }
  metric("carrefour_feed_oldest_unacknowledged_seconds",
         "Age of the oldest unacknowledged delivery, per subscriber.", "gauge");
  for (const store::FeedBacklog& feed : *backlog) {
    out.Sample("carrefour_feed_oldest_unacknowledged_seconds", {{"subscriber", feed.subscriber}},
               static_cast<double>(std::max<int64_t>(0, now - feed.oldest_accepted_us)) / 1e6);
  }
  return std::move(out).Text();
}

}  // namespace carrefour::mutations
