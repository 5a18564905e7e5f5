// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/mutation_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "store/internal/entries.h"
#include "store/internal/feed_block.h"
#include "store/sqlite/audit_store.h"

namespace carrefour::store::sqlite {
namespace {

constexpr const char kInsertMutation[] =
    "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us, data, pending) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (source, id) DO NOTHING";
// The counter row of a subscriber: bumped by the number of its new
// deliveries; the answer is the last cursor handed out.
constexpr const char kBumpFeed[] =
    "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES (?1, ?2) "
    "ON CONFLICT (subscriber) DO UPDATE SET last_cursor = last_cursor + excluded.last_cursor "
    "RETURNING last_cursor";
constexpr const char kInsertBlock[] =
    "INSERT INTO mutation_block (subscriber, last_cursor, first_cursor, acked, accepted_us, "
    "fields, entries) VALUES (?1, ?2, ?3, ?3 - 1, ?4, ?5, ?6)";
constexpr const char kCopyEntries[] =
    "INSERT OR IGNORE INTO directory_entry (niss, institution, capacity, valid_from, valid_to) "
    "SELECT ?2, institution, capacity, valid_from, valid_to FROM directory_entry WHERE niss = ?1";
constexpr const char kDeleteEntries[] = "DELETE FROM directory_entry WHERE niss = ?1";
constexpr const char kRecordReplacement[] =
    "INSERT OR REPLACE INTO niss_replacement (old_niss, new_niss, effective, replaced_us) "
    "VALUES (?1, ?2, ?3, ?4)";
constexpr const char kBlocksFrom[] =
    "SELECT last_cursor, first_cursor, acked, fields, entries, accepted_us FROM mutation_block "
    "WHERE subscriber = ?1 AND last_cursor > ?2 ORDER BY last_cursor";
constexpr const char kDeleteBlock[] =
    "DELETE FROM mutation_block WHERE subscriber = ?1 AND last_cursor = ?2";
constexpr const char kAckBlock[] =
    "UPDATE mutation_block SET acked = ?3 WHERE subscriber = ?1 AND last_cursor = ?2";
// ?3 copies fewer for each mutation from ?1 to ?2; the payload goes with
// the last one (secure_delete overwrites it in the file).
constexpr const char kReleaseCopies[] =
    "UPDATE mutation SET pending = pending - ?3, "
    "data = CASE WHEN pending <= ?3 THEN NULL ELSE data END WHERE mid BETWEEN ?1 AND ?2";
// The mutations from ?1 to ?2, in order: a feed's copies are mostly runs of
// consecutive numbers (a batch's), each read by one scan instead of a look-up
// per copy.
constexpr const char kMutations[] =
    "SELECT mid, id, source, data_type, niss, effective, data, accepted_us FROM mutation "
    "WHERE mid BETWEEN ?1 AND ?2 ORDER BY mid";
constexpr const char kAfter[] =
    "SELECT 1 FROM mutation_block WHERE subscriber = ?1 AND last_cursor > ?2 LIMIT 1";
constexpr const char kExpiredCount[] =
    "SELECT coalesce(sum(last_cursor - acked), 0) FROM mutation_block WHERE accepted_us < ?1";
constexpr const char kExpire[] = "DELETE FROM mutation_block WHERE accepted_us < ?1";
// Every block of an older mutation went above: no copy needs it any more.
constexpr const char kForget[] = "DELETE FROM mutation WHERE accepted_us < ?1";
constexpr const char kBacklog[] =
    "SELECT subscriber, sum(last_cursor - acked), min(accepted_us) FROM mutation_block "
    "GROUP BY subscriber ORDER BY subscriber";
// One probe of mutation_by_person per block of 16 384 numbers the table
// spans (migration 11).
constexpr const char kPendingMutationsOf[] =
    "WITH RECURSIVE b(k) AS (SELECT (SELECT min(mid) FROM mutation) >> 14 UNION ALL "
    "SELECT k + 1 FROM b WHERE k < (SELECT max(mid) FROM mutation) >> 14) "
    "SELECT m.mid, m.id, m.source, m.data_type, m.effective, m.accepted_us FROM b, mutation m "
    "WHERE m.mid >> 14 = b.k AND m.niss = ?1 AND m.pending > 0";
constexpr const char kBlocksAt[] =
    "SELECT subscriber, first_cursor, acked, fields, entries FROM mutation_block "
    "WHERE accepted_us = ?1";
constexpr const char kReplacement[] =
    "SELECT new_niss, effective, replaced_us FROM niss_replacement WHERE old_niss = ?1";

// Copies released per mutation (mid), written by ReleaseCopies: the
// acknowledgements of several feeds in one transaction (the group's)
// rewrite each mutation row once, not once per subscriber.
using Released = std::map<int64_t, int64_t>;

// Each released mutation has that many copies fewer (its payload goes with
// the last), in mid order: one statement per run of consecutive numbers
// released alike (a feed's block is mostly one run: a statement instead of
// one per copy).
Status ReleaseCopies(Connection& connection, const Released& released) {
  if (released.empty()) return OkStatus();
  CARREFOUR_ASSIGN_OR_RETURN(Statement * release, connection.Prepare(kReleaseCopies));
  for (auto it = released.begin(); it != released.end();) {
    const auto [first, copies] = *it;
    int64_t last = first;
    for (++it; it != released.end() && it->first == last + 1 && it->second == copies; ++it) {
      last = it->first;
    }
    ScopedReset reset(*release);
    release->Bind(1, first);
    release->Bind(2, last);
    release->Bind(3, copies);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, release->Step());
    (void)row;
  }
  return OkStatus();
}

// Releases `subscriber`'s deliveries up to `acknowledged`: each copy is
// counted in `released` (for ReleaseCopies), wholly acknowledged blocks are
// deleted, a partly acknowledged one keeps its mark.
Status Release(Connection& connection, std::string_view subscriber, int64_t acknowledged,
               Released& released) {
  struct Done {
    int64_t last, first, acked;
    std::string entries;
  };
  std::vector<Done> blocks;
  {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kBlocksFrom));
    ScopedReset reset(*query);
    query->Bind(1, subscriber);
    query->Bind(2, int64_t{0});
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row || query->ColumnInt(1) > acknowledged) break;
      blocks.push_back(Done{query->ColumnInt(0), query->ColumnInt(1), query->ColumnInt(2),
                            std::string(query->ColumnText(4))});
    }
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * remove, connection.Prepare(kDeleteBlock));
  CARREFOUR_ASSIGN_OR_RETURN(Statement * advance, connection.Prepare(kAckBlock));
  for (const Done& done : blocks) {
    CARREFOUR_ASSIGN_OR_RETURN(internal::FeedBlock block,
                               internal::FeedBlock::DecodeEntries(done.entries));
    const int64_t upto = std::min(done.last, acknowledged);
    if (upto <= done.acked) continue;  // acknowledged before: a late or repeated ack
    for (int64_t cursor = std::max(done.acked + 1, done.first); cursor <= upto; ++cursor) {
      const size_t k = static_cast<size_t>(cursor - done.first);
      if (k >= block.entries.size()) return Internal("sqlite: a feed block is short");
      ++released[block.entries[k].mid];
    }
    Statement* change = upto == done.last ? remove : advance;
    ScopedReset reset(*change);
    change->Bind(1, subscriber);
    change->Bind(2, done.last);
    if (change == advance) change->Bind(3, upto);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, change->Step());
    (void)row;
  }
  return OkStatus();
}

