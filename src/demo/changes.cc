// SPDX-License-Identifier: EUPL-1.2
#include "demo/changes.h"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "demo/internal/sqlite_file.h"

namespace carrefour::demo {
namespace {

using internal::Day;
using internal::SqliteFile;
using internal::Statement;
using internal::Text;

// Runs `change` in one immediate transaction (the connector may be reading
// or writing the same file: it waits for the lock rather than failing).
Status InTransaction(const std::filesystem::path& db,
                     const std::function<Status(SqliteFile&)>& change) {
  CARREFOUR_ASSIGN_OR_RETURN(std::unique_ptr<SqliteFile> file, SqliteFile::Open(db));
  CARREFOUR_RETURN_IF_ERROR(file->Exec("BEGIN IMMEDIATE"));
  Status status = change(*file);
  if (status.ok()) status = file->Exec("COMMIT");
  if (!status.ok()) {
    (void)file->Exec("ROLLBACK");
    return status;
  }
  return file->Close();
}

Status Publish(SqliteFile& file, std::string_view data_type, std::string_view niss, Date effective,
               std::string_view json_object_sql, std::initializer_list<internal::Value> values) {
  // The outbox's data is built by SQLite's json_object(), which escapes.
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement insert,
      file.Prepare(fmt::format("INSERT INTO carrefour_outbox (data_type, niss, effective, data)"
                               " VALUES ('{}', ?1, ?2, {})",
                               data_type, json_object_sql)));
  std::vector<internal::Value> all = {Text(niss), Day(effective)};
  all.insert(all.end(), values.begin(), values.end());
  return insert.Run(all);
}

Status RequirePerson(SqliteFile& file, std::string_view table, std::string_view niss) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement query,
                             file.Prepare(fmt::format("SELECT 1 FROM {} WHERE niss = ?1", table)));
  CARREFOUR_ASSIGN_OR_RETURN(bool found, query.Fetch({Text(niss)}));
  if (!found) return NotFound(fmt::format("{} is not in the {} table", niss, table));
  return OkStatus();
}

Status MoveTo(SqliteFile& file, std::string_view niss, const Address& address, Date effective) {
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement close,
      file.Prepare("UPDATE residence SET until = ?2 WHERE niss = ?1 AND until IS NULL"));
  CARREFOUR_RETURN_IF_ERROR(close.Run({Text(niss), Day(effective.AddDays(-1))}));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement open,
      file.Prepare("INSERT INTO residence (niss, street, postal_code, municipality, country, since)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  return open.Run({Text(niss), Text(address.street), Text(address.postal_code),
                   Text(address.municipality), Text(address.country), Day(effective)});
}

Status PublishAddress(SqliteFile& file, std::string_view niss, const Address& address,
                      Date effective) {
  return Publish(file, "person.address", niss, effective,
                 "json_object('street', ?3, 'postal_code', ?4, 'municipality', ?5, "
                 "'country', ?6, 'since', ?2)",
                 {Text(address.street), Text(address.postal_code), Text(address.municipality),
                  Text(address.country)});
}

Status Replace(SqliteFile& file, std::string_view old_niss, std::string_view new_niss,
               Date effective) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement used,
                             file.Prepare("SELECT 1 FROM person WHERE niss = ?1 UNION ALL "
                                          "SELECT 1 FROM niss_replacement WHERE old_niss = ?1"));
  CARREFOUR_ASSIGN_OR_RETURN(bool taken, used.Fetch({Text(new_niss)}));
  if (taken) return InvalidRequest(fmt::format("{} is already in use", new_niss));
  CARREFOUR_ASSIGN_OR_RETURN(Statement record,
                             file.Prepare("INSERT INTO niss_replacement VALUES (?1, ?2, ?3)"));
  CARREFOUR_RETURN_IF_ERROR(record.Run({Text(old_niss), Text(new_niss), Day(effective)}));
  for (std::string_view sql : {"UPDATE person SET niss = ?2 WHERE niss = ?1",
                               "UPDATE residence SET niss = ?2 WHERE niss = ?1",
                               "UPDATE household_member SET niss = ?2 WHERE niss = ?1",
                               "UPDATE household SET reference_niss = ?2 WHERE reference_niss = ?1",
                               "UPDATE death SET niss = ?2 WHERE niss = ?1"}) {
    CARREFOUR_ASSIGN_OR_RETURN(Statement update, file.Prepare(sql));
    CARREFOUR_RETURN_IF_ERROR(update.Run({Text(old_niss), Text(new_niss)}));
  }
  return Publish(file, "person.niss-replaced", old_niss, effective, "json_object('new_niss', ?3)",
                 {Text(new_niss)});
}

}  // namespace

