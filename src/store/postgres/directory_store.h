// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <vector>

#include "store/directory_store.h"
#include "store/postgres/pool.h"

namespace carrefour::store::postgres {

// The person directory on PostgreSQL. A batch is one transaction of a few
// statements whatever its size: changes travel as arrays (unnest), so a
// 10 000-entry batch costs a handful of round trips, not 10 000.
class PostgresDirectoryStore final : public DirectoryStore {
 public:
  explicit PostgresDirectoryStore(Pool& pool) : pool_(pool) {}

  // The statements every connection prepares for this section.
  static std::vector<PreparedStatement> Statements();

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
  Pool& pool_;
};

}  // namespace carrefour::store::postgres