// A copy found in a feed block: its cursor, its mutation, its fields.
struct BlockCopy {
  int64_t cursor;
  int64_t mid;
  const std::vector<std::string>* fields;  // into `blocks`; nullptr = all
};

// The deliveries of `subscriber` after `after`, at most `limit`, read on
// `connection` inside its transaction (DeliveriesAfter's, or the accepting
// one's: AuditTrail's FeedReader).
Status ReadDeliveries(Connection& connection, std::string_view subscriber, int64_t after,
                      size_t limit, std::vector<Delivery>& out) {
  out.clear();
  std::vector<internal::FeedBlock> blocks;
  std::vector<BlockCopy> copies;
  std::vector<int64_t> accepted;
  {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kBlocksFrom));
    ScopedReset reset(*query);
    query->Bind(1, subscriber);
    query->Bind(2, after);
    // Field lists point into `blocks`: reserve so that they stay put.
    blocks.reserve(limit);
    while (copies.size() < limit && blocks.size() < limit) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) break;
      const int64_t first = query->ColumnInt(1);
      const int64_t from = std::max({query->ColumnInt(2), after, first - 1}) + 1;
      CARREFOUR_ASSIGN_OR_RETURN(
          internal::FeedBlock block,
          internal::FeedBlock::Decode(query->ColumnText(3), query->ColumnText(4)));
      blocks.push_back(std::move(block));
      const internal::FeedBlock& kept = blocks.back();
      for (size_t k = static_cast<size_t>(from - first);
           k < kept.entries.size() && copies.size() < limit; ++k) {
        const internal::FeedBlock::Entry& entry = kept.entries[k];
        copies.push_back(BlockCopy{first + static_cast<int64_t>(k), entry.mid,
                                   entry.fields < 0 ? nullptr : &kept.field_lists[entry.fields]});
      }
    }
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kMutations));
  out.reserve(copies.size());
  for (size_t first = 0; first < copies.size();) {
    size_t end = first + 1;  // copies[first, end): consecutive numbers
    while (end < copies.size() && copies[end].mid == copies[end - 1].mid + 1) ++end;
    ScopedReset reset(*query);
    query->Bind(1, copies[first].mid);
    query->Bind(2, copies[end - 1].mid);
    for (size_t k = first; k < end; ++k) {
      const BlockCopy& copy = copies[k];
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row || query->ColumnInt(0) != copy.mid || query->ColumnIsNull(6)) {
        return Internal(fmt::format("sqlite: delivery {} of {} has no mutation", copy.cursor,
                                    subscriber));
      }
      Delivery& delivery = out.emplace_back();
      delivery.cursor = copy.cursor;
      delivery.id = query->ColumnText(1);
      delivery.source = query->ColumnText(2);
      delivery.data_type = query->ColumnText(3);
      delivery.niss = query->ColumnText(4);
      delivery.effective = internal::DateFromKey(query->ColumnInt(5));
      CARREFOUR_ASSIGN_OR_RETURN(delivery.data,
                                 internal::CutPayload(query->ColumnText(6), copy.fields));
      delivery.accepted_us = query->ColumnInt(7);
    }
    first = end;
  }
  return OkStatus();
}

