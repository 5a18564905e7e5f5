// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/bis_store.h"

#include <fmt/format.h>

#include "store/internal/entries.h"

namespace carrefour::store::sqlite {
namespace {

// Every read names the same columns, in this order (ReadRow). A replaced
// number is found through the mutations' record of identity replacements,
// kept as 11-digit text.
#define CARREFOUR_BIS_SELECT                                                               \
  "SELECT p.niss, p.last_name, p.first_names, p.birth_year, p.birth_month, p.birth_day, " \
  "p.sex, p.nationality, p.created_by, p.created_us, p.updated_us, p.forced, r.new_niss "  \
  "FROM bis_person p LEFT JOIN niss_replacement r ON r.old_niss = printf('%011d', p.niss) "

constexpr const char kFind[] = CARREFOUR_BIS_SELECT "WHERE p.niss = ?1";
// The keys travel as one JSON array (?1): SQLite has no array parameter.
constexpr const char kByKeys[] = CARREFOUR_BIS_SELECT
    "WHERE p.niss IN (SELECT niss FROM bis_key WHERE key IN (SELECT value FROM json_each(?1))) "
    "LIMIT ?2";
#undef CARREFOUR_BIS_SELECT

// The block's counter: created at 1, or moved on by one while it is below
// the block's capacity (?2). No row back: the block is full.
constexpr const char kTakeOrdinal[] =
    "INSERT INTO bis_serial (block, used) VALUES (?1, 1) "
    "ON CONFLICT (block) DO UPDATE SET used = used + 1 WHERE used < ?2 RETURNING used";
constexpr const char kInsertPerson[] =
    "INSERT INTO bis_person (niss, last_name, first_names, birth_year, birth_month, birth_day, "
    "sex, nationality, created_by, created_us, updated_us, forced) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) ON CONFLICT (niss) DO NOTHING";
constexpr const char kInsertKey[] = "INSERT OR IGNORE INTO bis_key (key, niss) VALUES (?1, ?2)";
constexpr const char kDeleteKeys[] = "DELETE FROM bis_key WHERE niss = ?1";
// Only a real change moves updated_us (and the keys).
constexpr const char kUpdate[] =
    "UPDATE bis_person SET last_name = ?2, first_names = ?3, birth_year = ?4, birth_month = ?5, "
    "birth_day = ?6, sex = ?7, nationality = ?8, updated_us = ?9 WHERE niss = ?1 AND "
    "(last_name IS NOT ?2 OR first_names IS NOT ?3 OR birth_year IS NOT ?4 OR "
    "birth_month IS NOT ?5 OR birth_day IS NOT ?6 OR sex IS NOT ?7 OR nationality IS NOT ?8)";
constexpr const char kCount[] = "SELECT count(*) FROM bis_person";

BisRow ReadRow(const Statement& s) {
  BisRow row;
  row.niss = internal::NissFromKey(s.ColumnInt(0));
  row.last_name = s.ColumnText(1);
  row.first_names = s.ColumnText(2);
  if (!s.ColumnIsNull(3)) row.birth_year = static_cast<int>(s.ColumnInt(3));
  row.birth_month = static_cast<int>(s.ColumnInt(4));
  row.birth_day = static_cast<int>(s.ColumnInt(5));
  row.sex = static_cast<int>(s.ColumnInt(6));
  row.nationality = s.ColumnText(7);
  row.created_by = s.ColumnText(8);
  row.created_us = s.ColumnInt(9);
  row.updated_us = s.ColumnInt(10);
  row.forced = s.ColumnInt(11) != 0;
  if (!s.ColumnIsNull(12)) row.replaced_by = std::string(s.ColumnText(12));
  return row;
}

std::optional<int64_t> Year(const BisRow& row) {
  return row.birth_year ? std::optional<int64_t>(*row.birth_year) : std::nullopt;
}

Status ReadByKeys(Connection& connection, std::span<const int64_t> keys, size_t limit,
                  std::vector<BisRow>* out) {
  if (keys.empty()) return OkStatus();
  std::string array = "[";
  for (int64_t key : keys) fmt::format_to(std::back_inserter(array), "{}{}", array.size() > 1 ? "," : "", key);
  array += ']';
  CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kByKeys));
  ScopedReset reset(*query);
  query->Bind(1, array);
  query->Bind(2, static_cast<int64_t>(limit));
  while (true) {
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) return OkStatus();
    out->push_back(ReadRow(*query));
  }
}

