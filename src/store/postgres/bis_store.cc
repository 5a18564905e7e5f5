// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/bis_store.h"

#include "store/internal/entries.h"

namespace carrefour::store::postgres {
namespace {

// Serializes creations in the BIS register across hub processes (a
// transaction-scoped advisory lock). Any constant works; this one spells
// "bis!".
constexpr int64_t kCreationLock = 0x62697321;

// Every read names the same columns, in this order (ReadRow). A replaced
// number is found through the mutations' record of identity replacements,
// kept as 11-digit text. An unknown year travels as 0 (no birth year is 0).
#define CARREFOUR_BIS_SELECT                                                               \
  "SELECT p.niss, p.last_name, p.first_names, p.birth_year, p.birth_month, p.birth_day, " \
  "p.sex, p.nationality, p.created_by, p.created_us, p.updated_us, p.forced, r.new_niss "  \
  "FROM bis_person p LEFT JOIN niss_replacement r ON r.old_niss = lpad(p.niss::text, 11, '0') "

constexpr const char kFind[] = "bis_find";
constexpr const char kFindSql[] = CARREFOUR_BIS_SELECT "WHERE p.niss = $1";
constexpr const char kByKeys[] = "bis_by_keys";
constexpr const char kByKeysSql[] = CARREFOUR_BIS_SELECT
    "WHERE p.niss IN (SELECT niss FROM bis_key WHERE key = ANY($1::bigint[])) LIMIT $2";
#undef CARREFOUR_BIS_SELECT

constexpr const char kLock[] = "bis_lock";
constexpr const char kLockSql[] = "SELECT pg_advisory_xact_lock($1)";
// The block's counter: created at 1, or moved on by one while it is below
// the block's capacity ($2). No row back: the block is full. Its row lock
// is held to commit, so concurrent takers of one block queue.
constexpr const char kTakeOrdinal[] = "bis_take_ordinal";
constexpr const char kTakeOrdinalSql[] =
    "INSERT INTO bis_serial (block, used) VALUES ($1, 1) ON CONFLICT (block) DO UPDATE "
    "SET used = bis_serial.used + 1 WHERE bis_serial.used < $2 RETURNING used";
constexpr const char kInsertPerson[] = "bis_insert_person";
constexpr const char kInsertPersonSql[] =
    "INSERT INTO bis_person (niss, last_name, first_names, birth_year, birth_month, birth_day, "
    "sex, nationality, created_by, created_us, updated_us, forced) "
    "VALUES ($1, $2, $3, NULLIF($4::integer, 0), $5, $6, $7, $8, $9, $10, $10, $11) "
    "ON CONFLICT (niss) DO NOTHING RETURNING niss";
constexpr const char kInsertKeys[] = "bis_insert_keys";
constexpr const char kInsertKeysSql[] =
    "INSERT INTO bis_key (key, niss) SELECT k, $2 FROM unnest($1::bigint[]) AS k "
    "ON CONFLICT DO NOTHING";
constexpr const char kDeleteKeys[] = "bis_delete_keys";
constexpr const char kDeleteKeysSql[] = "DELETE FROM bis_key WHERE niss = $1";
// Only a real change moves updated_us (and the keys).
constexpr const char kUpdate[] = "bis_update";
constexpr const char kUpdateSql[] =
    "UPDATE bis_person SET last_name = $2, first_names = $3, birth_year = NULLIF($4::integer, 0), "
    "birth_month = $5, birth_day = $6, sex = $7, nationality = $8, updated_us = $9 "
    "WHERE niss = $1 AND (last_name, first_names, birth_year, birth_month, birth_day, sex, "
    "nationality) IS DISTINCT FROM ($2, $3, NULLIF($4::integer, 0), $5, $6, $7, $8)";
constexpr const char kCount[] = "bis_count";
constexpr const char kCountSql[] = "SELECT count(*) FROM bis_person";

BisRow ReadRow(const pqxx::row& r) {
  BisRow row;
  row.niss = internal::NissFromKey(r[0].as<int64_t>());
  row.last_name = r[1].as<std::string>();
  row.first_names = r[2].as<std::string>();
  if (!r[3].is_null()) row.birth_year = r[3].as<int>();
  row.birth_month = r[4].as<int>();
  row.birth_day = r[5].as<int>();
  row.sex = r[6].as<int>();
  row.nationality = r[7].as<std::string>();
  row.created_by = r[8].as<std::string>();
  row.created_us = r[9].as<int64_t>();
  row.updated_us = r[10].as<int64_t>();
  row.forced = r[11].as<bool>();
  if (!r[12].is_null()) row.replaced_by = r[12].as<std::string>();
  return row;
}

std::string KeyArray(std::span<const int64_t> keys) {
  ArrayLiteral array;
  for (int64_t key : keys) array.Add(key);
  return array.Take();
}

void ReadByKeys(pqxx::transaction_base& transaction, const std::string& keys, size_t limit,
                std::vector<BisRow>* out) {
  for (const pqxx::row& row :
       transaction.exec_prepared(kByKeys, keys, static_cast<int64_t>(limit))) {
    out->push_back(ReadRow(row));
  }
}

}  // namespace

std::vector<PreparedStatement> PostgresBisStore::Statements() {
  return {
      {kFind, kFindSql},           {kByKeys, kByKeysSql},         {kLock, kLockSql},
      {kTakeOrdinal, kTakeOrdinalSql}, {kInsertPerson, kInsertPersonSql},
      {kInsertKeys, kInsertKeysSql}, {kDeleteKeys, kDeleteKeysSql}, {kUpdate, kUpdateSql},
      {kCount, kCountSql},
  };
}

Result<std::string> PostgresBisStore::Create(const NewBisPerson& person,
                                             std::span<const int64_t> lookup_keys,
                                             const CheckCandidates& check,
                                             const ComposeNumber& compose, int64_t now_us) {
  const std::string lookup = KeyArray(lookup_keys);
  const std::string keys = KeyArray(person.keys);
  std::string assigned;
  Status status = pool_.Run("creating a BIS person", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    transaction.exec_prepared(kLock, kCreationLock);
    std::vector<BisRow> candidates;
    if (!lookup_keys.empty()) ReadByKeys(transaction, lookup, kMaxCandidates, &candidates);
    CARREFOUR_RETURN_IF_ERROR(check(candidates));
    for (size_t b = 0; b < person.blocks.size();) {
      pqxx::result taken = transaction.exec_prepared(kTakeOrdinal, person.blocks[b].key,
                                                     person.blocks[b].capacity);
      if (taken.empty()) {  // full: the next block
        ++b;
        continue;
      }
      CARREFOUR_ASSIGN_OR_RETURN(assigned, compose(b, taken[0][0].as<int>()));
      CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(assigned));
      const BisRow& row = person.row;
      pqxx::result inserted = transaction.exec_prepared(
          kInsertPerson, key, row.last_name, row.first_names, row.birth_year.value_or(0),
          row.birth_month, row.birth_day, row.sex, row.nationality, row.created_by, now_us,
          row.forced);
      // Taken by a person the counters do not know of (a register imported
      // with its numbers): keep it, take the next ordinal.
      if (inserted.empty()) continue;
      transaction.exec_prepared(kInsertKeys, keys, key);
      transaction.commit();
      return OkStatus();
    }
    return Unavailable("every block of numbers for this birth date and sex is full");
  });
  if (!status.ok()) return Error(std::move(status));
  return assigned;
}

