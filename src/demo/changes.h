// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the institutions' own applications do when something happens: change
// their tables and, in the same transaction, write the change to their
// outbox (carrefour_outbox), which their connector then publishes to the hub
// (docs/connector.md). For the demo's traffic and scenarios: a move, a death,
// a number replaced, new wages. The databases are those WriteInstitutions
// wrote (DatabasePath); their connectors may be running.
//
// Each function is one transaction: all of it or nothing. Errors: not-found
// when the person is not in that database, invalid-request for a change
// that contradicts it (a second death, a number already in use),
// unavailable when the database is locked too long, internal otherwise.

#include <filesystem>
#include <string_view>

#include "core/date.h"
#include "core/status.h"
#include "demo/population.h"

namespace carrefour::demo {

// The national register records that `niss` lives at `address` from
// `effective` (the previous address ends the day before) and publishes
// person.address.
Status RecordMove(const std::filesystem::path& register_db, std::string_view niss,
                  const Address& address, Date effective);

// The national register records the death of `niss` (its address and
// household membership end that day) and publishes person.death.
Status RecordDeath(const std::filesystem::path& register_db, std::string_view niss, Date date,
                   std::string_view municipality);

// The national register replaces `old_niss` by `new_niss` (a corrected
// birth date...) and publishes person.niss-replaced on the old number.
Status RecordNissReplacement(const std::filesystem::path& register_db, std::string_view old_niss,
                             std::string_view new_niss, Date effective);

// The national register registers a person known so far by a BIS number (a
// frontier worker settling in Belgium) under `new_niss` (for instance the
// person's reserved_niss), living at `address` from `effective`, and
// publishes person.niss-replaced on the BIS number.
Status RecordRegistration(const std::filesystem::path& register_db, const Person& person,
                          std::string_view new_niss, const Address& address, Date effective);

// The contribution collector records wages declared for `niss` (an existing
// worker) and publishes employment.wages.
Status RecordWages(const std::filesystem::path& collector_db, std::string_view niss,
                   std::string_view employer_id, const QuarterlyWage& wage, Date effective);

}  // namespace carrefour::demo
