// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/directory_store.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "store/internal/entries.h"

namespace carrefour::store::sqlite {
namespace {

using directory::Entry;
using directory::EntryAction;
using directory::EntryChange;
using directory::EntryResult;

// Every statement names the identity columns ?1-?4 in the order of the
// primary key, so one Bind helper serves them all.
constexpr const char kInsert[] =
    "INSERT INTO directory_entry (niss, institution, capacity, valid_from, valid_to) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
constexpr const char kSelectEnd[] =
    "SELECT valid_to FROM directory_entry "
    "WHERE niss = ?1 AND institution = ?2 AND capacity = ?3 AND valid_from = ?4";
constexpr const char kClose[] =
    "UPDATE directory_entry SET valid_to = ?5 "
    "WHERE niss = ?1 AND institution = ?2 AND capacity = ?3 AND valid_from = ?4";
constexpr const char kRemove[] =
    "DELETE FROM directory_entry "
    "WHERE niss = ?1 AND institution = ?2 AND capacity = ?3 AND valid_from = ?4";
constexpr const char kOfPerson[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry "
    "WHERE niss = ?1 ORDER BY institution, capacity, valid_from";
// An entry overlaps [?2, ?3] when it starts by ?3 and has not ended before ?2.
constexpr const char kOfPersonOverlapping[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry "
    "WHERE niss = ?1 AND valid_from <= ?3 AND (valid_to IS NULL OR valid_to >= ?2) "
    "ORDER BY institution, capacity, valid_from";
constexpr const char kOfInstitution[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry "
    "WHERE niss = ?1 AND institution = ?2 ORDER BY capacity, valid_from";
// Walks the primary key from ?1 on (it starts with niss, so the rows come in
// number order and DISTINCT costs nothing) and stops after ?6 persons. The
// institutions travel as one JSON array (?5): SQLite has no array parameter.
constexpr const char kPersonsWithEntries[] =
    "SELECT DISTINCT niss FROM directory_entry "
    "WHERE niss > ?1 AND capacity = ?2 AND valid_from <= ?4 "
    "AND (valid_to IS NULL OR valid_to >= ?3) "
    "AND institution IN (SELECT value FROM json_each(?5)) "
    "ORDER BY niss LIMIT ?6";
// The change log (migration 9): positions in commit order, since SQLite
// has one writer at a time.
constexpr const char kChangesAfter[] =
    "SELECT seq, niss FROM directory_change WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr const char kLastChange[] = "SELECT coalesce(max(seq), 0) FROM directory_change";
constexpr const char kForgetChanges[] =
    "DELETE FROM directory_change WHERE seq <= ?1 "
    "AND seq < (SELECT max(seq) FROM directory_change)";
// Whole persons: the rows up to the ?2-th distinct number above ?1, which
// the primary key yields in order.
constexpr const char kEntriesAfter[] =
    "SELECT niss, institution, capacity, valid_from, valid_to FROM directory_entry "
    "WHERE niss > ?1 AND niss <= (SELECT coalesce(max(niss), ?1) FROM "
    "  (SELECT DISTINCT niss FROM directory_entry WHERE niss > ?1 ORDER BY niss LIMIT ?2)) "
    "ORDER BY niss, institution, capacity, valid_from";

// ["a","b"] with JSON escapes, for json_each.
std::string JsonArray(std::span<const std::string> values) {
  std::string out = "[";
  for (const std::string& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[(c >> 4) & 0xf];
        out += kHex[c & 0xf];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

void BindIdentity(Statement& statement, int64_t niss, const Entry& entry) {
  statement.Bind(1, niss);
  statement.Bind(2, entry.institution);
  statement.Bind(3, entry.capacity);
  statement.Bind(4, int64_t{internal::DayKey(entry.period.from)});
}

std::optional<int64_t> EndKey(const Period& period) {
  if (!period.to) return std::nullopt;
  return internal::DayKey(*period.to);
}

// Applies one change and stores its outcome (ok or the entry's rejection) in
// *outcome. The returned Status fails only when the database does, which
// aborts the whole batch.
Status ApplyOne(Connection& connection, const EntryChange& change, Status* outcome) {
  *outcome = internal::PrecheckChange(change);
  if (!outcome->ok()) return OkStatus();
  Result<int64_t> niss = internal::NissKey(change.entry.niss);
  if (!niss) {
    *outcome = niss.error();
    return OkStatus();
  }
  const Entry& entry = change.entry;

  switch (change.action) {
    case EntryAction::kAdd: {
      CARREFOUR_ASSIGN_OR_RETURN(Statement * insert, connection.Prepare(kInsert));
      ScopedReset reset_insert(*insert);
      BindIdentity(*insert, *niss, entry);
      insert->Bind(5, EndKey(entry.period));
      CARREFOUR_ASSIGN_OR_RETURN(bool row, insert->Step());
      (void)row;
      if (insert->Changes() == 1) return OkStatus();  // *outcome is ok
      // Same identity already stored: fine if it is the same entry.
      CARREFOUR_ASSIGN_OR_RETURN(Statement * select, connection.Prepare(kSelectEnd));
      ScopedReset reset_select(*select);
      BindIdentity(*select, *niss, entry);
      CARREFOUR_ASSIGN_OR_RETURN(bool found, select->Step());
      if (!found) return Internal("sqlite: an entry vanished inside a write transaction");
      std::optional<Date> existing_to;
      if (!select->ColumnIsNull(0)) existing_to = internal::DateFromKey(select->ColumnInt(0));
      *outcome = internal::CompareExisting(entry, existing_to);
      return OkStatus();
    }
    case EntryAction::kClose:
    case EntryAction::kRemove: {
      bool close = change.action == EntryAction::kClose;
      CARREFOUR_ASSIGN_OR_RETURN(Statement * statement,
                                 connection.Prepare(close ? kClose : kRemove));
      ScopedReset reset(*statement);
      BindIdentity(*statement, *niss, entry);
      if (close) statement->Bind(5, EndKey(entry.period));
      CARREFOUR_ASSIGN_OR_RETURN(bool row, statement->Step());
      (void)row;
      if (statement->Changes() == 0) *outcome = internal::EntryNotFound(entry);
      return OkStatus();
    }
  }
  *outcome = InvalidRequest("unknown entry action");
  return OkStatus();
}

// Reads (institution, capacity, valid_from, valid_to) from the current row,
// from column `first` on, into `entry`.
void ReadEntryColumns(const Statement& query, int first, Entry* entry) {
  entry->institution = query.ColumnText(first);
  entry->capacity = query.ColumnText(first + 1);
  entry->period.from = internal::DateFromKey(query.ColumnInt(first + 2));
  if (!query.ColumnIsNull(first + 3)) {
    entry->period.to = internal::DateFromKey(query.ColumnInt(first + 3));
  }
}

// Runs a prepared query whose columns are (institution, capacity,
// valid_from, valid_to) and collects the entries of person `niss`.
Status CollectEntries(Statement& query, std::string_view niss, std::vector<Entry>* out) {
  while (true) {
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return OkStatus();
    Entry& entry = out->emplace_back();
    entry.niss = niss;
    ReadEntryColumns(query, 0, &entry);
  }
}

}  // namespace

Result<std::vector<EntryResult>> SqliteDirectoryStore::ApplyEntryChanges(
    std::span<const EntryChange> changes) {
  std::vector<EntryResult> results(changes.size());
  if (changes.empty()) return results;
  // One transaction for the batch (one fsync), one statement per entry: a
  // statement either applies entirely or not at all, and rejections are
  // decided without a failing statement, so a rejected entry leaves nothing
  // behind while the rest of the batch goes on.
  Status status = database_.Write([&](Connection& connection) -> Status {
    for (size_t i = 0; i < changes.size(); ++i) {
      results[i].index = i;
      CARREFOUR_RETURN_IF_ERROR(ApplyOne(connection, changes[i], &results[i].status));
    }
    return OkStatus();
  });
  CountWrite();
  if (!status.ok()) return Error(std::move(status));
  return results;
}

Result<std::vector<Entry>> SqliteDirectoryStore::EntriesOfPerson(
    std::string_view niss, std::optional<Period> overlapping) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::vector<Entry> entries;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query,
                               connection.Prepare(overlapping ? kOfPersonOverlapping : kOfPerson));
    ScopedReset reset(*query);
    query->Bind(1, key);
    if (overlapping) {
      query->Bind(2, int64_t{internal::DayKey(overlapping->from)});
      query->Bind(3, int64_t{internal::DayKey(overlapping->to.value_or(Date::Max()))});
    }
    return CollectEntries(*query, niss, &entries);
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

Result<std::vector<Entry>> SqliteDirectoryStore::EntriesOf(std::string_view institution,
                                                           std::string_view niss) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::vector<Entry> entries;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kOfInstitution));
    ScopedReset reset(*query);
    query->Bind(1, key);
    query->Bind(2, institution);
    return CollectEntries(*query, niss, &entries);
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

Result<std::vector<std::string>> SqliteDirectoryStore::PersonsWithEntries(
    std::span<const std::string> institutions, std::string_view capacity, Period overlapping,
    std::string_view after, size_t limit) {
  int64_t after_key = -1;
  if (!after.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(after_key, internal::NissKey(after));
  }
  std::vector<std::string> persons;
  if (institutions.empty() || limit == 0) return persons;
  const std::string list = JsonArray(institutions);
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kPersonsWithEntries));
    ScopedReset reset(*query);
    query->Bind(1, after_key);
    query->Bind(2, capacity);
    query->Bind(3, int64_t{internal::DayKey(overlapping.from)});
    query->Bind(4, int64_t{internal::DayKey(overlapping.to.value_or(Date::Max()))});
    query->Bind(5, std::string_view(list));
    query->Bind(6, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      persons.push_back(internal::NissFromKey(query->ColumnInt(0)));
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return persons;
}

Result<std::vector<Entry>> SqliteDirectoryStore::EntriesOfPersons(
    std::span<const std::string> persons) {
  std::vector<int64_t> keys;
  keys.reserve(persons.size());
  for (const std::string& niss : persons) {
    CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
    keys.push_back(key);
  }
  std::vector<Entry> entries;
  // One read transaction and one prepared statement for the lot: each
  // person is one B-tree descent on an in-process database.
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kOfPerson));
    for (size_t i = 0; i < keys.size(); ++i) {
      ScopedReset reset(*query);
      query->Bind(1, keys[i]);
      CARREFOUR_RETURN_IF_ERROR(CollectEntries(*query, persons[i], &entries));
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  // The numbers are 11 digits each, so string order is number order.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.niss < b.niss; });
  return entries;
}

Result<DirectoryStore::Changes> SqliteDirectoryStore::ChangesAfter(uint64_t after, size_t limit) {
  Changes changes;
  changes.last = after;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kChangesAfter));
    ScopedReset reset(*query);
    query->Bind(1, static_cast<int64_t>(std::min<uint64_t>(after, INT64_MAX)));
    query->Bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      changes.last = static_cast<uint64_t>(query->ColumnInt(0));
      changes.persons.push_back(static_cast<uint64_t>(query->ColumnInt(1)));
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return changes;
}

