// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Beast-free text helpers shared by the server and the client (and unit
// tested on their own): request-target decoding.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace carrefour::net::internal {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as HTML forms
// encode query strings). nullopt for a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "/a%20b?x=1&y" into path "/a b" and query {{"x","1"},{"y",""}}.
// Errors: kInvalidRequest (not origin-form, bad escape).
Status ParseTarget(std::string_view target, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query);

}  // namespace carrefour::net::internal
