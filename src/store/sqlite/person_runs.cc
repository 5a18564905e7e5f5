// SPDX-License-Identifier: EUPL-1.2
#include "store/sqlite/person_runs.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace carrefour::store::sqlite {
namespace {

// audit_person_run.state; persistent (migration 13). The statements below,
// and CARREFOUR_LIVE_PERSON_RUNS (state <= 2), spell these numbers.
enum RunState : int64_t {
  kOpen = 0,     // takes new entries; read
  kSealed = 1,   // full; read
  kMerging = 2,  // being merged into `target`; read
  kFilling = 3,  // a merge's target, not complete; not read
  kMerged = 4,   // merged away, its entries being deleted; not read
};

// What a write needs to know, in one statement (the table has a few dozen
// rows): the open run, the highest level (the migrated history's, 1000, is
// not merged), whether a merge or a deletion is under way, and whether a
// level is full.
constexpr const char kSummary[] =
    "SELECT (SELECT run FROM audit_person_run WHERE state = 0 ORDER BY run DESC LIMIT 1), "
    "(SELECT coalesce(max(level), 0) FROM audit_person_run WHERE state <= 2 AND level < 1000), "
    "EXISTS (SELECT 1 FROM audit_person_run WHERE state >= 3), "
    "EXISTS (SELECT 1 FROM audit_person_run WHERE state = 1 GROUP BY level HAVING count(*) >= ?1)";
constexpr const char kNewRun[] =
    "INSERT INTO audit_person_run (run, level, entries, state, target) "
    "VALUES ((SELECT coalesce(max(run), 0) + 1 FROM audit_person_run), ?1, 0, ?2, NULL)";
constexpr const char kAddEntry[] =
    "INSERT INTO audit_person (run, niss, time_us, node, seq) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kGrow[] =
    "UPDATE audit_person_run SET entries = entries + ?2, "
    "state = CASE WHEN state = 0 AND entries + ?2 >= ?3 THEN 1 ELSE state END WHERE run = ?1 "
    "RETURNING state";

constexpr const char kMergedRun[] = "SELECT run FROM audit_person_run WHERE state = 4 LIMIT 1";
// Deletes a merged run's first ?2 + 1 entries; nothing when it has fewer.
constexpr const char kDeleteSlice[] =
    "DELETE FROM audit_person WHERE run = ?1 AND (niss, time_us, node, seq) <= "
    "(SELECT niss, time_us, node, seq FROM audit_person WHERE run = ?1 "
    " ORDER BY niss, time_us, node, seq LIMIT 1 OFFSET ?2)";
constexpr const char kDeleteRest[] = "DELETE FROM audit_person WHERE run = ?1";
constexpr const char kForgetRun[] = "DELETE FROM audit_person_run WHERE run = ?1";

constexpr const char kFillingRun[] = "SELECT run FROM audit_person_run WHERE state = 3 LIMIT 1";
constexpr const char kFullLevel[] =
    "SELECT level FROM audit_person_run WHERE state = 1 GROUP BY level HAVING count(*) >= ?1 "
    "ORDER BY level LIMIT 1";
constexpr const char kStartMerge[] =
    "UPDATE audit_person_run SET state = 2, target = ?1 WHERE run IN "
    "(SELECT run FROM audit_person_run WHERE state = 1 AND level = ?2 ORDER BY run LIMIT ?3)";
constexpr const char kSources[] =
    "SELECT run FROM audit_person_run WHERE state = 2 AND target = ?1 ORDER BY run";
constexpr const char kLastCopied[] =
    "SELECT niss, time_us, node, seq FROM audit_person WHERE run = ?1 "
    "ORDER BY niss DESC, time_us DESC, node DESC, seq DESC LIMIT 1";
constexpr const char kFinishMerge[] =
    "UPDATE audit_person_run SET state = CASE WHEN run = ?1 THEN 1 ELSE 4 END, target = NULL "
    "WHERE run = ?1 OR target = ?1";

// The next ?6 entries of `arms` source runs (?7, ?8, …) after the key
// (?2, ?3, ?4, ?5), in key order, copied into run ?1. SQLite merges the arms
// of an ordered compound select, each read in order from the primary key,
// and stops at the limit: a slice reads what it copies. One statement per
// number of arms (each arm is a level of comparisons more for every row).
const char* MergeSliceSql(size_t arms) {
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> out(PersonRunShape::kMaxFanout + 1);
    for (size_t n = 1; n < out.size(); ++n) {
      std::string& sql = out[n];
      sql = "INSERT INTO audit_person (run, niss, time_us, node, seq) "
            "SELECT ?1, niss, time_us, node, seq FROM (";
      for (size_t k = 0; k < n; ++k) {
        if (k > 0) sql += " UNION ALL ";
        sql += "SELECT niss, time_us, node, seq FROM audit_person WHERE run = ?" +
               std::to_string(7 + k) + " AND (niss, time_us, node, seq) > (?2, ?3, ?4, ?5)";
      }
      sql += " ORDER BY 1, 2, 3, 4 LIMIT ?6)";
    }
    return out;
  }();
  return kSql[arms].c_str();
}

