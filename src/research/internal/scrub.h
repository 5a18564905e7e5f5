// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the extract does to every value a provider sends before it is written
// anywhere (docs/research.md): national numbers become the project's
// pseudonyms, direct identifiers inside nested objects are dropped, and the
// result is one text cell.

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/date.h"
#include "research/research.h"

namespace carrefour::research::internal {

// `text` with every national number in it (11 digits, bare or written with
// separators as in "85.07.30-033.28", valid check digits as of `today`)
// replaced by its pseudonym.
std::string ScrubText(std::string_view text, const Pseudonymizer& pseudonyms, Date today);

// `value` with the same replacement in every string, in every integer of 10
// or 11 digits that is a valid number, and without the keys of nested
// objects that are direct identifiers (network::IsDirectIdentifierField).
boost::json::value Scrub(const boost::json::value& value, const Pseudonymizer& pseudonyms,
                         Date today);

// A scrubbed value as one CSV cell: a string as is, a number or boolean in
// JSON form, null as "", an object or list as compact JSON.
std::string CellText(const boost::json::value& value);

}  // namespace carrefour::research::internal
