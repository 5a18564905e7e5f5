#include "store/sqlite/mutation_store.h"

#include <map>

#include "store/internal/entries.h"

namespace carrefour::store::sqlite {
namespace {

constexpr const char kInsertMutation[] =
    "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, id) DO NOTHING RETURNING mid";
// The counter row of a subscriber: bumped by the number of its new
// deliveries; the answer is the last cursor handed out.
constexpr const char kBumpFeed[] =
    "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES (?1, ?2) "
    "ON CONFLICT (subscriber) DO UPDATE SET last_cursor = last_cursor + excluded.last_cursor "
    "RETURNING last_cursor";
constexpr const char kInsertDelivery[] =
    "INSERT INTO mutation_delivery (subscriber, cursor, mid, data, accepted_us) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kCopyEntries[] =
    "INSERT OR IGNORE INTO directory_entry (niss, institution, capacity, valid_from, valid_to) "
    "SELECT ?2, institution, capacity, valid_from, valid_to FROM directory_entry WHERE niss = ?1";
constexpr const char kDeleteEntries[] = "DELETE FROM directory_entry WHERE niss = ?1";
constexpr const char kRecordReplacement[] =
    "INSERT OR REPLACE INTO niss_replacement (old_niss, new_niss, effective, replaced_us) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr const char kAcknowledged[] =
    "SELECT 1 FROM mutation_delivery WHERE subscriber = ?1 AND cursor <= ?2 LIMIT 1";
constexpr const char kAcknowledge[] =
    "DELETE FROM mutation_delivery WHERE subscriber = ?1 AND cursor <= ?2";
constexpr const char kFeed[] =
    "SELECT d.cursor, m.id, m.source, m.data_type, m.niss, m.effective, d.data, d.accepted_us "
    "FROM mutation_delivery d JOIN mutation m ON m.mid = d.mid "
    "WHERE d.subscriber = ?1 AND d.cursor > ?2 ORDER BY d.cursor LIMIT ?3";
constexpr const char kAfter[] =
    "SELECT 1 FROM mutation_delivery WHERE subscriber = ?1 AND cursor > ?2 LIMIT 1";
constexpr const char kExpire[] = "DELETE FROM mutation_delivery WHERE accepted_us < ?1";
constexpr const char kForget[] =
    "DELETE FROM mutation WHERE accepted_us < ?1 AND NOT EXISTS "
    "(SELECT 1 FROM mutation_delivery d WHERE d.mid = mutation.mid)";
constexpr const char kBacklog[] =
    "SELECT subscriber, count(*), min(accepted_us) FROM mutation_delivery GROUP BY subscriber "
    "ORDER BY subscriber";
constexpr const char kReplacement[] =
    "SELECT new_niss, effective, replaced_us FROM niss_replacement WHERE old_niss = ?1";
constexpr const char kPendingOf[] =
    "SELECT d.subscriber, d.cursor, m.id, m.source, m.data_type, m.effective, d.accepted_us "
    "FROM mutation m JOIN mutation_delivery d ON d.mid = m.mid WHERE m.niss = ?1 "
    "ORDER BY d.accepted_us, d.subscriber, d.cursor LIMIT ?2";

}  // namespace

Result<std::vector<bool>> SqliteMutationStore::AcceptMutations(
    std::span<const NewMutation> mutations, int64_t now_us) {
  std::vector<bool> accepted(mutations.size(), false);
  Status status = database_.Write([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsertMutation));
    std::vector<int64_t> mids(mutations.size(), 0);
    // Deliveries per subscriber, in batch order: (mutation index, copy index).
    std::map<std::string_view, std::vector<std::pair<size_t, size_t>>> by_subscriber;
    for (size_t i = 0; i < mutations.size(); ++i) {
      const NewMutation& mutation = mutations[i];
      ScopedReset reset(*insert);
      insert->Bind(1, mutation.source);
      insert->Bind(2, mutation.id);
      insert->Bind(3, mutation.data_type);
      insert->Bind(4, mutation.niss);
      insert->Bind(5, int64_t{internal::DayKey(mutation.effective)});
      insert->Bind(6, now_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
      if (!row) continue;  // (source, id) already there: a duplicate
      mids[i] = insert->ColumnInt(0);
      accepted[i] = true;
      for (size_t c = 0; c < mutation.copies.size(); ++c) {
        by_subscriber[mutation.copies[c].subscriber].emplace_back(i, c);
      }
    }
    CARREFOUR_ASSIGN_OR_RETURN(Statement * bump, connection.Prepare(kBumpFeed));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * deliver, connection.Prepare(kInsertDelivery));
    for (const auto& [subscriber, copies] : by_subscriber) {
      int64_t last = 0;
      {
        ScopedReset reset(*bump);
        bump->Bind(1, subscriber);
        bump->Bind(2, static_cast<int64_t>(copies.size()));
        CARREFOUR_ASSIGN_OR_RETURN(bool row, bump->Step());
        if (!row) return Internal("sqlite: the feed counter returned no row");
        last = bump->ColumnInt(0);
      }
      int64_t cursor = last - static_cast<int64_t>(copies.size());
      for (const auto& [i, c] : copies) {
        ScopedReset reset(*deliver);
        deliver->Bind(1, subscriber);
        deliver->Bind(2, ++cursor);
        deliver->Bind(3, mids[i]);
        deliver->Bind(4, mutations[i].copies[c].data);
        deliver->Bind(5, now_us);
        CARREFOUR_ASSIGN_OR_RETURN(bool row, deliver->Step());
        (void)row;
      }
    }
    for (size_t i = 0; i < mutations.size(); ++i) {
      if (!accepted[i] || !mutations[i].replaced_by) continue;
      CARREFOUR_ASSIGN_OR_RETURN(int64_t old_key, internal::NissKey(mutations[i].niss));
      CARREFOUR_ASSIGN_OR_RETURN(int64_t new_key, internal::NissKey(*mutations[i].replaced_by));
      for (const char* sql : {kCopyEntries, kDeleteEntries}) {
        CARREFOUR_ASSIGN_OR_RETURN(Statement * move, connection.Prepare(sql));
        ScopedReset reset(*move);
        move->Bind(1, old_key);
        if (sql == kCopyEntries) move->Bind(2, new_key);
        CARREFOUR_ASSIGN_OR_RETURN(bool row, move->Step());
        (void)row;
      }
      CARREFOUR_ASSIGN_OR_RETURN(Statement * record, connection.Prepare(kRecordReplacement));
      ScopedReset reset(*record);
      record->Bind(1, mutations[i].niss);
      record->Bind(2, *mutations[i].replaced_by);
      record->Bind(3, int64_t{internal::DayKey(mutations[i].effective)});
      record->Bind(4, now_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, record->Step());
      (void)row;
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return accepted;
}

Result<std::vector<Delivery>> SqliteMutationStore::ReadFeed(std::string_view subscriber,
                                                            int64_t acknowledged, size_t limit) {
  // Acknowledging takes the single writer: do it only when there is
  // something to forget (most reads of a caught-up feed have nothing).
  bool to_forget = false;
  if (acknowledged > 0) {
    Status checked = database_.Read([&](Connection& connection) -> Status {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kAcknowledged));
      ScopedReset reset(*query);
      query->Bind(1, subscriber);
      query->Bind(2, acknowledged);
      CARREFOUR_ASSIGN_OR_RETURN(to_forget, query->Step());
      return OkStatus();
    });
    if (!checked.ok()) return Error(std::move(checked));
  }
  if (to_forget) {
    Status forgotten = database_.Write([&](Connection& connection) -> Status {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * remove, connection.Prepare(kAcknowledge));
      ScopedReset reset(*remove);
      remove->Bind(1, subscriber);
      remove->Bind(2, acknowledged);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, remove->Step());
      (void)row;
      return OkStatus();
    });
    if (!forgotten.ok()) return Error(std::move(forgotten));
  }
  std::vector<Delivery> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kFeed));
    ScopedReset reset(*query);
    query->Bind(1, subscriber);
    query->Bind(2, acknowledged);
    query->Bind(3, static_cast<int64_t>(limit));
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      Delivery& delivery = out.emplace_back();
      delivery.cursor = query->ColumnInt(0);
      delivery.id = query->ColumnText(1);
      delivery.source = query->ColumnText(2);
      delivery.data_type = query->ColumnText(3);
      delivery.niss = query->ColumnText(4);
      delivery.effective = internal::DateFromKey(query->ColumnInt(5));
      delivery.data = query->ColumnText(6);
      delivery.accepted_us = query->ColumnInt(7);
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<bool> SqliteMutationStore::HasDeliveriesAfter(std::string_view subscriber, int64_t cursor) {
  bool found = false;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kAfter));
    ScopedReset reset(*query);
    query->Bind(1, subscriber);
    query->Bind(2, cursor);
    CARREFOUR_ASSIGN_OR_RETURN(found, query->Step());
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return found;
}

