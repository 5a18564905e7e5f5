// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The web console (web/console/: static HTML, CSS and JavaScript modules),
// compiled into the binary so that `carrefour hub` serves it at `/` on its
// admin listener from whatever folder it runs in. Start here; docs/console.md
// describes the pages and the admin endpoints they read.
//
//   if (const console::Asset* asset = console::Lookup(request.path)) ...
//
// The files hold no data: every page fetches /v1/admin/... with the admin
// token, so serving them needs none.

#include <span>
#include <string_view>

namespace carrefour::console {

struct Asset {
  std::string_view path;          // "/index.html", "/js/app.js"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view body;
  std::string_view etag;  // "\"<SHA-256 of the body>\"", computed at build time
};

// The file served at `path`: "/" and "/index.html" are the console's page;
// other paths name a file of web/console/ exactly. nullptr otherwise (no
// path is resolved against a folder, so "..", "//" or "%2e" find nothing).
const Asset* Lookup(std::string_view path);

// Every embedded file, sorted by path.
std::span<const Asset> Assets();

// docs/openapi.yaml as it was at build time: the OpenAPI 3.1 description of
// the API (docs/api.md sections 4 to 6), served at GET /openapi.yaml.
extern const std::string_view kOpenApiYaml;

}  // namespace carrefour::console
