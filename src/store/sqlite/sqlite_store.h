// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace carrefour::store::sqlite {

// The SQLite engine: `path` is a file (created with its schema if missing).
// Use OpenStore("sqlite:PATH") rather than this.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const Clock& clock);

}  // namespace carrefour::store::sqlite
