// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/migrations.h"

namespace carrefour::store::sqlite {
namespace {

// Do not renumber, reorder or edit: persistent format. Append new versions;
// keep the numbers in step with postgres/migrations.cc. docs/store.md
// explains the choice of types.
constexpr internal::Migration kMigrations[] = {
    {1, "person directory",
     // Clustered on the identity of an entry, person number first: a
     // person's entries are neighbours on disk (one B-tree descent per
     // look-up) and the key can later be split by person (DESIGN.md).
     "CREATE TABLE directory_entry ("
     "  niss        INTEGER NOT NULL,"  // the 11 digits as a number
     "  institution TEXT    NOT NULL,"
     "  capacity    TEXT    NOT NULL,"
     "  valid_from  INTEGER NOT NULL,"  // days since 1970-01-01
     "  valid_to    INTEGER,"           // inclusive; NULL = open-ended
     "  PRIMARY KEY (niss, institution, capacity, valid_from),"
     "  CHECK (valid_to IS NULL OR valid_to >= valid_from)"
     ") STRICT, WITHOUT ROWID;"},
    {2, "audit log",
     // Append-only, hash-chained (audit/record.h): one chain per hub node.
     // The triggers refuse updates and deletes from any client; the chain
     // and the checkpoint still expose a change made by someone who drops
     // them (audit/audit_log.h, Verify).
     "CREATE TABLE audit_record ("
     "  node          TEXT    NOT NULL,"
     "  seq           INTEGER NOT NULL,"
     "  time_us       INTEGER NOT NULL,"
     "  kind          INTEGER NOT NULL,"
     "  request_id    TEXT    NOT NULL,"
     "  requester     TEXT    NOT NULL,"
     "  niss          TEXT    NOT NULL,"
     "  data_type     TEXT    NOT NULL,"
     "  capacity      TEXT    NOT NULL,"
     "  legal_basis   TEXT    NOT NULL,"
     "  outcome       INTEGER NOT NULL,"
     "  reason        TEXT    NOT NULL,"
     "  providers     TEXT    NOT NULL,"
     "  latency_us    INTEGER NOT NULL,"
     "  answer_sha256 TEXT    NOT NULL,"
     "  detail        TEXT    NOT NULL,"
     "  prev_hash     TEXT    NOT NULL,"
     "  hash          TEXT    NOT NULL,"
     "  PRIMARY KEY (node, seq)"
     ") STRICT;"
     "CREATE INDEX audit_record_by_niss ON audit_record (niss, time_us);"
     "CREATE INDEX audit_record_by_requester ON audit_record (requester, time_us);"
     "CREATE INDEX audit_record_by_time ON audit_record (time_us);"
     "CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TABLE audit_checkpoint ("
     "  node TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL"
     ") STRICT;"},
    {3, "mutations and feeds",
     // docs/mutations.md: a mutation's identity (duplicate detection), one
     // delivery per subscriber holding only its fields, a cursor counter per
     // subscriber, and the record of identity replacements.
     "CREATE TABLE mutation ("
     "  mid         INTEGER PRIMARY KEY,"
     "  source      TEXT    NOT NULL,"
     "  id          TEXT    NOT NULL,"
     "  data_type   TEXT    NOT NULL,"
     "  niss        TEXT    NOT NULL,"
     "  effective   INTEGER NOT NULL,"  // days since 1970-01-01
     "  accepted_us INTEGER NOT NULL,"
     "  UNIQUE (source, id)"
     ") STRICT;"
     "CREATE INDEX mutation_by_time ON mutation (accepted_us);"
     "CREATE TABLE mutation_feed ("
     "  subscriber  TEXT    PRIMARY KEY,"
     "  last_cursor INTEGER NOT NULL"
     ") STRICT;"
     "CREATE TABLE mutation_delivery ("
     "  subscriber  TEXT    NOT NULL,"
     "  cursor      INTEGER NOT NULL,"
     "  mid         INTEGER NOT NULL,"
     "  data        TEXT    NOT NULL,"
     "  accepted_us INTEGER NOT NULL,"
     "  PRIMARY KEY (subscriber, cursor)"
     ") STRICT, WITHOUT ROWID;"
     "CREATE INDEX mutation_delivery_by_time ON mutation_delivery (accepted_us);"
     "CREATE INDEX mutation_delivery_by_mutation ON mutation_delivery (mid);"
     "CREATE TABLE niss_replacement ("
     "  old_niss    TEXT    PRIMARY KEY,"
     "  new_niss    TEXT    NOT NULL,"
     "  effective   INTEGER NOT NULL,"
     "  replaced_us INTEGER NOT NULL"
     ") STRICT;"},
    {4, "BIS register",
     // docs/bis.md: the persons the hub itself numbers (the one identity
     // register it owns), their blocking keys for duplicate detection, and
     // one counter per block of numbers (a birth-date part and a sex), which
     // only grows: a number is never handed out twice.
     "CREATE TABLE bis_person ("
     "  niss        INTEGER PRIMARY KEY,"  // the 11 digits as a number
     "  last_name   TEXT    NOT NULL,"
     "  first_names TEXT    NOT NULL,"
     "  birth_year  INTEGER,"              // NULL: unknown
     "  birth_month INTEGER NOT NULL,"     // 0: unknown
     "  birth_day   INTEGER NOT NULL,"     // 0: unknown
     "  sex         INTEGER NOT NULL,"     // 0 unknown, 1 male, 2 female
     "  nationality TEXT    NOT NULL,"     // '': unknown
     "  created_by  TEXT    NOT NULL,"
     "  created_us  INTEGER NOT NULL,"
     "  updated_us  INTEGER NOT NULL,"
     "  forced      INTEGER NOT NULL"      // 1: created despite possible duplicates
     ") STRICT;"
     // The key leads: a search reads a few key ranges. (The person number
     // cannot lead here; bis_key_by_niss serves updates.)
     "CREATE TABLE bis_key ("
     "  key  INTEGER NOT NULL,"
     "  niss INTEGER NOT NULL,"
     "  PRIMARY KEY (key, niss)"
     ") STRICT, WITHOUT ROWID;"
     "CREATE INDEX bis_key_by_niss ON bis_key (niss);"
     "CREATE TABLE bis_serial ("
     "  block INTEGER PRIMARY KEY,"
     "  used  INTEGER NOT NULL"
     ") STRICT;"},
    {5, "mutations by person",
     // The console's person view lists the deliveries about one number that
     // still wait in a feed (MutationStore::PendingDeliveriesOf).
     "CREATE INDEX mutation_by_niss ON mutation (niss);"},
    {6, "verifiable audit log",
     // docs/api.md 6.1 (audit/audit_log.h): every node's signed checkpoints, a
     // history saved with the records it covers, and every node's published
     // verifier key. Both append-only like the records; the MAC'd heads of
     // audit_checkpoint are no longer written and become append-only too.
     "CREATE TABLE audit_tree_head ("
     "  node      TEXT    NOT NULL,"
     "  tree_size INTEGER NOT NULL,"
     "  hash      TEXT    NOT NULL,"  // chain hash of record tree_size
     "  root      TEXT    NOT NULL,"  // hex Merkle root
     "  note      TEXT    NOT NULL,"  // the signed checkpoint
     "  time_us   INTEGER NOT NULL,"
     "  PRIMARY KEY (node, tree_size)"
     ") STRICT;"
     "CREATE TABLE audit_node_key ("
     "  node         TEXT    PRIMARY KEY,"
     "  verifier_key TEXT    NOT NULL,"
     "  time_us      INTEGER NOT NULL"
     ") STRICT;"
     "CREATE TRIGGER audit_tree_head_no_update BEFORE UPDATE ON audit_tree_head "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_tree_head_no_delete BEFORE DELETE ON audit_tree_head "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_node_key_no_update BEFORE UPDATE ON audit_node_key "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_node_key_no_delete BEFORE DELETE ON audit_node_key "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"},
    {7, "mutation payloads stored once, feeds in blocks",
     // docs/mutations.md, "Schema": the payload moves to the mutation (the
     // fields some subscriber may receive, once) with the number of copies
     // not yet acknowledged; a subscriber's deliveries of one accepting
     // transaction are one mutation_block row (its cursors, each naming a
     // mutation and the copy's fields) instead of a row per copy. Existing
     // deliveries become one-entry blocks; each payload is the union of its
     // copies.
     "ALTER TABLE mutation ADD COLUMN data TEXT;"  // NULL: no copy left
     "ALTER TABLE mutation ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE mutation_block ("
     "  subscriber   TEXT    NOT NULL,"
     "  last_cursor  INTEGER NOT NULL,"
     "  first_cursor INTEGER NOT NULL,"
     "  acked        INTEGER NOT NULL,"  // acknowledged up to here (first_cursor - 1: none)
     "  accepted_us  INTEGER NOT NULL,"
     "  fields       TEXT    NOT NULL,"  // JSON array of the copies' field lists
     "  entries      TEXT    NOT NULL,"  // per cursor: mid, or mid/k (k: a field list)
     "  PRIMARY KEY (subscriber, last_cursor)"
     ") STRICT, WITHOUT ROWID;"
     "CREATE INDEX mutation_block_by_time ON mutation_block (accepted_us);"
     "INSERT INTO mutation_block (subscriber, last_cursor, first_cursor, acked, accepted_us, "
     "  fields, entries) "
     "SELECT d.subscriber, d.cursor, d.cursor, d.cursor - 1, d.accepted_us,"
     "  json_array(json((SELECT json_group_array(j.key) FROM json_each(d.data) j))),"
     "  d.mid || '/0' "
     "FROM mutation_delivery d;"
     "UPDATE mutation SET"
     "  pending = (SELECT count(*) FROM mutation_delivery d WHERE d.mid = mutation.mid),"
     "  data = (SELECT json_group_object(key, CASE type WHEN 'true' THEN json('true')"
     "    WHEN 'false' THEN json('false') WHEN 'null' THEN json('null')"
     "    WHEN 'object' THEN json(value) WHEN 'array' THEN json(value) ELSE value END)"
     "    FROM (SELECT DISTINCT j.key, j.type, j.value FROM mutation_delivery d, json_each(d.data) j"
     "          WHERE d.mid = mutation.mid))"
     " WHERE mid IN (SELECT mid FROM mutation_delivery);"
     "DROP TABLE mutation_delivery;"},
    {8, "person index",
     // docs/transparency.md, "Completeness": each checkpoint's person index
     // root in a note of its own signed by the node's key (empty for the
     // checkpoints from before), and the index's key, one per store, shared
     // by its nodes; written once, never changed.
     "ALTER TABLE audit_tree_head ADD COLUMN index_note TEXT NOT NULL DEFAULT '';"
     "CREATE TABLE audit_index_key ("
     "  id      INTEGER PRIMARY KEY CHECK (id = 1),"
     "  key     TEXT    NOT NULL,"  // 64 hex digits
     "  time_us INTEGER NOT NULL"
     ") STRICT;"
     "CREATE TRIGGER audit_index_key_no_update BEFORE UPDATE ON audit_index_key "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
     "CREATE TRIGGER audit_index_key_no_delete BEFORE DELETE ON audit_index_key "
     "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"},
    {9, "directory change log",
     // docs/store.md, "The directory's change log": which persons' entries
     // changed, in commit order, for the hubs that keep the directory in
     // memory (replica/directory_replica.h). Written by triggers, so that
     // every writer (the API, `carrefour directory import`, identity
     // replacements) is seen. Writers are one at a time in SQLite, so
     // positions (rowids) are in commit order; pruning always keeps the
     // last row, so that a position is never given twice.
     "CREATE TABLE directory_change ("
     "  seq  INTEGER PRIMARY KEY,"
     "  niss INTEGER NOT NULL"
     ") STRICT;"
     "CREATE TRIGGER directory_entry_added AFTER INSERT ON directory_entry BEGIN"
     "  INSERT INTO directory_change (niss) VALUES (NEW.niss); END;"
     "CREATE TRIGGER directory_entry_changed AFTER UPDATE ON directory_entry BEGIN"
     "  INSERT INTO directory_change (niss) VALUES (NEW.niss); END;"
     "CREATE TRIGGER directory_entry_removed AFTER DELETE ON directory_entry BEGIN"
     "  INSERT INTO directory_change (niss) VALUES (OLD.niss); END;"},
    {10, "room for acknowledgements",
     // PostgreSQL's migration 10 leaves room on the mutations' pages for
     // the row versions acknowledgements write. SQLite rewrites a row in
     // place: nothing to do but keep the numbers in step.
     "SELECT 1;"},
    {11, "mutations by person, in blocks of numbers",
     // mutation_by_niss took one random leaf page per mutation: a batch of
     // 1000 wrote about as many pages of it, and more as the table grew
     // (docs/mutations.md, "Run 10"). Keyed by the block of 16 384
     // mutation numbers first, a batch's entries land in the last block's
     // few pages; a person's look-up (the console's pending deliveries)
     // probes each block the table spans, a few thousand at 30 days of
     // retention.
     "DROP INDEX mutation_by_niss;"
     "CREATE INDEX mutation_by_person ON mutation (mid >> 14, niss);"},
    {12, "mutations by time, in ranges of pages",
     // PostgreSQL's migration 12 makes mutation_by_time a block range index.
     // SQLite has none, and its B-tree takes a batch's entries in its last
     // page anyway: nothing to do but keep the numbers in step.
     "SELECT 1;"},
    {13, "the audit log's person index in sorted runs",
     // audit_record_by_niss took a random leaf page per record: a batch of
     // 1000 rewrote hundreds of its pages, more as the log grew
     // (docs/mutations.md, "Run 12"). Its entries become sorted runs
     // (sqlite/person_runs.h): the records so far one run of a level of
     // its own, never merged, and new records the open run's.
     "CREATE TABLE audit_person_run ("
     "  run     INTEGER PRIMARY KEY,"
     "  level   INTEGER NOT NULL,"
     "  entries INTEGER NOT NULL,"
     "  state   INTEGER NOT NULL,"  // 0 open, 1 sealed, 2 merging, 3 filling, 4 merged away
     "  target  INTEGER"            // while merging: the run it goes into
     ") STRICT;"
     "CREATE TABLE audit_person ("
     "  run     INTEGER NOT NULL,"
     "  niss    TEXT    NOT NULL,"
     "  time_us INTEGER NOT NULL,"
     "  node    TEXT    NOT NULL,"
     "  seq     INTEGER NOT NULL,"
     "  PRIMARY KEY (run, niss, time_us, node, seq)"
     ") STRICT, WITHOUT ROWID;"
     "INSERT INTO audit_person (run, niss, time_us, node, seq) "
     "SELECT 1, niss, time_us, node, seq FROM audit_record WHERE niss <> '' "
     "ORDER BY niss, time_us, node, seq;"
     "INSERT INTO audit_person_run (run, level, entries, state, target) "
     "SELECT 1, 1000, (SELECT count(*) FROM audit_person), 1, NULL "
     "WHERE EXISTS (SELECT 1 FROM audit_person);"
     "DROP INDEX audit_record_by_niss;"},
};

}  // namespace

std::span<const internal::Migration> Migrations() { return kMigrations; }

}  // namespace carrefour::store::sqlite
