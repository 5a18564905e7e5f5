// SPDX-License-Identifier: EUPL-1.2
#pragma once

// JSON text written by hand where a JSON library is not worth its cost (the
// log lines, the feed's deliveries): the one string escaper. Everything else
// writes JSON with Boost.JSON (api/json.h).

#include <string>
#include <string_view>

namespace carrefour {

// Appends `text` as a JSON string literal, quotes included: '"' and '\\'
// escaped, control characters as \n \r \t \b \f or \u00XX, every other
// byte as it is (the text is UTF-8 already).
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace carrefour