// Every feed's acknowledgement, each mutation row rewritten once.
Status ReleaseAll(Connection& connection, std::span<const FeedAck> acks) {
  Released released;
  for (const FeedAck& ack : acks) {
    CARREFOUR_RETURN_IF_ERROR(Release(connection, ack.subscriber, ack.acknowledged, released));
  }
  return ReleaseCopies(connection, released);
}

// Feeds read inside the transaction open on `connection`.
FeedReader ReaderOn(Connection& connection) {
  return [&connection](std::string_view subscriber, int64_t after,
                       size_t limit) -> Result<std::vector<Delivery>> {
    std::vector<Delivery> out;
    CARREFOUR_RETURN_IF_ERROR(ReadDeliveries(connection, subscriber, after, limit, out));
    return out;
  };
}

}  // namespace

Result<std::vector<bool>> SqliteMutationStore::AcceptMutations(
    std::span<const NewMutation> mutations, int64_t now_us, const AuditTrail& trail,
    std::span<const FeedAck> acks) {
  std::vector<bool> accepted(mutations.size(), false);
  Status status = database_.Write([&](Connection& connection) -> Status {
    std::fill(accepted.begin(), accepted.end(), false);
    CARREFOUR_RETURN_IF_ERROR(ReleaseAll(connection, acks));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsertMutation));
    std::vector<int64_t> mids(mutations.size(), 0);
    // Copies per subscriber, in batch order: (mutation index, copy index).
    std::map<std::string_view, std::vector<std::pair<size_t, size_t>>> by_subscriber;
    for (size_t i = 0; i < mutations.size(); ++i) {
      const NewMutation& mutation = mutations[i];
      ScopedReset reset(*insert);  // `mutation` outlives the Step: nothing copied
      insert->BindUnowned(1, mutation.source);
      insert->BindUnowned(2, mutation.id);
      insert->BindUnowned(3, mutation.data_type);
      insert->BindUnowned(4, mutation.niss);
      insert->Bind(5, int64_t{internal::DayKey(mutation.effective)});
      insert->Bind(6, now_us);
      // No copy, no payload: nobody may receive it, the hub keeps none of it.
      if (mutation.copies.empty()) {
        insert->Bind(7, std::optional<int64_t>());
      } else {
        insert->BindUnowned(7, mutation.data);
      }
      insert->Bind(8, static_cast<int64_t>(mutation.copies.size()));
      CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
      (void)row;
      // No RETURNING (SQLite gathers its rows in a temporary table per
      // execution): a row inserted, or (source, id) already there.
      if (insert->Changes() == 0) continue;  // a duplicate
      mids[i] = insert->LastInsertRowid();
      accepted[i] = true;
      for (size_t c = 0; c < mutation.copies.size(); ++c) {
        by_subscriber[mutation.copies[c].subscriber].emplace_back(i, c);
      }
    }
    CARREFOUR_ASSIGN_OR_RETURN(Statement * bump, connection.Prepare(kBumpFeed));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * block_insert, connection.Prepare(kInsertBlock));
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
      internal::FeedBlock block;
      for (const auto& [i, c] : copies) block.Add(mids[i], mutations[i].copies[c].fields);
      ScopedReset reset(*block_insert);
      block_insert->Bind(1, subscriber);
      block_insert->Bind(2, last);
      block_insert->Bind(3, last - static_cast<int64_t>(copies.size()) + 1);
      block_insert->Bind(4, now_us);
      block_insert->Bind(5, block.EncodeFields());
      block_insert->Bind(6, block.EncodeEntries());
      CARREFOUR_ASSIGN_OR_RETURN(bool row, block_insert->Step());
      (void)row;
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
    if (trail) {
      // The batch's trace, in the same transaction: one durable write.
      CARREFOUR_ASSIGN_OR_RETURN(ChainedRecords chained, trail(accepted, ReaderOn(connection)));
      CARREFOUR_RETURN_IF_ERROR(WriteAudit(connection, chained.records, chained.checkpoint));
    }
    return OkStatus();
  });
  // An identity replacement moved directory entries: a replica of the
  // directory in this process must catch up before it is trusted again.
  if (std::any_of(mutations.begin(), mutations.end(),
                  [](const NewMutation& m) { return m.replaced_by.has_value(); })) {
    directory_.CountWrite();
  }
  if (!status.ok()) return Error(std::move(status));
  return accepted;
}

