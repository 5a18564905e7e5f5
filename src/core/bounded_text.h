// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace carrefour {

// The most bytes of a message that leaves the process or is kept: an error
// answer's message, an audit record's reason. Messages quote what callers
// sent (unknown fields, names), and a caller controls how much that is.
inline constexpr size_t kMaxMessageBytes = 2048;

// `text` when it fits in `max_bytes`; otherwise its first bytes (never
// cutting a UTF-8 character) and " ... (N more bytes)", `max_bytes` in all
// at most.
std::string BoundedText(std::string_view text, size_t max_bytes = kMaxMessageBytes);

}  // namespace carrefour