Status Run(Statement& statement) {
  CARREFOUR_ASSIGN_OR_RETURN(bool row, statement.Step());
  (void)row;
  return OkStatus();
}

// A new run at `level`; returns its number.
Result<int64_t> NewRun(Connection& connection, int64_t level, RunState state) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * create, connection.Prepare(kNewRun));
  ScopedReset reset(*create);
  create->Bind(1, level);
  create->Bind(2, int64_t{state});
  CARREFOUR_RETURN_IF_ERROR(Run(*create));
  return create->LastInsertRowid();
}

// Deletes up to `budget` entries of a merged run (all of them and the run
// itself when it has no more); returns how many, 0 when there is none.
Result<int64_t> DeleteSlice(Connection& connection, int64_t budget) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * merged, connection.Prepare(kMergedRun));
  int64_t run = 0;
  {
    ScopedReset reset(*merged);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, merged->Step());
    if (!row) return int64_t{0};
    run = merged->ColumnInt(0);
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * slice, connection.Prepare(kDeleteSlice));
  ScopedReset reset_slice(*slice);
  slice->Bind(1, run);
  slice->Bind(2, budget - 1);
  CARREFOUR_RETURN_IF_ERROR(Run(*slice));
  if (int64_t deleted = slice->Changes(); deleted > 0) return deleted;
  // Fewer than `budget` left: the rest, and the run.
  CARREFOUR_ASSIGN_OR_RETURN(Statement * rest, connection.Prepare(kDeleteRest));
  ScopedReset reset_rest(*rest);
  rest->Bind(1, run);
  CARREFOUR_RETURN_IF_ERROR(Run(*rest));
  const int64_t deleted = rest->Changes();
  CARREFOUR_ASSIGN_OR_RETURN(Statement * forget, connection.Prepare(kForgetRun));
  ScopedReset reset_forget(*forget);
  forget->Bind(1, run);
  CARREFOUR_RETURN_IF_ERROR(Run(*forget));
  return std::max<int64_t>(deleted, 1);  // a run row is work too
}

// The target of the merge under way, starting one if a level has `fanout`
// sealed runs; 0 when there is nothing to merge.
Result<int64_t> MergeTarget(Connection& connection, const PersonRunShape& shape) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement * filling, connection.Prepare(kFillingRun));
  {
    ScopedReset reset(*filling);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, filling->Step());
    if (row) return filling->ColumnInt(0);
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * full, connection.Prepare(kFullLevel));
  int64_t level = 0;
  {
    ScopedReset reset(*full);
    full->Bind(1, shape.fanout);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, full->Step());
    if (!row) return int64_t{0};
    level = full->ColumnInt(0);
  }
  CARREFOUR_ASSIGN_OR_RETURN(const int64_t target, NewRun(connection, level + 1, kFilling));
  CARREFOUR_ASSIGN_OR_RETURN(Statement * start, connection.Prepare(kStartMerge));
  ScopedReset reset(*start);
  start->Bind(1, target);
  start->Bind(2, level);
  start->Bind(3, shape.fanout);
  CARREFOUR_RETURN_IF_ERROR(Run(*start));
  return target;
}

