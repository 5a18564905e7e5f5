// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include "store/bis_store.h"
#include "store/sqlite/database.h"

namespace carrefour::store::sqlite {

// The BIS register on SQLite (tables bis_person, bis_key, bis_serial). The
// single writer (Database) is the creation lock: a creation's duplicate
// check and its insert are one write transaction.
class SqliteBisStore final : public BisStore {
 public:
  explicit SqliteBisStore(Database& database) : database_(database) {}

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
  Database& database_;
};

}  // namespace carrefour::store::sqlite