Result<PurgeCounts> SqliteMutationStore::Purge(int64_t cutoff_us) {
  PurgeCounts counts;
  Status status = database_.Write([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * expire, connection.Prepare(kExpire));
    {
      ScopedReset reset(*expire);
      expire->Bind(1, cutoff_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, expire->Step());
      (void)row;
      counts.expired_deliveries = expire->Changes();
    }
    CARREFOUR_ASSIGN_OR_RETURN(Statement * forget, connection.Prepare(kForget));
    ScopedReset reset(*forget);
    forget->Bind(1, cutoff_us);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, forget->Step());
    (void)row;
    counts.forgotten_mutations = forget->Changes();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return counts;
}

Result<std::vector<FeedBacklog>> SqliteMutationStore::Backlog() {
  std::vector<FeedBacklog> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kBacklog));
    ScopedReset reset(*query);
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      out.push_back(FeedBacklog{std::string(query->ColumnText(0)), query->ColumnInt(1),
                                query->ColumnInt(2)});
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::vector<PendingDelivery>> SqliteMutationStore::PendingDeliveriesOf(
    std::string_view niss, size_t limit) {
  std::vector<PendingDelivery> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kPendingOf));
    ScopedReset reset(*query);
    query->Bind(1, niss);
    query->Bind(2, static_cast<int64_t>(limit));
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      PendingDelivery& pending = out.emplace_back();
      pending.subscriber = query->ColumnText(0);
      pending.cursor = query->ColumnInt(1);
      pending.id = query->ColumnText(2);
      pending.source = query->ColumnText(3);
      pending.data_type = query->ColumnText(4);
      pending.effective = internal::DateFromKey(query->ColumnInt(5));
      pending.accepted_us = query->ColumnInt(6);
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<NissReplacement>> SqliteMutationStore::ReplacementOf(std::string_view niss) {
  std::optional<NissReplacement> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kReplacement));
    ScopedReset reset(*query);
    query->Bind(1, niss);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) {
      out = NissReplacement{std::string(niss), std::string(query->ColumnText(0)),
                            internal::DateFromKey(query->ColumnInt(1)), query->ColumnInt(2)};
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

}  // namespace carrefour::store::sqlite
