// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/stretch.h"

#include <algorithm>

namespace carrefour::directory::internal {

std::optional<Period> LatestStretch(std::span<Period> pieces) {
  if (pieces.empty()) return std::nullopt;
  if (pieces.size() == 1) return pieces.front();  // the usual case
  std::sort(pieces.begin(), pieces.end(),
            [](const Period& a, const Period& b) { return a.from < b.from; });
  // Sorted by start, a piece either joins the stretch being built (it
  // touches it) or starts a later one; only the last stretch is kept.
  Period stretch = pieces.front();
  for (const Period& piece : pieces.subspan(1)) {
    if (stretch.Touches(piece)) {
      if (stretch.to && (!piece.to || *piece.to > *stretch.to)) stretch.to = piece.to;
    } else {
      stretch = piece;
    }
  }
  return stretch;
}

}  // namespace carrefour::directory::internal
