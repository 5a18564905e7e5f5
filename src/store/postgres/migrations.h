// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <span>

#include "store/internal/migration.h"

namespace carrefour::store::postgres {

// The PostgreSQL schema's history, oldest first (see internal/migration.h).
std::span<const internal::Migration> Migrations();

}  // namespace carrefour::store::postgres
