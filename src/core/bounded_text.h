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
// at most. Bytes that are not UTF-8 (a caller's path or field may hold
// any) become U+FFFD first: the text goes into JSON answers and the audit
// log, which must stay valid UTF-8.
std::string BoundedText(std::string_view text, size_t max_bytes = kMaxMessageBytes);

// `text` with every byte sequence that is not UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF) replaced by U+FFFD.
std::string ValidUtf8(std::string_view text);
// Whether ValidUtf8(text) == text.
bool IsValidUtf8(std::string_view text);

}  // namespace carrefour
