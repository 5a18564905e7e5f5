// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Validation of integrations (docs/api.md section 4.1): what the hub checks in one
// change of a `POST /v1/directory/entries` batch before the store applies it.
// Pure: no I/O; thread-safe.

#include "core/date.h"
#include "core/status.h"
#include "directory/entry.h"
#include "network/model.h"

namespace carrefour::directory {

// Checks and normalizes `change`, sent by `caller` (an institution of
// `definition`, identified by its certificate) on `today` (which decides
// whether a birth in the 2000s is possible in a number):
//   - change->entry.niss becomes the 11 bare digits; invalid-niss with the
//     reason otherwise;
//   - for kAdd, the capacity must be one the caller's type may declare:
//     capacity-not-allowed naming the allowed ones. kClose and kRemove do not
//     check it, so that files declared before a definition change can still
//     be closed or removed (the store answers not-found for what does not
//     exist);
//   - kClose needs the new end (`to`): invalid-request without one;
//   - from <= to: invalid-period otherwise;
//   - change->entry.institution becomes caller.id, whatever the body said:
//     the caller's identity comes from its certificate, never from the body.
// On error `change` may be partly normalized; it must not be applied.
Status ValidateEntryChange(const network::Definition& definition,
                           const network::Institution& caller, Date today, EntryChange* change);

}  // namespace carrefour::directory
