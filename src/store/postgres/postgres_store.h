// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace carrefour::store::postgres {

// The PostgreSQL engine: `url` is a libpq connection URL. Use
// OpenStore("postgresql://...") rather than this.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, const Clock& clock);

}  // namespace carrefour::store::postgres