// Copies up to `budget` entries into `target`, in key order after the last
// one it has; completes the merge when its sources have no more.
Result<int64_t> MergeSlice(Connection& connection, int64_t target, int64_t budget) {
  std::vector<int64_t> sources;
  {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * query, connection.Prepare(kSources));
    ScopedReset reset(*query);
    query->Bind(1, target);
    while (true) {
      CARREFOUR_ASSIGN_OR_RETURN(bool row, query->Step());
      if (!row) break;
      sources.push_back(query->ColumnInt(0));
    }
  }
  if (sources.empty() || sources.size() > static_cast<size_t>(PersonRunShape::kMaxFanout)) {
    return Error(Internal(fmt::format(
        "the audit log's person index merges {} runs at once; it can merge 1 to {}", sources.size(),
        PersonRunShape::kMaxFanout)));
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * copy, connection.Prepare(MergeSliceSql(sources.size())));
  ScopedReset reset_copy(*copy);
  copy->Bind(1, target);
  // After the last key copied, or from the start (every key is above this
  // one: entries have a person number). The empty texts are not NULL.
  copy->Bind(2, std::string_view(""));
  copy->Bind(3, std::numeric_limits<int64_t>::min());
  copy->Bind(4, std::string_view(""));
  copy->Bind(5, std::numeric_limits<int64_t>::min());
  {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * last, connection.Prepare(kLastCopied));
    ScopedReset reset_last(*last);
    last->Bind(1, target);
    CARREFOUR_ASSIGN_OR_RETURN(bool copied_before, last->Step());
    if (copied_before) {
      copy->Bind(2, last->ColumnText(0));
      copy->Bind(3, last->ColumnInt(1));
      copy->Bind(4, last->ColumnText(2));
      copy->Bind(5, last->ColumnInt(3));
    }
  }
  copy->Bind(6, budget);
  for (size_t k = 0; k < sources.size(); ++k) copy->Bind(static_cast<int>(7 + k), sources[k]);
  CARREFOUR_RETURN_IF_ERROR(Run(*copy));
  const int64_t copied = copy->Changes();
  CARREFOUR_ASSIGN_OR_RETURN(Statement * grow, connection.Prepare(kGrow));
  {
    ScopedReset reset(*grow);
    grow->Bind(1, target);
    grow->Bind(2, copied);
    grow->Bind(3, std::numeric_limits<int64_t>::max());
    CARREFOUR_RETURN_IF_ERROR(Run(*grow));
  }
  if (copied < budget) {
    CARREFOUR_ASSIGN_OR_RETURN(Statement * finish, connection.Prepare(kFinishMerge));
    ScopedReset reset(*finish);
    finish->Bind(1, target);
    CARREFOUR_RETURN_IF_ERROR(Run(*finish));
    return std::max<int64_t>(copied, 1);
  }
  return copied;
}

// Up to `budget` entries of merge work: merged runs' entries deleted first
// (they are read no more), then the merge under way, or a new one.
Status Compact(Connection& connection, const PersonRunShape& shape, int64_t budget) {
  while (budget > 0) {
    CARREFOUR_ASSIGN_OR_RETURN(int64_t deleted, DeleteSlice(connection, budget));
    if (deleted > 0) {
      budget -= deleted;
      continue;
    }
    CARREFOUR_ASSIGN_OR_RETURN(int64_t target, MergeTarget(connection, shape));
    if (target == 0) return OkStatus();
    CARREFOUR_ASSIGN_OR_RETURN(int64_t copied, MergeSlice(connection, target, budget));
    budget -= copied;
  }
  return OkStatus();
}

}  // namespace

Status IndexPersons(Connection& connection, std::span<const audit::Record> records,
                    const PersonRunShape& shape) {
  const int64_t count = std::count_if(records.begin(), records.end(),
                                      [](const audit::Record& record) { return !record.niss.empty(); });
  if (count == 0) return OkStatus();
  CARREFOUR_ASSIGN_OR_RETURN(Statement * summary, connection.Prepare(kSummary));
  int64_t run = 0, levels = 1;
  bool pending = false;
  {
    ScopedReset reset(*summary);
    summary->Bind(1, shape.fanout);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, summary->Step());
    if (row) {
      run = summary->ColumnIsNull(0) ? 0 : summary->ColumnInt(0);
      levels = summary->ColumnInt(1) + 1;
      pending = summary->ColumnInt(2) != 0 || summary->ColumnInt(3) != 0;
    }
  }
  if (run == 0) {
    CARREFOUR_ASSIGN_OR_RETURN(run, NewRun(connection, 0, kOpen));
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * add, connection.Prepare(kAddEntry));
  for (const audit::Record& record : records) {
    if (record.niss.empty()) continue;  // never looked up
    ScopedReset reset(*add);
    add->Bind(1, run);
    add->BindUnowned(2, record.niss);
    add->Bind(3, record.time_us);
    add->BindUnowned(4, record.node);
    add->Bind(5, record.seq);
    CARREFOUR_RETURN_IF_ERROR(Run(*add));
  }
  CARREFOUR_ASSIGN_OR_RETURN(Statement * grow, connection.Prepare(kGrow));
  {
    ScopedReset reset(*grow);
    grow->Bind(1, run);
    grow->Bind(2, count);
    grow->Bind(3, shape.run_entries);
    CARREFOUR_ASSIGN_OR_RETURN(bool row, grow->Step());
    if (row && grow->ColumnInt(0) == kSealed) pending = true;  // its level may be full now
  }
  // Most writes of a trickle stop here: nothing to merge or delete.
  if (!pending) return OkStatus();
  // Each entry is copied and deleted once per level it climbs: two units
  // of work per new entry and level keep the merges in step with the writes
  // (a trickle of single records moves them by min_slice).
  return Compact(connection, shape, std::max(shape.min_slice, 2 * levels * count));
}

}  // namespace carrefour::store::sqlite
