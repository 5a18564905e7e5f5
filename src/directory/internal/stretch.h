// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <optional>
#include <span>

#include "core/date.h"

namespace carrefour::directory::internal {

// The latest stretch of the union of `pieces`: periods that overlap or touch
// (one ends the day before the next starts) merge into one stretch, and of
// the stretches that remain apart, the one that starts last is returned.
// nullopt when `pieces` is empty. Reorders `pieces` (sorts them by start),
// which is why it takes them mutable: the caller's scratch buffer, no copy.
std::optional<Period> LatestStretch(std::span<Period> pieces);

}  // namespace carrefour::directory::internal
