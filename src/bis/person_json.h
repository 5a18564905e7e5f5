// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The JSON of the register's people, shared by the admin endpoint
// (GET /v1/admin/bis, bis/service.h) and `carrefour bis search --json`.

#include <boost/json/object.hpp>

#include "bis/register.h"

namespace carrefour::bis {

// A person with its identity, who created it, when, and its replacement
// (null when none).
boost::json::object PersonJson(const Person& person);

// A candidate as {"niss", "score", "reasons", "replaced_by"?}.
boost::json::object CandidateJson(const Candidate& candidate);

}  // namespace carrefour::bis
