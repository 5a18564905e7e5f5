#pragma once

#include "store/directory_store.h"
#include "store/sqlite/database.h"

namespace carrefour::store::sqlite {

// The person directory on SQLite: one statement per change, all of a batch in
// one write transaction (one fsync per batch).
class SqliteDirectoryStore final : public DirectoryStore {
 public:
  explicit SqliteDirectoryStore(Database& database) : database_(database) {}

  // DirectoryStore
  Result<std::vector<directory::EntryResult>> ApplyEntryChanges(
      std::span<const directory::EntryChange> changes) override;
  Result<std::vector<directory::Entry>> EntriesOfPerson(
      std::string_view niss, std::optional<Period> overlapping) override;
  Result<std::vector<directory::Entry>> EntriesOf(std::string_view institution,
                                                  std::string_view niss) override;

 private:
  Database& database_;
};

}  // namespace carrefour::store::sqlite
