// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/result.h"
#include "network/model.h"

namespace carrefour::network {

// Start here: reads a network definition (docs/api.md section 3, the format is
// documented in docs/network-definition.md) and validates all of it: TOML
// syntax, keys, value types, ids, references between elements, capacities,
// fields, periods and endpoints. A Definition comes back only when nothing is
// wrong, so its consumers never re-check what the loader guarantees.
//
// Every problem is reported, not only the first, each as "FILE:LINE: message"
// in file order. Nothing here throws; the functions are thread-safe (they
// share no state).

// One problem found in a definition file.
struct Diagnostic {
  std::string source;  // the file (or the name given to ParseDefinition)
  int line = 0;        // 1-based; 0 when no line applies (an unreadable file)
  std::string message;

  // "FILE:LINE: message", or "FILE: message" when line is 0.
  std::string ToString() const;

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

using Diagnostics = std::vector<Diagnostic>;

// Reads and validates `file`. Errors: not-found when the file does not exist;
// invalid-request when it cannot be read or is not a valid definition, its
// message then holding every Diagnostic, one per line.
Result<Definition> LoadDefinition(const std::filesystem::path& file);

// Validates `toml_text`; `source_name` is the name that messages and
// Definition::source() use (usually the file's path). Errors as
// LoadDefinition (invalid-request).
Result<Definition> ParseDefinition(std::string_view toml_text, std::string source_name);

// The same two, with every problem as a structured Diagnostic (never empty on
// failure), for tools that point at lines (the CLI's --json, tests). An
// unreadable file is one Diagnostic with line 0.
tl::expected<Definition, Diagnostics> LoadDefinitionWithDiagnostics(
    const std::filesystem::path& file);
tl::expected<Definition, Diagnostics> ParseDefinitionWithDiagnostics(std::string_view toml_text,
                                                                     std::string source_name);

// One Status (invalid-request) whose message is the diagnostics' ToString()
// joined by newlines.
Status DiagnosticsToStatus(const Diagnostics& diagnostics);

}  // namespace carrefour::network
