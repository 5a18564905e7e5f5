// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <span>

#include "store/internal/migration.h"

namespace carrefour::store::sqlite {

// The SQLite schema's history, oldest first (see internal/migration.h).
std::span<const internal::Migration> Migrations();

}  // namespace carrefour::store::sqlite