Status InsertKeys(Connection& connection, int64_t niss, std::span<const int64_t> keys) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsertKey));
  for (int64_t key : keys) {
    ScopedReset reset(*insert);
    insert->Bind(1, key);
    insert->Bind(2, niss);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
    (void)row;
  }
  return OkStatus();
}

}  // namespace

Result<std::string> SqliteBisStore::Create(const NewBisPerson& person,
                                           std::span<const int64_t> lookup_keys,
                                           const CheckCandidates& check,
                                           const ComposeNumber& compose, int64_t now_us) {
  std::string assigned;
  Status status = database_.Write([&](Connection& connection) -> Status {
    std::vector<BisRow> candidates;
    CARREFOUR_RETURN_IF_ERROR(ReadByKeys(connection, lookup_keys, kMaxCandidates, &candidates));
    CARREFOUR_RETURN_IF_ERROR(check(candidates));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * take, connection.Prepare(kTakeOrdinal));
    CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsertPerson));
    for (size_t b = 0; b < person.blocks.size();) {
      int64_t ordinal = 0;
      {
        ScopedReset reset(*take);
        take->Bind(1, person.blocks[b].key);
        take->Bind(2, int64_t{person.blocks[b].capacity});
        CARREFOUR_ASSIGN_OR_RETURN(bool row, take->Step());
        if (!row) {  // full: the next block
          ++b;
          continue;
        }
        ordinal = take->ColumnInt(0);
      }
      CARREFOUR_ASSIGN_OR_RETURN(assigned, compose(b, static_cast<int>(ordinal)));
      CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(assigned));
      const BisRow& row = person.row;
      ScopedReset reset(*insert);
      insert->Bind(1, key);
      insert->Bind(2, row.last_name);
      insert->Bind(3, row.first_names);
      insert->Bind(4, Year(row));
      insert->Bind(5, int64_t{row.birth_month});
      insert->Bind(6, int64_t{row.birth_day});
      insert->Bind(7, int64_t{row.sex});
      insert->Bind(8, row.nationality);
      insert->Bind(9, row.created_by);
      insert->Bind(10, now_us);
      insert->Bind(11, int64_t{row.forced ? 1 : 0});
      CARREFOUR_ASSIGN_OR_RETURN(bool done, insert->Step());
      (void)done;
      // Taken by a person the counters do not know of (a register imported
      // with its numbers): keep it, take the next ordinal.
      if (insert->Changes() == 0) continue;
      return InsertKeys(connection, key, person.keys);
    }
    return Unavailable("every block of numbers for this birth date and sex is full");
  });
  if (!status.ok()) return Error(std::move(status));
  return assigned;
}

Result<std::vector<BisRow>> SqliteBisStore::FindByKeys(std::span<const int64_t> keys,
                                                       size_t limit) {
  std::vector<BisRow> out;
  Status status = database_.Read(
      [&](Connection& connection) { return ReadByKeys(connection, keys, limit, &out); });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<BisRow>> SqliteBisStore::Find(std::string_view niss) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::optional<BisRow> out;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kFind));
    ScopedReset reset(*query);
    query->Bind(1, key);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) out = ReadRow(*query);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<BisUpdate>> SqliteBisStore::UpdateIdentity(std::string_view niss,
                                                             const BisRow& identity,
                                                             std::span<const int64_t> keys,
                                                             int64_t now_us) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::optional<BisUpdate> out;
  Status status = database_.Write([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * update, connection.Prepare(kUpdate));
    int64_t changed = 0;
    {
      ScopedReset reset(*update);
      update->Bind(1, key);
      update->Bind(2, identity.last_name);
      update->Bind(3, identity.first_names);
      update->Bind(4, Year(identity));
      update->Bind(5, int64_t{identity.birth_month});
      update->Bind(6, int64_t{identity.birth_day});
      update->Bind(7, int64_t{identity.sex});
      update->Bind(8, identity.nationality);
      update->Bind(9, now_us);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, update->Step());
      (void)row;
      changed = update->Changes();
    }
    if (changed > 0) {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * remove, connection.Prepare(kDeleteKeys));
      ScopedReset reset(*remove);
      remove->Bind(1, key);
      CARREFOUR_ASSIGN_OR_RETURN(bool row, remove->Step());
      (void)row;
      CARREFOUR_RETURN_IF_ERROR(InsertKeys(connection, key, keys));
    }
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kFind));
    ScopedReset reset(*query);
    query->Bind(1, key);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) out = BisUpdate{ReadRow(*query), changed > 0};
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<int64_t> SqliteBisStore::Count() {
  int64_t count = 0;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kCount));
    ScopedReset reset(*query);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) count = query->ColumnInt(0);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return count;
}

}  // namespace carrefour::store::sqlite