Result<uint64_t> SqliteDirectoryStore::LastChange() {
  uint64_t last = 0;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kLastChange));
    ScopedReset reset(*query);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) last = static_cast<uint64_t>(query->ColumnInt(0));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return last;
}

Status SqliteDirectoryStore::ForgetChangesUpTo(uint64_t position) {
  return database_.Write([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * forget, connection.Prepare(kForgetChanges));
    ScopedReset reset(*forget);
    forget->Bind(1, static_cast<int64_t>(std::min<uint64_t>(position, INT64_MAX)));
    CARREFOUR_ASSIGN_OR_RETURN(bool row, forget->Step());
    (void)row;
    return OkStatus();
  });
}

Result<std::vector<Entry>> SqliteDirectoryStore::EntriesAfter(uint64_t after, size_t persons) {
  std::vector<Entry> entries;
  if (persons == 0) return entries;
  Status status = database_.Read([&](Connection& connection) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kEntriesAfter));
    ScopedReset reset(*query);
    query->Bind(1, static_cast<int64_t>(std::min<uint64_t>(after, INT64_MAX)));
    query->Bind(2, static_cast<int64_t>(std::min<size_t>(persons, INT64_MAX)));
    int64_t previous = -1;
    std::string number;
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) return OkStatus();
      const int64_t key = query->ColumnInt(0);
      if (key != previous) number = internal::NissFromKey(key);
      previous = key;
      Entry& entry = entries.emplace_back();
      entry.niss = number;
      ReadEntryColumns(*query, 1, &entry);
    }
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

}  // namespace carrefour::store::sqlite
