// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/directory_store.h"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "store/internal/entries.h"

namespace carrefour::store::postgres {
namespace {

using directory::Entry;
using directory::EntryAction;
using directory::EntryChange;
using directory::EntryResult;

constexpr const char kAddBatch[] = "directory_add_batch";
constexpr const char kCloseBatch[] = "directory_close_batch";
constexpr const char kRemoveBatch[] = "directory_remove_batch";
constexpr const char kSelectEnd[] = "directory_select_end";
constexpr const char kOfPerson[] = "directory_of_person";
constexpr const char kOfPersonOverlapping[] = "directory_of_person_overlapping";
constexpr const char kOfInstitution[] = "directory_of_institution";
constexpr const char kPersonsWithEntries[] = "directory_persons_with_entries";
constexpr const char kOfPersons[] = "directory_of_persons";
constexpr const char kChangesAfter[] = "directory_changes_after";
constexpr const char kLastChange[] = "directory_last_change";
constexpr const char kForgetChanges[] = "directory_forget_changes";
constexpr const char kEntriesAfter[] = "directory_entries_after";

// The batch statements take one array per column ($1 niss, $2 institution,
// $3 capacity, $4 valid_from, $5 valid_to) and number the rows (idx, from 1)
// so that each answer row names its change.
#define CARREFOUR_INPUT_COLUMNS                                                          \
  "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::integer[]) " \
  "WITH ORDINALITY AS i(niss, institution, capacity, valid_from, valid_to, idx)"
#define CARREFOUR_SAME_IDENTITY(a, b)                                                \
  a ".niss = " b ".niss AND " a ".institution = " b ".institution AND " a ".capacity = " \
  b ".capacity AND " a ".valid_from = " b ".valid_from"

// Inserts what is new and answers, for each change whose identity is stored
// already, the end of the stored entry (idx, stored_to), then one row (NULL,
// number of rows inserted). Built to stay fast on a table of millions of
// entries whatever plan PostgreSQL picks for a prepared statement (whose
// generic plan does not know the batch size): the stored entries are looked
// up by a scalar subquery (an index probe per change, never a scan of the
// table), and nothing joins two 10 000-row sets (a nested loop there costs
// seconds). Only the changes absent from the snapshot are inserted, in key
// order (neighbouring index pages). ON CONFLICT covers an entry another hub
// commits meanwhile: the count then falls short and the caller looks again.
// kOpenEnd marks a stored entry without end: no day is that far in the past.
constexpr int64_t kOpenEnd = -2147483648;
constexpr const char kAddBatchSql[] =
    "WITH input AS (" CARREFOUR_INPUT_COLUMNS "),"
    " stored AS ("
    "  SELECT i.*, (SELECT coalesce(e.valid_to, -2147483648) FROM directory_entry e"
    "   WHERE " CARREFOUR_SAME_IDENTITY("e", "i") ") AS stored_to"
    "  FROM input i),"
    " inserted AS ("
    "  INSERT INTO directory_entry (niss, institution, capacity, valid_from, valid_to)"
    "  SELECT niss, institution, capacity, valid_from, valid_to FROM stored"
    "  WHERE stored_to IS NULL ORDER BY niss, institution, capacity, valid_from"
    "  ON CONFLICT DO NOTHING"
    "  RETURNING 1)"
    " SELECT idx, stored_to FROM stored WHERE stored_to IS NOT NULL"
    " UNION ALL"
    " SELECT NULL, count(*) FROM inserted";
constexpr const char kCloseBatchSql[] =
    "WITH input AS (" CARREFOUR_INPUT_COLUMNS ")"
    " UPDATE directory_entry e SET valid_to = i.valid_to FROM input i"
    " WHERE " CARREFOUR_SAME_IDENTITY("e", "i") " RETURNING i.idx";
constexpr const char kRemoveBatchSql[] =
    "WITH input AS (" CARREFOUR_INPUT_COLUMNS ")"
    " DELETE FROM directory_entry e USING input i"
    " WHERE " CARREFOUR_SAME_IDENTITY("e", "i") " RETURNING i.idx";
constexpr const char kSelectEndSql[] =
    "SELECT valid_to FROM directory_entry"
    " WHERE niss = $1 AND institution = $2 AND capacity = $3 AND valid_from = $4";
constexpr const char kOfPersonSql[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry"
    " WHERE niss = $1 ORDER BY institution, capacity, valid_from";
// An entry overlaps [$2, $3] when it starts by $3 and has not ended before $2.
constexpr const char kOfPersonOverlappingSql[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry"
    " WHERE niss = $1 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $2)"
    " ORDER BY institution, capacity, valid_from";
constexpr const char kOfInstitutionSql[] =
    "SELECT institution, capacity, valid_from, valid_to FROM directory_entry"
    " WHERE niss = $1 AND institution = $2 ORDER BY capacity, valid_from";

// The primary key starts with niss: an index scan from $1 yields the rows
// in number order, DISTINCT is a Unique over it, and LIMIT stops the scan.
constexpr const char kPersonsWithEntriesSql[] =
    "SELECT DISTINCT niss FROM directory_entry"
    " WHERE niss > $1 AND capacity = $2 AND valid_from <= $4"
    " AND (valid_to IS NULL OR valid_to >= $3) AND institution = ANY($5::text[])"
    " ORDER BY niss LIMIT $6";
constexpr const char kOfPersonsSql[] =
    "SELECT niss, institution, capacity, valid_from, valid_to FROM directory_entry"
    " WHERE niss = ANY($1::bigint[]) ORDER BY niss, institution, capacity, valid_from";
// The change log (migration 9): its trigger's advisory lock puts the
// positions in commit order.
constexpr const char kChangesAfterSql[] =
    "SELECT seq, niss FROM directory_change WHERE seq > $1 ORDER BY seq LIMIT $2";
constexpr const char kLastChangeSql[] = "SELECT coalesce(max(seq), 0) FROM directory_change";
constexpr const char kForgetChangesSql[] = "DELETE FROM directory_change WHERE seq <= $1";
// Whole persons: the rows up to the $2-th distinct number above $1.
constexpr const char kEntriesAfterSql[] =
    "SELECT niss, institution, capacity, valid_from, valid_to FROM directory_entry"
    " WHERE niss > $1 AND niss <= (SELECT coalesce(max(niss), $1) FROM"
    "   (SELECT DISTINCT niss FROM directory_entry WHERE niss > $1 ORDER BY niss LIMIT $2) p)"
    " ORDER BY niss, institution, capacity, valid_from";

#undef CARREFOUR_INPUT_COLUMNS
#undef CARREFOUR_SAME_IDENTITY

struct Identity {
  int64_t niss;
  std::string_view institution;
  std::string_view capacity;
  int32_t from;

  friend bool operator==(const Identity&, const Identity&) = default;
};

struct IdentityHash {
  size_t operator()(const Identity& id) const {
    size_t h = std::hash<int64_t>{}(id.niss);
    h = h * 31 + std::hash<std::string_view>{}(id.institution);
    h = h * 31 + std::hash<std::string_view>{}(id.capacity);
    return h * 31 + std::hash<int32_t>{}(id.from);
  }
};

// A run of consecutive changes whose identities all differ. Their order then
// does not matter, so the run is applied as one statement per action. A
// change that repeats an identity of the run starts the next run, which keeps
// the order of the batch where it matters (add, then close the same entry).
class Run {
 public:
  bool Contains(const Identity& identity) const { return identities_.count(identity) > 0; }
  bool empty() const { return identities_.empty(); }

  void Add(size_t index, const Identity& identity, const EntryChange& change) {
    identities_.insert(identity);
    Item item{index, identity.niss, &change};
    switch (change.action) {
      case EntryAction::kAdd: adds_.push_back(item); break;
      case EntryAction::kClose: closes_.push_back(item); break;
      case EntryAction::kRemove: removes_.push_back(item); break;
    }
  }

  // Applies the run inside `transaction`, writing each change's outcome into
  // `results`. pqxx exceptions propagate to the Pool, which fails the batch.
  void Apply(pqxx::work& transaction, std::vector<EntryResult>& results) {
    if (!adds_.empty()) ApplyAdds(transaction, results);
    if (!closes_.empty()) ApplyMatching(transaction, kCloseBatch, closes_, results);
    if (!removes_.empty()) ApplyMatching(transaction, kRemoveBatch, removes_, results);
    identities_.clear();
    adds_.clear();
    closes_.clear();
    removes_.clear();
  }

 private:
  struct Item {
    size_t index;  // in the batch
    int64_t niss;
    const EntryChange* change;
  };

  struct Arrays {
    std::string niss, institution, capacity, from, to;
  };

  static Arrays ToArrays(const std::vector<Item>& items) {
    ArrayLiteral niss, institution, capacity, from, to;
    for (const Item& item : items) {
      const Entry& entry = item.change->entry;
      niss.Add(item.niss);
      institution.Add(entry.institution);
      capacity.Add(entry.capacity);
      from.Add(int64_t{internal::DayKey(entry.period.from)});
      if (entry.period.to) {
        to.Add(int64_t{internal::DayKey(*entry.period.to)});
      } else {
        to.AddNull();
      }
    }
    return Arrays{niss.Take(), institution.Take(), capacity.Take(), from.Take(), to.Take()};
  }

  static std::optional<Date> EndOf(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return internal::DateFromKey(field.as<int64_t>());
  }

  void ApplyAdds(pqxx::work& transaction, std::vector<EntryResult>& results) {
    Arrays arrays = ToArrays(adds_);
    pqxx::result rows = transaction.exec_prepared(kAddBatch, arrays.niss, arrays.institution,
                                                  arrays.capacity, arrays.from, arrays.to);
    std::vector<bool> stored(adds_.size(), false);
    size_t absent = adds_.size();
    size_t inserted = 0;
    for (const pqxx::row& row : rows) {
      if (row[0].is_null()) {
        inserted = row[1].as<size_t>();
        continue;
      }
      size_t ordinal = row[0].as<size_t>() - 1;
      const Item& item = adds_.at(ordinal);
      stored[ordinal] = true;
      --absent;
      int64_t stored_to = row[1].as<int64_t>();
      results[item.index].status = internal::CompareExisting(
          item.change->entry, stored_to == kOpenEnd
                                  ? std::nullopt
                                  : std::optional<Date>(internal::DateFromKey(stored_to)));
    }
    if (inserted == absent) return;
    // Another hub process committed some of these entries after our
    // snapshot was taken (ON CONFLICT saw them, the snapshot could not). Each
    // absent entry is now stored, by us or by it: look again with a fresh
    // snapshot (read committed gives each statement one) and compare.
    for (size_t i = 0; i < adds_.size(); ++i) {
      if (stored[i]) continue;
      const Entry& entry = adds_[i].change->entry;
      pqxx::result again =
          transaction.exec_prepared(kSelectEnd, adds_[i].niss, entry.institution, entry.capacity,
                                    internal::DayKey(entry.period.from));
      results[adds_[i].index].status =
          again.empty()
              ? Unavailable("this entry was changed concurrently by another hub; try again")
              : internal::CompareExisting(entry, EndOf(again[0][0]));
    }
  }

  // close and remove: the rows the statement returns were applied; the others
  // name entries the institution does not have.
  static void ApplyMatching(pqxx::work& transaction, const char* statement,
                            const std::vector<Item>& items, std::vector<EntryResult>& results) {
    Arrays arrays = ToArrays(items);
    pqxx::result applied = transaction.exec_prepared(statement, arrays.niss, arrays.institution,
                                                     arrays.capacity, arrays.from, arrays.to);
    std::vector<bool> done(items.size(), false);
    for (const pqxx::row& row : applied) done.at(row[0].as<size_t>() - 1) = true;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!done[i]) results[items[i].index].status = internal::EntryNotFound(items[i].change->entry);
    }
  }

  std::unordered_set<Identity, IdentityHash> identities_;
  std::vector<Item> adds_, closes_, removes_;
};

// Reads (institution, capacity, valid_from, valid_to) from `row`, from
// column `first` on, into `entry`.
void ReadEntryColumns(const pqxx::row& row, int first, Entry* entry) {
  entry->institution = row[first].c_str();
  entry->capacity = row[first + 1].c_str();
  entry->period.from = internal::DateFromKey(row[first + 2].as<int64_t>());
  if (!row[first + 3].is_null()) entry->period.to = internal::DateFromKey(row[first + 3].as<int64_t>());
}

// Rows of (institution, capacity, valid_from, valid_to): person `niss`'s.
void CollectEntries(const pqxx::result& rows, std::string_view niss, std::vector<Entry>* out) {
  out->reserve(rows.size());
  for (const pqxx::row& row : rows) {
    Entry& entry = out->emplace_back();
    entry.niss = niss;
    ReadEntryColumns(row, 0, &entry);
  }
}

// Rows of (niss, institution, capacity, valid_from, valid_to), a person's
// rows together: each number written out once.
void CollectNumberedEntries(const pqxx::result& rows, std::vector<Entry>* out) {
  out->reserve(out->size() + rows.size());
  int64_t previous = -1;
  std::string number;
  for (const pqxx::row& row : rows) {
    const int64_t key = row[0].as<int64_t>();
    if (key != previous) number = internal::NissFromKey(key);
    previous = key;
    Entry& entry = out->emplace_back();
    entry.niss = number;
    ReadEntryColumns(row, 1, &entry);
  }
}

}  // namespace

std::vector<PreparedStatement> PostgresDirectoryStore::Statements() {
  return {
      {kAddBatch, kAddBatchSql},
      {kCloseBatch, kCloseBatchSql},
      {kRemoveBatch, kRemoveBatchSql},
      {kSelectEnd, kSelectEndSql},
      {kOfPerson, kOfPersonSql},
      {kOfPersonOverlapping, kOfPersonOverlappingSql},
      {kOfInstitution, kOfInstitutionSql},
      {kPersonsWithEntries, kPersonsWithEntriesSql},
      {kOfPersons, kOfPersonsSql},
      {kChangesAfter, kChangesAfterSql},
      {kLastChange, kLastChangeSql},
      {kForgetChanges, kForgetChangesSql},
      {kEntriesAfter, kEntriesAfterSql},
  };
}

Result<std::vector<EntryResult>> PostgresDirectoryStore::ApplyEntryChanges(
    std::span<const EntryChange> changes) {
  std::vector<EntryResult> results(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) results[i].index = i;
  if (changes.empty()) return results;

  Status status = pool_.Run("applying directory entry changes", [&](pqxx::connection& c) {
    pqxx::work transaction(c);
    // Every statement of a batch finds its rows by primary key. A custom
    // plan, made for the actual arrays, may judge 10 000 index probes dearer
    // than a scan of the whole table and hash-join instead: O(table) per
    // batch. The generic plan (which assumes a small input) probes the index.
    // LOCAL: only this transaction, other sections keep the default.
    transaction.exec("SET LOCAL plan_cache_mode = force_generic_plan");
    Run run;
    for (size_t i = 0; i < changes.size(); ++i) {
      const EntryChange& change = changes[i];
      results[i].status = internal::PrecheckChange(change);
      if (!results[i].status.ok()) continue;
      Result<int64_t> niss = internal::NissKey(change.entry.niss);
      if (!niss) {
        results[i].status = niss.error();
        continue;
      }
      Identity identity{*niss, change.entry.institution, change.entry.capacity,
                        internal::DayKey(change.entry.period.from)};
      if (run.Contains(identity)) run.Apply(transaction, results);
      run.Add(i, identity, change);
    }
    if (!run.empty()) run.Apply(transaction, results);
    // Every statement either succeeded or threw (and the transaction rolls
    // back as it is destroyed): rejections never fail a statement.
    transaction.commit();
    return OkStatus();
  });
  CountWrite();
  if (!status.ok()) return Error(std::move(status));
  return results;
}

Result<std::vector<Entry>> PostgresDirectoryStore::EntriesOfPerson(
    std::string_view niss, std::optional<Period> overlapping) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::vector<Entry> entries;
  Status status = pool_.Run("reading a person's entries", [&](pqxx::connection& c) {
    // One statement: no transaction needed, and none means no BEGIN/COMMIT
    // round trips.
    pqxx::nontransaction transaction(c);
    pqxx::result rows =
        overlapping
            ? transaction.exec_prepared(kOfPersonOverlapping, key,
                                        internal::DayKey(overlapping->from),
                                        internal::DayKey(overlapping->to.value_or(Date::Max())))
            : transaction.exec_prepared(kOfPerson, key);
    CollectEntries(rows, niss, &entries);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

Result<std::vector<Entry>> PostgresDirectoryStore::EntriesOf(std::string_view institution,
                                                             std::string_view niss) {
  CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
  std::vector<Entry> entries;
  Status status = pool_.Run("reading an institution's entries", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    pqxx::result rows = transaction.exec_prepared(kOfInstitution, key, std::string(institution));
    CollectEntries(rows, niss, &entries);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

Result<std::vector<std::string>> PostgresDirectoryStore::PersonsWithEntries(
    std::span<const std::string> institutions, std::string_view capacity, Period overlapping,
    std::string_view after, size_t limit) {
  int64_t after_key = -1;
  if (!after.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(after_key, internal::NissKey(after));
  }
  std::vector<std::string> persons;
  if (institutions.empty() || limit == 0) return persons;
  ArrayLiteral list;
  for (const std::string& institution : institutions) list.Add(institution);
  std::string array = list.Take();
  Status status = pool_.Run("selecting a research cohort", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    pqxx::result rows = transaction.exec_prepared(
        kPersonsWithEntries, after_key, std::string(capacity), internal::DayKey(overlapping.from),
        internal::DayKey(overlapping.to.value_or(Date::Max())), array,
        static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    persons.reserve(rows.size());
    for (const pqxx::row& row : rows) persons.push_back(internal::NissFromKey(row[0].as<int64_t>()));
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return persons;
}

Result<std::vector<Entry>> PostgresDirectoryStore::EntriesOfPersons(
    std::span<const std::string> persons) {
  ArrayLiteral keys;
  for (const std::string& niss : persons) {
    CARREFOUR_ASSIGN_OR_RETURN(int64_t key, internal::NissKey(niss));
    keys.Add(key);
  }
  std::vector<Entry> entries;
  if (persons.empty()) return entries;
  std::string array = keys.Take();
  Status status = pool_.Run("reading the entries of a batch of persons", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    CollectNumberedEntries(transaction.exec_prepared(kOfPersons, array), &entries);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

Result<DirectoryStore::Changes> PostgresDirectoryStore::ChangesAfter(uint64_t after,
                                                                     size_t limit) {
  Changes changes;
  changes.last = after;
  Status status = pool_.Run("reading the directory's change log", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    pqxx::result rows = transaction.exec_prepared(
        kChangesAfter, static_cast<int64_t>(std::min<uint64_t>(after, INT64_MAX)),
        static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    changes.persons.reserve(rows.size());
    for (const pqxx::row& row : rows) {
      changes.last = row[0].as<uint64_t>();
      changes.persons.push_back(row[1].as<uint64_t>());
    }
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return changes;
}

Result<uint64_t> PostgresDirectoryStore::LastChange() {
  uint64_t last = 0;
  Status status = pool_.Run("reading the end of the directory's change log", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    last = transaction.exec_prepared(kLastChange)[0][0].as<uint64_t>();
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return last;
}

Status PostgresDirectoryStore::ForgetChangesUpTo(uint64_t position) {
  return pool_.Run("pruning the directory's change log", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    transaction.exec_prepared(kForgetChanges, static_cast<int64_t>(std::min<uint64_t>(position, INT64_MAX)));
    return OkStatus();
  });
}

Result<std::vector<Entry>> PostgresDirectoryStore::EntriesAfter(uint64_t after, size_t persons) {
  std::vector<Entry> entries;
  if (persons == 0) return entries;
  Status status = pool_.Run("reading the directory in pages", [&](pqxx::connection& c) {
    pqxx::nontransaction transaction(c);
    pqxx::result rows = transaction.exec_prepared(
        kEntriesAfter, static_cast<int64_t>(std::min<uint64_t>(after, INT64_MAX)),
        static_cast<int64_t>(std::min<size_t>(persons, INT64_MAX)));
    CollectNumberedEntries(rows, &entries);
    return OkStatus();
  });
  if (!status.ok()) return Error(std::move(status));
  return entries;
}

}  // namespace carrefour::store::postgres