Result<std::vector<Delivery>> SqliteMutationStore::DeliveriesAfter(std::string_view subscriber,
                                                                   int64_t after, size_t limit) {
  std::vector<Delivery> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    // Blocks and mutations from one snapshot.
    CARREFOUR_RETURN_IF_ERROR(connection.Exec("BEGIN"));
    Status read = ReadDeliveries(connection, subscriber, after, limit, out);
    Status ended = connection.Exec(read.ok() ? "COMMIT" : "ROLLBACK");
    return read.ok() ? ended : read;
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
    {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * count, connection.Prepare(kExpiredCount));
      ScopedReset reset(*count);
      count->Bind(1, cutoff_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, count->Step());
      counts.expired_deliveries = row ? count->ColumnInt(0) : 0;
    }
    for (const char* sql : {kExpire, kForget}) {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * remove, connection.Prepare(sql));
      ScopedReset reset(*remove);
      remove->Bind(1, cutoff_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, remove->Step());
      (void)row;
      if (sql == kForget) counts.forgotten_mutations = remove->Changes();
    }
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
    CARREFOUR_RETURN_IF_ERROR(connection.Exec("BEGIN"));
    Status read = [&]() -> Status {
      // The person's mutations with a copy waiting, then the blocks written
      // with them (same acceptance time) for who waits for which.
      std::map<int64_t, PendingDelivery> of_mid;
      std::set<int64_t> times;
      {
        CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kPendingMutationsOf));
        ScopedReset reset(*query);
        query->Bind(1, niss);
        while (true) {
          CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
          if (!row) break;
          PendingDelivery& pending = of_mid[query->ColumnInt(0)];
          pending.id = query->ColumnText(1);
          pending.source = query->ColumnText(2);
          pending.data_type = query->ColumnText(3);
          pending.effective = internal::DateFromKey(query->ColumnInt(4));
          pending.accepted_us = query->ColumnInt(5);
          times.insert(pending.accepted_us);
        }
      }
      CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kBlocksAt));
      for (int64_t time : times) {
        ScopedReset reset(*query);
        query->Bind(1, time);
        while (true) {
          CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
          if (!row) break;
          const int64_t first = query->ColumnInt(1), acked = query->ColumnInt(2);
          CARREFOUR_ASSIGN_OR_RETURN(internal::FeedBlock block,
                                     internal::FeedBlock::DecodeEntries(query->ColumnText(4)));
          for (size_t k = 0; k < block.entries.size(); ++k) {
            const int64_t cursor = first + static_cast<int64_t>(k);
            auto found = of_mid.find(block.entries[k].mid);
            if (cursor <= acked || found == of_mid.end()) continue;
            PendingDelivery& pending = out.emplace_back(found->second);
            pending.subscriber = query->ColumnText(0);
            pending.cursor = cursor;
          }
        }
      }
      return OkStatus();
    }();
    Status ended = connection.Exec(read.ok() ? "COMMIT" : "ROLLBACK");
    return read.ok() ? ended : read;
  });
  if (!status.ok()) return Error(std::move(status));
  std::sort(out.begin(), out.end(), [](const PendingDelivery& a, const PendingDelivery& b) {
    return std::tie(a.accepted_us, a.subscriber, a.cursor) <
           std::tie(b.accepted_us, b.subscriber, b.cursor);
  });
  if (out.size() > limit) out.resize(limit);
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
