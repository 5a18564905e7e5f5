// SPDX-License-Identifier: EUPL-1.2
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
  Result<std::vector<std::string>> PersonsWithEntries(std::span<const std::string> institutions,
                                                      std::string_view capacity,
                                                      Period overlapping, std::string_view after,
                                                      size_t limit) override;
  Result<std::vector<directory::Entry>> EntriesOfPersons(
      std::span<const std::string> persons) override;
  Result<Changes> ChangesAfter(uint64_t after, size_t limit) override;
  Result<uint64_t> LastChange() override;
  Status ForgetChangesUpTo(uint64_t position) override;
  Result<std::vector<directory::Entry>> EntriesAfter(uint64_t after, size_t persons) override;

 private:
  Database& database_;
};

}  // namespace carrefour::store::sqlite