Result<std::vector<BisRow>> PostgresBisStore::FindByKeys(std::span<const int64_t> keys,
                                                         size_t limit) {
  std::vector<BisRow> out;
  if (keys.empty()) return out;
  const std::string array = KeyArray(keys);
  Status status = pool_.Run("searching the BIS register", [&](pqxx::connection& c) -> Status {
    out.clear();
    pqxx::nontransaction transaction(c);
    ReadByKeys(transaction, array, limit, &out);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<BisRow>> PostgresBisStore::Find(std::string_view niss) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::optional<BisRow> out;
  Status status = pool_.Run("reading the BIS register", [&](pqxx::connection& c) -> Status {
    pqxx::nontransaction transaction(c);
    pqxx::result rows = transaction.exec_prepared(kFind, key);
    out.reset();
    if (!rows.empty()) out = ReadRow(rows[0]);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<std::optional<BisUpdate>> PostgresBisStore::UpdateIdentity(std::string_view niss,
                                                               const BisRow& identity,
                                                               std::span<const int64_t> keys,
                                                               int64_t now_us) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  const std::string array = KeyArray(keys);
  std::optional<BisUpdate> out;
  Status status = pool_.Run("updating a BIS person", [&](pqxx::connection& c) -> Status {
    pqxx::work transaction(c);
    pqxx::result updated = transaction.exec_prepared(
        kUpdate, key, identity.last_name, identity.first_names, identity.birth_year.value_or(0),
        identity.birth_month, identity.birth_day, identity.sex, identity.nationality, now_us);
    if (updated.affected_rows() > 0) {
      transaction.exec_prepared(kDeleteKeys, key);
      transaction.exec_prepared(kInsertKeys, array, key);
    }
    pqxx::result rows = transaction.exec_prepared(kFind, key);
    out.reset();
    if (!rows.empty()) out = BisUpdate{ReadRow(rows[0]), updated.affected_rows() > 0};
    transaction.commit();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return out;
}

Result<int64_t> PostgresBisStore::Count() {
  int64_t count = 0;
  Status status = pool_.Run("counting the BIS register", [&](pqxx::connection& c) -> Status {
    pqxx::nontransaction transaction(c);
    count = transaction.exec_prepared(kCount)[0][0].as<int64_t>();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return count;
}

}  // namespace carrefour::store::postgres
