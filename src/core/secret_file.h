// SPDX-License-Identifier: EUPL-1.2
#pragma once

// One-line secrets kept in a file of the data folder (the audit checkpoint
// key, the research key): read when present, created when absent.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace carrefour {

// The secret in `file` (its first line), which must satisfy `valid`; when
// the file does not exist, `make()` gives a new one, which is written to a
// temporary file of the same folder (mode 0600), flushed to disk, then
// linked to `file`: a crash never leaves `file` empty or half written, and
// when two processes create it at once the loser reads the winner's.
// Errors (kInvalidRequest) name `what` and `file`: a file accessible to the
// group or others, one that exists but cannot be opened (a dangling link, no
// permission), one whose content `valid` refuses.
Result<std::string> LoadOrCreateSecret(const std::filesystem::path& file, std::string_view what,
                                       const std::function<bool(std::string_view)>& valid,
                                       const std::function<Result<std::string>()>& make);

}  // namespace carrefour
