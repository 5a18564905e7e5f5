// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <vector>

#include "store/bis_store.h"
#include "store/postgres/pool.h"

namespace carrefour::store::postgres {

// The BIS register on PostgreSQL (tables bis_person, bis_key, bis_serial).
// Creations take a transaction-scoped advisory lock, so that the duplicate
// check and the insert of one creation are not interleaved with another's,
// in this process or another hub process on the same database; the block
// counter's row lock alone would not cover duplicates born on other dates.
class PostgresBisStore final : public BisStore {
 public:
  explicit PostgresBisStore(Pool& pool) : pool_(pool) {}

  // The statements every connection of the pool prepares.
  static std::vector<PreparedStatement> Statements();

  // BisStore
  Result<std::string> Create(const NewBisPerson& person, std::span<const int64_t> lookup_keys,
                             const CheckCandidates& check, const ComposeNumber& compose,
                             int64_t now_us) override;
  Result<std::vector<BisRow>> FindByKeys(std::span<const int64_t> keys, size_t limit) override;
  Result<std::optional<BisRow>> Find(std::string_view niss) override;
  Result<std::optional<BisUpdate>> UpdateIdentity(std::string_view niss, const BisRow& identity,
                                               std::span<const int64_t> keys,
                                               int64_t now_us) override;
  Result<int64_t> Count() override;

 private:
  Pool& pool_;
};

}  // namespace carrefour::store::postgres
