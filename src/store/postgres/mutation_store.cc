// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/mutation_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "store/internal/entries.h"
#include "store/internal/feed_block.h"
#include "store/postgres/audit_store.h"

namespace carrefour::store::postgres {
namespace {

// The whole batch in one statement. In-batch repeats of an id conflict with
// the row inserted earlier in the same statement and are skipped: the first
// occurrence wins, as in SQLite.
constexpr const char kInsertMutations[] =
    "INSERT INTO mutation (source, id, data_type, niss, effective, accepted_us, data, pending) "
    "SELECT source, id, data_type, niss, effective, $6, data, pending FROM unnest("
    "$1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $7::text[], $8::integer[]) "
    "WITH ORDINALITY AS i(source, id, data_type, niss, effective, data, pending, idx) ORDER BY idx "
    "ON CONFLICT (source, id) DO NOTHING RETURNING source, id, mid";
// The counter row of a subscriber. Its row lock is held until commit, so a
// second transaction giving cursors to the same subscriber waits and commits
// after: cursors become visible in increasing order (docs/mutations.md).
// Every subscriber's counter ($1[i] bumped by $2[i], in subscriber order),
// and its block ($3[i] its field lists, $4[i] its entries) ending at the
// counter's new value: one round trip for the batch.
constexpr const char kBumpFeedsAndInsertBlocks[] =
    "WITH bumped AS (INSERT INTO mutation_feed (subscriber, last_cursor) "
    "  SELECT s, n FROM unnest($1::text[], $2::bigint[]) AS i(s, n) ORDER BY s COLLATE \"C\" "
    "  ON CONFLICT (subscriber) DO UPDATE SET last_cursor = mutation_feed.last_cursor + "
    "  excluded.last_cursor RETURNING subscriber, last_cursor) "
    "INSERT INTO mutation_block (subscriber, last_cursor, first_cursor, acked, accepted_us, "
    "fields, entries) SELECT b.subscriber, b.last_cursor, b.last_cursor - i.n + 1, "
    "b.last_cursor - i.n, $5, i.fl, i.e FROM bumped b JOIN unnest($1::text[], $2::bigint[], "
    "$3::text[], $4::text[]) AS i(s, n, fl, e) ON i.s = b.subscriber";
constexpr const char kCopyEntries[] =
    "INSERT INTO directory_entry (niss, institution, capacity, valid_from, valid_to) "
    "SELECT $2, institution, capacity, valid_from, valid_to FROM directory_entry WHERE niss = $1 "
    "ON CONFLICT DO NOTHING";
constexpr const char kDeleteEntries[] = "DELETE FROM directory_entry WHERE niss = $1";
constexpr const char kRecordReplacement[] =
    "INSERT INTO niss_replacement (old_niss, new_niss, effective, replaced_us) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (old_niss) DO UPDATE SET new_niss = excluded.new_niss, "
    "effective = excluded.effective, replaced_us = excluded.replaced_us";
// The blocks the acknowledgements reach (feed $1[i] up to $2[i]), locked
// in (subscriber, cursor) order: two hubs acknowledging the same feeds at
// once release each copy once, and never wait for each other in a cycle.
constexpr const char kBlocksToAcknowledge[] =
    "SELECT b.subscriber, b.last_cursor, b.first_cursor, b.acked, b.entries, a.upto "
    "FROM mutation_block b JOIN unnest($1::text[], $2::bigint[]) AS a(s, upto) "
    "ON b.subscriber = a.s WHERE b.first_cursor <= a.upto AND b.acked < a.upto "
    "ORDER BY b.subscriber, b.last_cursor FOR UPDATE OF b";
// One copy fewer for each mutation; the payload goes with the last one.
// Rows are locked in mid order: concurrent acknowledgements of several
// feeds never wait for each other in a cycle.
// $2[i] copies fewer for mutation $1[i] (the rows locked in mid order).
constexpr const char kReleaseCopies[] =
    "UPDATE mutation m SET pending = m.pending - l.n, "
    "data = CASE WHEN m.pending <= l.n THEN NULL ELSE m.data END "
    "FROM (SELECT x.mid, u.n FROM unnest($1::bigint[], $2::bigint[]) AS u(mid, n) "
    "JOIN mutation x ON x.mid = u.mid ORDER BY x.mid FOR UPDATE OF x) l "
    "WHERE m.mid = l.mid";
// Feed $1[i]'s blocks wholly acknowledged (up to $2[i]) go; the one it
// ends in keeps its mark.
constexpr const char kDeleteBlocks[] =
    "DELETE FROM mutation_block b USING unnest($1::text[], $2::bigint[]) AS a(s, upto) "
    "WHERE b.subscriber = a.s AND b.last_cursor <= a.upto";
constexpr const char kAckBlock[] =
    "UPDATE mutation_block b SET acked = a.upto FROM unnest($1::text[], $2::bigint[]) "
    "AS a(s, upto) WHERE b.subscriber = a.s AND b.first_cursor <= a.upto "
    "AND b.last_cursor > a.upto AND b.acked < a.upto";
constexpr const char kBlocksAfter[] =
    "SELECT first_cursor, acked, fields, entries FROM mutation_block "
    "WHERE subscriber = $1 AND last_cursor > $2 ORDER BY last_cursor LIMIT $3";
constexpr const char kMutations[] =
    "SELECT mid, id, source, data_type, niss, effective, data, accepted_us FROM mutation "
    "WHERE mid = ANY($1::bigint[]) AND data IS NOT NULL";
constexpr const char kAfter[] =
    "SELECT EXISTS (SELECT 1 FROM mutation_block WHERE subscriber = $1 AND last_cursor > $2)";
constexpr const char kExpiredCount[] =
    "SELECT coalesce(sum(last_cursor - acked), 0) FROM mutation_block WHERE accepted_us < $1";
constexpr const char kExpire[] = "DELETE FROM mutation_block WHERE accepted_us < $1";
// Every block of an older mutation went above: no copy needs it any more.
constexpr const char kForget[] = "DELETE FROM mutation WHERE accepted_us < $1";
constexpr const char kBacklog[] =
    "SELECT subscriber, sum(last_cursor - acked), min(accepted_us) FROM mutation_block "
    "GROUP BY subscriber ORDER BY subscriber";
// One probe of mutation_by_person per block of 16 384 numbers the table
// spans (migration 11). OFFSET 0 keeps the planner from turning the probes
// into a join, which it would rather do by reading the whole table.
constexpr const char kPendingMutationsOf[] =
    "SELECT m.mid, m.id, m.source, m.data_type, m.effective, m.accepted_us "
    "FROM generate_series((SELECT min(mid) FROM mutation) >> 14, "
    "                     (SELECT max(mid) FROM mutation) >> 14) AS b(k), "
    "LATERAL (SELECT * FROM mutation x WHERE (x.mid >> 14) = b.k AND x.niss = $1 "
    "         AND x.pending > 0 OFFSET 0) m";
constexpr const char kBlocksAt[] =
    "SELECT subscriber, first_cursor, acked, entries FROM mutation_block "
    "WHERE accepted_us = ANY($1::bigint[])";
constexpr const char kReplacement[] =
    "SELECT new_niss, effective, replaced_us FROM niss_replacement WHERE old_niss = $1";
// The statements a publication, an acknowledgement and a feed read run,
// prepared on every connection of the pool (PostgresMutationStore::
// Statements): planned once, not at every execution.
struct Hot {
  const char* name;
  const char* sql;
};
constexpr Hot kHot[] = {
    {"mutation_insert", kInsertMutations},
    {"mutation_bump_feeds", kBumpFeedsAndInsertBlocks},
    {"mutation_blocks_to_ack", kBlocksToAcknowledge},
    {"mutation_delete_blocks", kDeleteBlocks},
    {"mutation_ack_block", kAckBlock},
    {"mutation_release", kReleaseCopies},
    {"mutation_blocks_after", kBlocksAfter},
    {"mutation_rows", kMutations},
    {"mutation_any_after", kAfter},
};

// The prepared name of `sql`, one of kHot's (any other does not compile).
consteval const char* Name(const char* sql) {
  for (const Hot& hot : kHot) {
    if (hot.sql == sql) return hot.name;
  }
  throw "not a prepared statement of the mutation section";
}

// Copies released per mutation (mid), written by ReleaseCopies: the
// acknowledgements of several feeds in one transaction (the group's)
// rewrite each mutation row once, not once per subscriber.
using Released = std::map<int64_t, int64_t>;

// Each released mutation has that many copies fewer (its payload goes with
// the last).
void ReleaseCopies(pqxx::work& transaction, const Released& released) {
  if (released.empty()) return;
  ArrayLiteral mids, counts;
  for (const auto& [mid, copies] : released) {
    mids.Add(mid);
    counts.Add(copies);
  }
  transaction.exec_prepared(Name(kReleaseCopies), mids.Take(), counts.Take());
}

// The deliveries of `name` after `after`, at most `limit`, read in
// `transaction` (DeliveriesAfter's, or the accepting one's: AuditTrail's
// FeedReader).
Status ReadDeliveries(pqxx::transaction_base& transaction, const std::string& name, int64_t after,
                      size_t limit, std::vector<Delivery>& out) {
  out.clear();
  std::vector<internal::FeedBlock> blocks;
  struct Copy {
    int64_t cursor;
    int64_t mid;
    const std::vector<std::string>* fields;
  };
  std::vector<Copy> copies;
  pqxx::result rows =
      transaction.exec_prepared(Name(kBlocksAfter), name, after, static_cast<int64_t>(limit));
  blocks.reserve(rows.size());
  ArrayLiteral wanted;
  for (const pqxx::row& row : rows) {
    if (copies.size() >= limit) break;
    const int64_t first = row[0].as<int64_t>();
    const int64_t from = std::max({row[1].as<int64_t>(), after, first - 1}) + 1;
    CARREFOUR_ASSIGN_OR_RETURN(
        internal::FeedBlock block,
        internal::FeedBlock::Decode(row[2].as<std::string>(), row[3].as<std::string>()));
    blocks.push_back(std::move(block));
    const internal::FeedBlock& kept = blocks.back();
    for (size_t k = static_cast<size_t>(from - first);
         k < kept.entries.size() && copies.size() < limit; ++k) {
      const internal::FeedBlock::Entry& entry = kept.entries[k];
      copies.push_back(Copy{first + static_cast<int64_t>(k), entry.mid,
                            entry.fields < 0 ? nullptr : &kept.field_lists[entry.fields]});
      wanted.Add(entry.mid);
    }
  }
  if (!copies.empty()) {
    std::unordered_map<int64_t, pqxx::row> of_mid;
    pqxx::result found = transaction.exec_prepared(Name(kMutations), wanted.Take());
    for (const pqxx::row& row : found) of_mid.emplace(row[0].as<int64_t>(), row);
    out.reserve(copies.size());
    for (const Copy& copy : copies) {
      auto it = of_mid.find(copy.mid);
      // Gone: acknowledged meanwhile by another read of the same feed.
      if (it == of_mid.end()) continue;
      const pqxx::row& row = it->second;
      Delivery& delivery = out.emplace_back();
      delivery.cursor = copy.cursor;
      delivery.id = row[1].as<std::string>();
      delivery.source = row[2].as<std::string>();
      delivery.data_type = row[3].as<std::string>();
      delivery.niss = row[4].as<std::string>();
      delivery.effective = internal::DateFromKey(row[5].as<int64_t>());
      CARREFOUR_ASSIGN_OR_RETURN(
          delivery.data, internal::CutPayload(row[6].as<std::string>(), copy.fields));
      delivery.accepted_us = row[7].as<int64_t>();
    }
  }
  return OkStatus();
}

// Every feed's acknowledgement in three statements (whatever the number of
// feeds), then each mutation row updated once: each copy up to a feed's
// acknowledgement is released, wholly acknowledged blocks are deleted, a
// partly acknowledged one keeps its mark.
Status ReleaseAll(pqxx::work& transaction, std::span<const FeedAck> acks) {
  if (acks.empty()) return OkStatus();
  std::map<std::string_view, int64_t> upto;  // one row per feed in the joins
  for (const FeedAck& ack : acks) {
    auto [it, added] = upto.emplace(ack.subscriber, ack.acknowledged);
    if (!added) it->second = std::max(it->second, ack.acknowledged);
  }
  ArrayLiteral subscribers, cursors;
  for (const auto& [subscriber, cursor] : upto) {
    subscribers.Add(subscriber);
    cursors.Add(cursor);
  }
  const std::string names = subscribers.Take(), acknowledged = cursors.Take();
  Released released;
  // Which of the two block statements has rows to change: a round trip
  // each, and a trickle's read acknowledges whole blocks only.
  bool whole = false, partial = false;
  for (const pqxx::row& row : transaction.exec_prepared(Name(kBlocksToAcknowledge), names, acknowledged)) {
    const int64_t last = row[1].as<int64_t>(), first = row[2].as<int64_t>(),
                  acked = row[3].as<int64_t>(), until = row[5].as<int64_t>();
    (last <= until ? whole : partial) = true;
    CARREFOUR_ASSIGN_OR_RETURN(internal::FeedBlock block,
                               internal::FeedBlock::DecodeEntries(row[4].as<std::string>()));
    for (int64_t cursor = std::max(acked + 1, first); cursor <= std::min(last, until); ++cursor) {
      const size_t k = static_cast<size_t>(cursor - first);
      if (k >= block.entries.size()) return Internal("postgresql: a feed block is short");
      ++released[block.entries[k].mid];
    }
  }
  // The blocks locked above are the only ones either statement changes.
  if (whole) transaction.exec_prepared(Name(kDeleteBlocks), names, acknowledged);
  if (partial) transaction.exec_prepared(Name(kAckBlock), names, acknowledged);
  ReleaseCopies(transaction, released);
  return OkStatus();
}

// Feeds read inside `transaction`.
FeedReader ReaderIn(pqxx::work& transaction) {
  return [&transaction](std::string_view subscriber, int64_t after,
                        size_t limit) -> Result<std::vector<Delivery>> {
    std::vector<Delivery> out;
    CARREFOUR_RETURN_IF_ERROR(
        ReadDeliveries(transaction, std::string(subscriber), after, limit, out));
    return out;
  };
}

}  // namespace

Result<std::vector<bool>> PostgresMutationStore::AcceptMutations(
    std::span<const NewMutation> mutations, int64_t now_us, const AuditTrail& trail,
    std::span<const FeedAck> acks) {
  std::vector<bool> accepted(mutations.size(), false);
  if (mutations.empty() && !trail && acks.empty()) return accepted;
  ArrayLiteral sources, ids, types, nisses, effectives, payloads, pendings;
  for (const NewMutation& mutation : mutations) {
    sources.Add(mutation.source);
    ids.Add(mutation.id);
    types.Add(mutation.data_type);
    nisses.Add(mutation.niss);
    effectives.Add(int64_t{internal::DayKey(mutation.effective)});
    // No copy, no payload: nobody may receive it, the hub keeps none of it.
    if (mutation.copies.empty()) {
      payloads.AddNull();
    } else {
      payloads.Add(mutation.data);
    }
    pendings.Add(static_cast<int64_t>(mutation.copies.size()));
  }
  std::string a[7] = {sources.Take(), ids.Take(),      types.Take(),   nisses.Take(),
                      effectives.Take(), payloads.Take(), pendings.Take()};
  Status status = pool_.Run("accepting mutations", [&](pqxx::connection& c) -> Status {
    std::fill(accepted.begin(), accepted.end(), false);  // a retried attempt starts afresh
    pqxx::work transaction(c);
    // Acknowledgements first, feeds in subscriber order (as the service
    // gives them): blocks, then mutation rows in mid order, then counters.
    CARREFOUR_RETURN_IF_ERROR(ReleaseAll(transaction, acks));
    // A group of reads alone inserts nothing: no round trip for it.
    pqxx::result inserted;
    if (!mutations.empty()) {
      inserted = transaction.exec_prepared(Name(kInsertMutations), a[0], a[1], a[2], a[3], a[4],
                                           now_us, a[5], a[6]);
    }
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
    ArrayLiteral subscribers, counts, fields, entries;
    for (const auto& [subscriber, copies] : by_subscriber) {
      internal::FeedBlock block;
      for (const auto& [i, k] : copies) block.Add(mids[i], mutations[i].copies[k].fields);
      subscribers.Add(subscriber);
      counts.Add(static_cast<int64_t>(copies.size()));
      fields.Add(block.EncodeFields());
      entries.Add(block.EncodeEntries());
    }
    if (!by_subscriber.empty()) {
      transaction.exec_prepared(Name(kBumpFeedsAndInsertBlocks), subscribers.Take(), counts.Take(),
                              fields.Take(), entries.Take(), now_us);
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
    if (trail) {
      // The batch's trace, in the same transaction: one durable write.
      CARREFOUR_ASSIGN_OR_RETURN(ChainedRecords chained, trail(accepted, ReaderIn(transaction)));
      WriteAudit(transaction, chained.records, chained.checkpoint);
    }
    transaction.commit();
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

Result<std::vector<Delivery>> PostgresMutationStore::DeliveriesAfter(std::string_view subscriber,
                                                                     int64_t after, size_t limit) {
  std::vector<Delivery> out;
  const std::string name(subscriber);
  Status status = pool_.Run("reading a feed", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    return ReadDeliveries(transaction, name, after, limit, out);
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<bool> PostgresMutationStore::HasDeliveriesAfter(std::string_view subscriber,
                                                       int64_t cursor) {
  bool found = false;
  Status status = pool_.Run("looking at a feed", [&](pqxx::connection& c) -> Status {
    pqxx::read_transaction transaction(c);
    found = transaction.exec_prepared1(Name(kAfter), std::string(subscriber), cursor)[0].as<bool>();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return found;
}

Result<PurgeCounts> PostgresMutationStore::Purge(int64_t cutoff_us) {
  PurgeCounts counts;
  Status status = pool_.Run("purging mutations", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    counts.expired_deliveries = transaction.exec_params1(kExpiredCount, cutoff_us)[0].as<int64_t>();
    transaction.exec_params(kExpire, cutoff_us);
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
    // The person's mutations with a copy waiting, then the blocks written
    // with them (same acceptance time) for who waits for which; one snapshot.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>
        transaction(c);
    std::map<int64_t, PendingDelivery> of_mid;
    std::set<int64_t> times;
    for (const pqxx::row& row : transaction.exec_params(kPendingMutationsOf, std::string(niss))) {
      PendingDelivery& pending = of_mid[row[0].as<int64_t>()];
      pending.id = row[1].as<std::string>();
      pending.source = row[2].as<std::string>();
      pending.data_type = row[3].as<std::string>();
      pending.effective = internal::DateFromKey(row[4].as<int64_t>());
      pending.accepted_us = row[5].as<int64_t>();
      times.insert(pending.accepted_us);
    }
    if (times.empty()) return OkStatus();
    ArrayLiteral at;
    for (int64_t time : times) at.Add(time);
    for (const pqxx::row& row : transaction.exec_params(kBlocksAt, at.Take())) {
      const int64_t first = row[1].as<int64_t>(), acked = row[2].as<int64_t>();
      CARREFOUR_ASSIGN_OR_RETURN(internal::FeedBlock block,
                                 internal::FeedBlock::DecodeEntries(row[3].as<std::string>()));
      for (size_t k = 0; k < block.entries.size(); ++k) {
        const int64_t cursor = first + static_cast<int64_t>(k);
        auto found = of_mid.find(block.entries[k].mid);
        if (cursor <= acked || found == of_mid.end()) continue;
        PendingDelivery& pending = out.emplace_back(found->second);
        pending.subscriber = row[0].as<std::string>();
        pending.cursor = cursor;
      }
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  std::sort(out.begin(), out.end(), [](const PendingDelivery& a, const PendingDelivery& b) {
    return std::tie(a.accepted_us, a.subscriber, a.cursor) <
           std::tie(b.accepted_us, b.subscriber, b.cursor);
  });
  if (out.size() > limit) out.resize(limit);
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

std::vector<PreparedStatement> PostgresMutationStore::Statements() {
  std::vector<PreparedStatement> out;
  for (const Hot& hot : kHot) out.push_back(PreparedStatement{hot.name, hot.sql});
  return out;
}

}  // namespace carrefour::store::postgres
