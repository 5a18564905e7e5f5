#include "store/postgres/mutation_store.h"

#include <map>

#include "store/internal/entries.h"

namespace carrefour::store::postgres {
namespace {

// The whole batch in one statement. In-batch repeats of an id conflict with
// the row inserted earlier in the same statement and are skipped: the first
// occurrence wins, as in SQLite.
constexpr const char kInsertMutations[] =
    "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us) "
    "SELECT source, id, data_type, niss, effective, $6 FROM unnest("
    "$1::text[], $2::text[], $3::text[], $4::text[], $5::integer[]) WITH ORDINALITY "
    "AS i(source, id, data_type, niss, effective, idx) ORDER BY idx "
    "ON CONFLICT (source, id) DO NOTHING RETURNING source, id, mid";
// The counter row of a subscriber. Its row lock is held until commit, so a
// second transaction giving cursors to the same subscriber waits and commits
// after: cursors become visible in increasing order (docs/mutations.md).
constexpr const char kBumpFeed[] =
    "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES ($1, $2) "
    "ON CONFLICT (subscriber) DO UPDATE SET last_cursor = mutation_feed.last_cursor + "
    "excluded.last_cursor RETURNING last_cursor";
constexpr const char kInsertDeliveries[] =
    "INSERT INTO mutation_delivery (subscriber, cursor, mid, data, accepted_us) "
    "SELECT s, c, m, d, $5 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) "
    "AS i(s, c, m, d)";
constexpr const char kCopyEntries[] =
    "INSERT INTO directory_entry (niss, institution, capacity, valid_from, valid_to) "
    "SELECT $2, institution, capacity, valid_from, valid_to FROM directory_entry WHERE niss = $1 "
    "ON CONFLICT DO NOTHING";
constexpr const char kDeleteEntries[] = "DELETE FROM directory_entry WHERE niss = $1";
constexpr const char kRecordReplacement[] =
    "INSERT INTO niss_replacement (old_niss, new_niss, effective, replaced_us) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (old_niss) DO UPDATE SET new_niss = excluded.new_niss, "
    "effective = excluded.effective, replaced_us = excluded.replaced_us";
constexpr const char kAcknowledge[] =
    "DELETE FROM mutation_delivery WHERE subscriber = $1 AND cursor <= $2";
constexpr const char kFeed[] =
    "SELECT d.cursor, m.id, m.source, m.data_type, m.niss, m.effective, d.data, d.accepted_us "
    "FROM mutation_delivery d JOIN mutation m ON m.mid = d.mid "
    "WHERE d.subscriber = $1 AND d.cursor > $2 ORDER BY d.cursor LIMIT $3";
constexpr const char kAfter[] =
    "SELECT EXISTS (SELECT 1 FROM mutation_delivery WHERE subscriber = $1 AND cursor > $2)";
constexpr const char kExpire[] = "DELETE FROM mutation_delivery WHERE accepted_us < $1";
constexpr const char kForget[] =
    "DELETE FROM mutation m WHERE m.accepted_us < $1 AND NOT EXISTS "
    "(SELECT 1 FROM mutation_delivery d WHERE d.mid = m.mid)";
constexpr const char kBacklog[] =
    "SELECT subscriber, count(*), min(accepted_us) FROM mutation_delivery GROUP BY subscriber "
    "ORDER BY subscriber";
constexpr const char kReplacement[] =
    "SELECT new_niss, effective, replaced_us FROM niss_replacement WHERE old_niss = $1";
constexpr const char kPendingOf[] =
    "SELECT d.subscriber, d.cursor, m.id, m.source, m.data_type, m.effective, d.accepted_us "
    "FROM mutation m JOIN mutation_delivery d ON d.mid = m.mid WHERE m.niss = $1 "
    "ORDER BY d.accepted_us, d.subscriber, d.cursor LIMIT $2";

}  // namespace

Result<std::vector<bool>> PostgresMutationStore::AcceptMutations(
    std::span<const NewMutation> mutations, int64_t now_us) {
  std::vector<bool> accepted(mutations.size(), false);
  if (mutations.empty()) return accepted;
  ArrayLiteral sources, ids, types, nisses, effectives;
  for (const NewMutation& mutation : mutations) {
    sources.Add(mutation.source);
    ids.Add(mutation.id);
    types.Add(mutation.data_type);
    nisses.Add(mutation.niss);
    effectives.Add(int64_t{internal::DayKey(mutation.effective)});
  }
  std::string a[5] = {sources.Take(), ids.Take(), types.Take(), nisses.Take(), effectives.Take()};
  Status status = pool_.Run("accepting mutations", [&](pqxx::connection& c) -> Status {
    std::fill(accepted.begin(), accepted.end(), false);  // a retried attempt starts afresh
    pqxx::work transaction(c);
    pqxx::result inserted =
        transaction.exec_params(kInsertMutations, a[0], a[1], a[2], a[3], a[4], now_us);
    // (source, id) -> the positions in the batch with that key, in order.
    std::map<std::pair<std::string_view, std::string_view>, std::vector<size_t>> positions;
    for (size_t i = 0; i < mutations.size(); ++i) {
      positions[{mutations[i].source, mutations[i].id}].push_back(i);
    }
    std::vector<int64_t> mids(mutations.size(), 0);
    for (const pqxx::row& row : inserted) {
      std::string source = row[0].as<std::string>();
      std::string id = row[1].as<std::string>();
      auto found = positions.find({source, id});
      if (found == positions.end()) return Internal("postgresql: an inserted mutation is not in the batch");
      size_t first = found->second.front();
      accepted[first] = true;
      mids[first] = row[2].as<int64_t>();
    }
    // Counter rows are locked in subscriber order (std::map): two hubs never
    // wait for each other's rows in a cycle.
    std::map<std::string_view, std::vector<std::pair<size_t, size_t>>> by_subscriber;
    for (size_t i = 0; i < mutations.size(); ++i) {
      if (!accepted[i]) continue;
      for (size_t k = 0; k < mutations[i].copies.size(); ++k) {
        by_subscriber[mutations[i].copies[k].subscriber].emplace_back(i, k);
      }
    }
    ArrayLiteral subscribers, cursors, delivery_mids, data;
    for (const auto& [subscriber, copies] : by_subscriber) {
      int64_t last = transaction
                         .exec_params1(kBumpFeed, std::string(subscriber),
                                       static_cast<int64_t>(copies.size()))[0]
                         .as<int64_t>();
      int64_t cursor = last - static_cast<int64_t>(copies.size());
      for (const auto& [i, k] : copies) {
        subscribers.Add(subscriber);
        cursors.Add(++cursor);
        delivery_mids.Add(mids[i]);
        data.Add(mutations[i].copies[k].data);
      }
    }
    if (!by_subscriber.empty()) {
      transaction.exec_params(kInsertDeliveries, subscribers.Take(), cursors.Take(),
                              delivery_mids.Take(), data.Take(), now_us);
    }
    for (size_t i = 0; i < mutations.size(); ++i) {
      if (!accepted[i] || !mutations[i].replaced_by) continue;
      CARREFOUR_ASSIGN_OR_RETURN(int64_t old_key, internal::NissKey(mutations[i].niss));
      CARREFOUR_ASSIGN_OR_RETURN(int64_t new_key, internal::NissKey(*mutations[i].replaced_by));
      transaction.exec_params(kCopyEntries, old_key, new_key);
      transaction.exec_params(kDeleteEntries, old_key);
      transaction.exec_params(kRecordReplacement, mutations[i].niss, *mutations[i].replaced_by,
                              internal::DayKey(mutations[i].effective), now_us);
    }
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return accepted;
}

Result<std::vector<Delivery>> PostgresMutationStore::ReadFeed(std::string_view subscriber,
                                                              int64_t acknowledged, size_t limit) {
  std::vector<Delivery> out;
  Status status = pool_.Run("reading a feed", [&](pqxx::connection& c) -> Status {
    out.clear();
    pqxx::work transaction(c);
    if (acknowledged > 0) {
      transaction.exec_params(kAcknowledge, std::string(subscriber), acknowledged);
    }
    for (const pqxx::row& row : transaction.exec_params(kFeed, std::string(subscriber),
                                                        acknowledged, static_cast<int64_t>(limit))) {
      Delivery& delivery = out.emplace_back();
      delivery.cursor = row[0].as<int64_t>();
      delivery.id = row[1].as<std::string>();
      delivery.source = row[2].as<std::string>();
      delivery.data_type = row[3].as<std::string>();
      delivery.niss = row[4].as<std::string>();
      delivery.effective = internal::DateFromKey(row[5].as<int64_t>());
      delivery.data = row[6].as<std::string>();
      delivery.accepted_us = row[7].as<int64_t>();
    }
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<bool> PostgresMutationStore::HasDeliveriesAfter(std::string_view subscriber,
                                                       int64_t cursor) {
  bool found = false;
  Status status = pool_.Run("looking at a feed", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    found = transaction.exec_params1(kAfter, std::string(subscriber), cursor)[0].as<bool>();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return found;
}

Result<PurgeCounts> PostgresMutationStore::Purge(int64_t cutoff_us) {
  PurgeCounts counts;
  Status status = pool_.Run("purging mutations", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    counts.expired_deliveries = transaction.exec_params(kExpire, cutoff_us).affected_rows();
    counts.forgotten_mutations = transaction.exec_params(kForget, cutoff_us).affected_rows();
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return counts;
}

Result<std::vector<FeedBacklog>> PostgresMutationStore::Backlog() {
  std::vector<FeedBacklog> out;
  Status status = pool_.Run("measuring the feeds", [&](pqxx::connection& c) -> Status {
    out.clear();
    pqxx::read_transaction transaction(c);
    for (const pqxx::row& row : transaction.exec(kBacklog)) {
      out.push_back(FeedBacklog{row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<PendingDelivery>> PostgresMutationStore::PendingDeliveriesOf(
    std::string_view niss, size_t limit) {
  std::vector<PendingDelivery> out;
  Status status = pool_.Run("reading a person's pending deliveries", [&](pqxx::connection& c) -> Status {
    out.clear();
    pqxx::read_transaction transaction(c);
    for (const pqxx::row& row :
         transaction.exec_params(kPendingOf, std::string(niss), static_cast<int64_t>(limit))) {
      PendingDelivery& pending = out.emplace_back();
      pending.subscriber = row[0].as<std::string>();
      pending.cursor = row[1].as<int64_t>();
      pending.id = row[2].as<std::string>();
      pending.source = row[3].as<std::string>();
      pending.data_type = row[4].as<std::string>();
      pending.effective = internal::DateFromKey(row[5].as<int64_t>());
      pending.accepted_us = row[6].as<int64_t>();
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<NissReplacement>> PostgresMutationStore::ReplacementOf(std::string_view niss) {
  std::optional<NissReplacement> out;
  Status status = pool_.Run("reading identity replacements", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    pqxx::result rows = transaction.exec_params(kReplacement, std::string(niss));
    if (!rows.empty()) {
      out = NissReplacement{std::string(niss), rows[0][0].as<std::string>(),
                            internal::DateFromKey(rows[0][1].as<int64_t>()),
                            rows[0][2].as<int64_t>()};
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

}  // namespace carrefour::store::postgres