Status RecordMove(const std::filesystem::path& register_db, std::string_view niss,
                  const Address& address, Date effective) {
  return InTransaction(register_db, [&](SqliteFile& file) -> Status {
    CARREFOUR_RETURN_IF_ERROR(RequirePerson(file, "person", niss));
    CARREFOUR_RETURN_IF_ERROR(MoveTo(file, niss, address, effective));
    return PublishAddress(file, niss, address, effective);
  });
}

Status RecordDeath(const std::filesystem::path& register_db, std::string_view niss, Date date,
                   std::string_view municipality) {
  return InTransaction(register_db, [&](SqliteFile& file) -> Status {
    CARREFOUR_RETURN_IF_ERROR(RequirePerson(file, "person", niss));
    CARREFOUR_ASSIGN_OR_RETURN(Statement death,
                               file.Prepare("INSERT INTO death VALUES (?1, ?2, ?3)"));
    Status inserted = death.Run({Text(niss), Day(date), Text(municipality)});
    if (!inserted.ok()) {
      return inserted.code() == StatusCode::kInvalidRequest
                 ? InvalidRequest(fmt::format("the death of {} is already recorded", niss))
                 : inserted;
    }
    for (std::string_view sql :
         {"UPDATE residence SET until = ?2 WHERE niss = ?1 AND until IS NULL",
          "UPDATE household_member SET until = ?2 WHERE niss = ?1 AND until IS NULL"}) {
      CARREFOUR_ASSIGN_OR_RETURN(Statement update, file.Prepare(sql));
      CARREFOUR_RETURN_IF_ERROR(update.Run({Text(niss), Day(date)}));
    }
    return Publish(file, "person.death", niss, date,
                   "json_object('death_date', ?2, 'municipality', ?3)", {Text(municipality)});
  });
}

Status RecordNissReplacement(const std::filesystem::path& register_db, std::string_view old_niss,
                             std::string_view new_niss, Date effective) {
  return InTransaction(register_db, [&](SqliteFile& file) -> Status {
    CARREFOUR_RETURN_IF_ERROR(RequirePerson(file, "person", old_niss));
    return Replace(file, old_niss, new_niss, effective);
  });
}

Status RecordRegistration(const std::filesystem::path& register_db, const Person& person,
                          std::string_view new_niss, const Address& address, Date effective) {
  return InTransaction(register_db, [&](SqliteFile& file) -> Status {
    CARREFOUR_ASSIGN_OR_RETURN(
        Statement insert, file.Prepare("INSERT INTO person VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    CARREFOUR_RETURN_IF_ERROR(
        insert.Run({Text(person.niss), Text(person.last_name), Text(person.first_names),
                    Day(person.birth_date), Text(person.sex == niss::Sex::kFemale ? "f" : "m"),
                    Text(person.nationality), Day(effective)}));
    CARREFOUR_RETURN_IF_ERROR(MoveTo(file, person.niss, address, effective));
    // Registered under the BIS number first, then renumbered: the same path
    // as any replacement, so that the register's tables stay consistent.
    return Replace(file, person.niss, new_niss, effective);
  });
}

Status RecordWages(const std::filesystem::path& collector_db, std::string_view niss,
                   std::string_view employer_id, const QuarterlyWage& wage, Date effective) {
  return InTransaction(collector_db, [&](SqliteFile& file) -> Status {
    CARREFOUR_RETURN_IF_ERROR(RequirePerson(file, "worker", niss));
    CARREFOUR_ASSIGN_OR_RETURN(
        Statement insert,
        file.Prepare(
            "INSERT OR REPLACE INTO wage_declaration VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    CARREFOUR_RETURN_IF_ERROR(
        insert.Run({Text(niss), Text(wage.QuarterText()), Day(wage.FirstDay()), Day(wage.LastDay()),
                    Text(employer_id), internal::Euros(wage.gross_cents),
                    static_cast<int64_t>(wage.days_worked)}));
    return Publish(file, "employment.wages", niss, effective,
                   "json_object('quarter', ?3, 'employer_id', ?4, 'gross_wage', ?5, "
                   "'days_worked', ?6)",
                   {Text(wage.QuarterText()), Text(employer_id), internal::Euros(wage.gross_cents),
                    static_cast<int64_t>(wage.days_worked)});
  });
}

}  // namespace carrefour::demo
