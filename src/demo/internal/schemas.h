// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The demo's database schema for each institution type: its tables, how they
// are filled from the population, and the SQL its connector runs (provide
// queries, feed apply statements). Private to src/demo.

#include <span>
#include <string_view>

#include "core/status.h"
#include "demo/internal/sqlite_file.h"
#include "demo/population.h"
#include "network/model.h"

namespace carrefour::demo::internal {

struct ProvideSql {
  std::string_view data_type;
  std::string_view result;  // "object" | "list"
  std::string_view sql;
};

struct ApplySql {
  std::string_view data_type;
  std::string_view sql;
};

// Fills an institution's tables (inside the caller's transaction).
// `by_number` lists the persons in the order of their numbers: inserting in
// key order keeps the tables keyed by number fast to build.
using FillFunction = Status (*)(SqliteFile& file, const Population& population,
                                std::span<const Person* const> by_number,
                                const network::Institution& institution);

struct TypeSchema {
  std::string_view type;  // the institution type id of examples/network.toml
  std::string_view tables;
  std::string_view indexes;  // created after the rows are in
  std::span<const ProvideSql> provide;
  std::span<const ApplySql> apply;
  FillFunction fill;

  const ProvideSql* FindProvide(std::string_view data_type) const;
  const ApplySql* FindApply(std::string_view data_type) const;
};

// nullptr for a type the demo has no schema for.
const TypeSchema* FindSchema(std::string_view institution_type);

// Tables every institution has: its outbox and its file declarations, with
// the connector's statements over them.
extern const std::string_view kCommonTables;
extern const std::string_view kOutboxSelect;
extern const std::string_view kOutboxMark;
extern const std::string_view kIntegrationsSelect;
extern const std::string_view kIntegrationsMark;

}  // namespace carrefour::demo::internal
