// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Logs of the long-running commands (hub, connector, demo): spdlog's default
// logger, to stdout (the journal under systemd), one line per event, as text
// or as JSON (docs/api.md section 7, docs/operations.md). Start here.
//
//   logging::Setup("json", "info");                 // from --log-format, --log-level
//   spdlog::warn("provider {} failed: {}", id, why);  // plain messages
//   logging::Event(spdlog::level::info, "request",   // structured events: fields
//                  {{"request_id", id}, {"route", "/v1/consultations"}, {"status", "200"}});
//
// Text:  2026-12-06T16:10:00.123Z info request request_id=… route=/v1/consultations status=200
// JSON:  {"time":"2026-12-06T16:10:00.123Z","level":"info","msg":"request","request_id":"…",…}
//
// Writing happens on a background thread: a request thread only formats and
// queues its line. Never log a national number, a name or a payload.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>

#include "core/status.h"

namespace carrefour::logging {

// The values --log-format and --log-level accept.
inline constexpr std::string_view kFormats[] = {"text", "json"};
inline constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error"};

// Makes the default logger write `format` ("text" or "json") at `level` and
// above to stdout. invalid-request for an unknown format or level.
Status Setup(std::string_view format, std::string_view level);

// Flushes and stops the background writer (at exit).
void Shutdown();

using Fields = std::vector<std::pair<std::string_view, std::string>>;

// One structured event: `event` and its fields, as key=value text or as
// JSON members. Values are written as given (quoted in text when they hold
// spaces or quotes; escaped in JSON).
void Event(spdlog::level::level_enum level, std::string_view event, const Fields& fields);

// A store failure met while `doing` something for a caller ("read a
// person's entries"): logged as a "store error" event with the store's
// error, and returned as unavailable (`prefix` + the store's message), the
// answer the caller gets.
Status StoreFailed(std::string_view doing, const Status& error, std::string_view prefix = {});

}  // namespace carrefour::logging
