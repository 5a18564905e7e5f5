// SPDX-License-Identifier: EUPL-1.2
#include "store/postgres/migrations.h"

namespace carrefour::store::postgres {
namespace {

// Do not renumber, reorder or edit: persistent format. Append new versions;
// keep the numbers in step with sqlite/migrations.cc. docs/store.md explains
// the choice of types.
constexpr internal::Migration kMigrations[] = {
    {1, "person directory",
     // Same columns as SQLite. Text compares bytewise (COLLATE "C"): the same
     // order as SQLite's, whatever the database's locale, and cheaper.
     // Person number first in the key: a person's entries are one index
     // range, and the table can later be split by a hash of it (DESIGN.md).
     "CREATE TABLE directory_entry ("
     "  niss        bigint  NOT NULL,"           // the 11 digits as a number
     "  institution text    COLLATE \"C\" NOT NULL,"
     "  capacity    text    COLLATE \"C\" NOT NULL,"
     "  valid_from  integer NOT NULL,"           // days since 1970-01-01
     "  valid_to    integer,"                    // inclusive; NULL = open-ended
     "  PRIMARY KEY (niss, institution, capacity, valid_from),"
     "  CHECK (valid_to IS NULL OR valid_to >= valid_from)"
     ");"},
    {2, "audit log",
     // Same columns as SQLite. Append-only: a trigger refuses updates and
     // deletes; the chain exposes a change made by someone who drops it.
     "CREATE TABLE audit_record ("
     "  node          text    COLLATE \"C\" NOT NULL,"
     "  seq           bigint  NOT NULL,"
     "  time_us       bigint  NOT NULL,"
     "  kind          integer NOT NULL,"
     "  request_id    text    NOT NULL,"
     "  requester     text    COLLATE \"C\" NOT NULL,"
     "  niss          text    COLLATE \"C\" NOT NULL,"
     "  data_type     text    NOT NULL,"
     "  capacity      text    NOT NULL,"
     "  legal_basis   text    NOT NULL,"
     "  outcome       integer NOT NULL,"
     "  reason        text    NOT NULL,"
     "  providers     text    NOT NULL,"
     "  latency_us    bigint  NOT NULL,"
     "  answer_sha256 text    NOT NULL,"
     "  detail        text    NOT NULL,"
     "  prev_hash     text    NOT NULL,"
     "  hash          text    NOT NULL,"
     "  PRIMARY KEY (node, seq)"
     ");"
     "CREATE INDEX audit_record_by_niss ON audit_record (niss, time_us);"
     "CREATE INDEX audit_record_by_requester ON audit_record (requester, time_us);"
     "CREATE INDEX audit_record_by_time ON audit_record (time_us);"
     "CREATE FUNCTION audit_record_append_only() RETURNS trigger LANGUAGE plpgsql AS "
     "  $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;"
     "CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record "
     "  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TABLE audit_checkpoint ("
     "  node text COLLATE \"C\" PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL,"
     "  mac text NOT NULL"
     ");"},
    {3, "mutations and feeds",
     // Same tables as SQLite (docs/mutations.md). Cursors come from the
     // per-subscriber counter row, never from a global sequence.
     "CREATE TABLE mutation ("
     "  mid         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     "  source      text    COLLATE \"C\" NOT NULL,"
     "  id          text    COLLATE \"C\" NOT NULL,"
     "  data_type   text    NOT NULL,"
     "  niss        text    COLLATE \"C\" NOT NULL,"
     "  effective   integer NOT NULL,"  // days since 1970-01-01
     "  accepted_us bigint  NOT NULL,"
     "  UNIQUE (source, id)"
     ");"
     "CREATE INDEX mutation_by_time ON mutation (accepted_us);"
     "CREATE TABLE mutation_feed ("
     "  subscriber  text    COLLATE \"C\" PRIMARY KEY,"
     "  last_cursor bigint  NOT NULL"
     ");"
     "CREATE TABLE mutation_delivery ("
     "  subscriber  text    COLLATE \"C\" NOT NULL,"
     "  cursor      bigint  NOT NULL,"
     "  mid         bigint  NOT NULL,"
     "  data        text    NOT NULL,"
     "  accepted_us bigint  NOT NULL,"
     "  PRIMARY KEY (subscriber, cursor)"
     ");"
     "CREATE INDEX mutation_delivery_by_time ON mutation_delivery (accepted_us);"
     "CREATE INDEX mutation_delivery_by_mutation ON mutation_delivery (mid);"
     "CREATE TABLE niss_replacement ("
     "  old_niss    text    COLLATE \"C\" PRIMARY KEY,"
     "  new_niss    text    COLLATE \"C\" NOT NULL,"
     "  effective   integer NOT NULL,"
     "  replaced_us bigint  NOT NULL"
     ");"},
    {4, "BIS register",
     // Same tables as SQLite (docs/bis.md). Creations serialize on an
     // advisory lock; block counters on their row lock.
     "CREATE TABLE bis_person ("
     "  niss        bigint  PRIMARY KEY,"  // the 11 digits as a number
     "  last_name   text    NOT NULL,"
     "  first_names text    NOT NULL,"
     "  birth_year  integer,"              // NULL: unknown
     "  birth_month integer NOT NULL,"     // 0: unknown
     "  birth_day   integer NOT NULL,"     // 0: unknown
     "  sex         integer NOT NULL,"     // 0 unknown, 1 male, 2 female
     "  nationality text    NOT NULL,"     // '': unknown
     "  created_by  text    COLLATE \"C\" NOT NULL,"
     "  created_us  bigint  NOT NULL,"
     "  updated_us  bigint  NOT NULL,"
     "  forced      boolean NOT NULL"      // created despite possible duplicates
     ");"
     "CREATE TABLE bis_key ("
     "  key  bigint NOT NULL,"
     "  niss bigint NOT NULL,"
     "  PRIMARY KEY (key, niss)"
     ");"
     "CREATE INDEX bis_key_by_niss ON bis_key (niss);"
     "CREATE TABLE bis_serial ("
     "  block bigint  PRIMARY KEY,"
     "  used  integer NOT NULL"
     ");"},
    {5, "mutations by person",
     // The console's person view lists the deliveries about one number that
     // still wait in a feed (MutationStore::PendingDeliveriesOf).
     "CREATE INDEX mutation_by_niss ON mutation (niss);"},
    {6, "verifiable audit log",
     // Same tables as SQLite: signed checkpoints and published keys,
     // append-only; the old MAC'd heads become append-only too.
     "CREATE TABLE audit_tree_head ("
     "  node      text   COLLATE \"C\" NOT NULL,"
     "  tree_size bigint NOT NULL,"
     "  hash      text   NOT NULL,"
     "  root      text   NOT NULL,"
     "  note      text   NOT NULL,"
     "  time_us   bigint NOT NULL,"
     "  PRIMARY KEY (node, tree_size)"
     ");"
     "CREATE TABLE audit_node_key ("
     "  node         text   COLLATE \"C\" PRIMARY KEY,"
     "  verifier_key text   NOT NULL,"
     "  time_us      bigint NOT NULL"
     ");"
     "CREATE TRIGGER audit_tree_head_append_only BEFORE UPDATE OR DELETE ON audit_tree_head "
     "  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_node_key_append_only BEFORE UPDATE OR DELETE ON audit_node_key "
     "  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint "
     "  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();"
     // TRUNCATE skips row triggers: refuse it as well.
     "CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_tree_head_no_truncate BEFORE TRUNCATE ON audit_tree_head "
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_node_key_no_truncate BEFORE TRUNCATE ON audit_node_key "
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint "
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();"},
    {7, "mutation payloads stored once, feeds in blocks",
     // Same change as SQLite (docs/mutations.md, "Schema"). Existing
     // deliveries become one-entry blocks; each payload is the union of its
     // copies.
     "ALTER TABLE mutation ADD COLUMN data text;"  // NULL: no copy left
     "ALTER TABLE mutation ADD COLUMN pending integer NOT NULL DEFAULT 0;"
     "CREATE TABLE mutation_block ("
     "  subscriber   text    COLLATE \"C\" NOT NULL,"
     "  last_cursor  bigint  NOT NULL,"
     "  first_cursor bigint  NOT NULL,"
     "  acked        bigint  NOT NULL,"  // acknowledged up to here (first_cursor - 1: none)
     "  accepted_us  bigint  NOT NULL,"
     "  fields       text    NOT NULL,"  // JSON array of the copies' field lists
     "  entries      text    NOT NULL,"  // per cursor: mid, or mid/k (k: a field list)
     "  PRIMARY KEY (subscriber, last_cursor)"
     ");"
     "CREATE INDEX mutation_block_by_time ON mutation_block (accepted_us);"
     "INSERT INTO mutation_block (subscriber, last_cursor, first_cursor, acked, accepted_us, "
     "  fields, entries) "
     "SELECT d.subscriber, d.cursor, d.cursor, d.cursor - 1, d.accepted_us,"
     "  jsonb_build_array(coalesce((SELECT jsonb_agg(k) FROM jsonb_object_keys(d.data::jsonb) k),"
     "    '[]'::jsonb))::text,"
     "  d.mid || '/0' "
     "FROM mutation_delivery d;"
     "UPDATE mutation m SET"
     "  pending = (SELECT count(*) FROM mutation_delivery d WHERE d.mid = m.mid),"
     "  data = (SELECT jsonb_object_agg(j.key, j.value)::text FROM mutation_delivery d,"
     "    jsonb_each(d.data::jsonb) j WHERE d.mid = m.mid)"
     " WHERE m.mid IN (SELECT mid FROM mutation_delivery);"
     "DROP TABLE mutation_delivery;"},
    {8, "person index",
     // Same as SQLite (docs/transparency.md, "Completeness").
     "ALTER TABLE audit_tree_head ADD COLUMN index_note text NOT NULL DEFAULT '';"
     "CREATE TABLE audit_index_key ("
     "  id      integer PRIMARY KEY CHECK (id = 1),"
     "  key     text    NOT NULL,"
     "  time_us bigint  NOT NULL"
     ");"
     "CREATE TRIGGER audit_index_key_append_only BEFORE UPDATE OR DELETE ON audit_index_key "
     "  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();"
     "CREATE TRIGGER audit_index_key_no_truncate BEFORE TRUNCATE ON audit_index_key "
     "  FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();"},
    {9, "directory change log",
     // Same as SQLite, one row per person and statement. Several hubs write
     // at once here: the advisory lock, held to the commit, makes positions
     // follow commit order, so that a reader never passes a position whose
     // change is not yet visible (docs/store.md, "The directory's change
     // log"). The lock is taken only by transactions that change entries.
     "CREATE TABLE directory_change ("
     "  seq  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
     "  niss bigint NOT NULL"
     ");"
     "CREATE FUNCTION directory_entry_logged() RETURNS trigger LANGUAGE plpgsql AS $$"
     " BEGIN"
     "  PERFORM pg_advisory_xact_lock(1684632419);"  // 0x64697263, "dirc"
     "  INSERT INTO directory_change (niss) SELECT DISTINCT niss FROM changed;"
     "  RETURN NULL;"
     " END $$;"
     "CREATE TRIGGER directory_entry_added AFTER INSERT ON directory_entry"
     "  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
     "  EXECUTE FUNCTION directory_entry_logged();"
     "CREATE TRIGGER directory_entry_changed AFTER UPDATE ON directory_entry"
     "  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
     "  EXECUTE FUNCTION directory_entry_logged();"
     "CREATE TRIGGER directory_entry_removed AFTER DELETE ON directory_entry"
     "  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT"
     "  EXECUTE FUNCTION directory_entry_logged();"},
    {10, "room for acknowledgements",
     // Each acknowledgement rewrites its mutations' rows (pending, then the
     // payload dropped): up to one new row version per subscriber. With
     // room left on the row's page the new version stays there (a HOT
     // update) and none of the table's four indexes gets an entry; on a
     // full page every version added one to each, and pruning them was the
     // server's largest cost under load (docs/mutations.md, "Run 10"). Pages
     // written from now on are filled to half.
     "ALTER TABLE mutation SET (fillfactor = 50);"},
    {11, "mutations by person, in blocks of numbers",
     // As SQLite's migration 11: a batch's index entries land in the last
     // block's few pages instead of one random page each (each also a
     // full-page image in the WAL after a checkpoint).
     "DROP INDEX mutation_by_niss;"
     "CREATE INDEX mutation_by_person ON mutation ((mid >> 14), niss);"},
    {12, "mutations by time, in ranges of pages",
     // mutation_by_time serves retention alone (the purge deletes what was
     // accepted before a time): rows arrive in time order, so a block range
     // index (a few bytes per 128 pages, kept up by autovacuum's summaries)
     // finds them as well as a B-tree, which took an entry per mutation
     // (docs/mutations.md, "Run 11": 6 % fewer bytes written, 2-7 % more
     // intake).
     "DROP INDEX mutation_by_time;"
     "CREATE INDEX mutation_by_time ON mutation USING brin (accepted_us) "
     "WITH (autosummarize = on);"},
    {13, "the audit log's person index in sorted runs",
     // SQLite's migration 13 replaces audit_record_by_niss with sorted runs
     // merged as they pile up. PostgreSQL logs an index insertion as a
     // small WAL record, not the page it lands on, and keeps its B-tree
     // (docs/store.md, "The audit log's person index"): nothing to do but
     // keep the numbers in step.
     "SELECT 1;"},
};

}  // namespace

std::span<const internal::Migration> Migrations() { return kMigrations; }

}  // namespace carrefour::store::postgres
