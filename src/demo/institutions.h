// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The demo network's institutions, each as it would run in real life: its
// own SQLite database (its own schema, filled from the population) and a
// connector configured by TOML only (docs/connector.md). Nothing here is
// special-cased in the hub or the connector: they see ordinary institutions.
//
//   demo::InstitutionsLayout layout{.dir = data / "institutions", .pki_dir = data / "pki",
//                                   .hub_url = "https://127.0.0.1:8443"};
//   layout.listen["nr"] = {.provide = "127.0.0.1:9101", .admin = "127.0.0.1:9201"};
//   ...
//   Status written = demo::WriteInstitutions(population, definition, layout);
//   // then: carrefour connector --config DIR/nr/connector.toml, ...
//
// Which data types an institution answers, and which changes it applies,
// come from the network definition (availability and subscriptions of its
// type or of itself); the SQL for each comes from the demo's schema of its
// institution type (src/demo/internal/schemas.cc).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "demo/population.h"
#include "network/model.h"

namespace carrefour::demo {

struct InstitutionListen {
  std::string provide;  // HOST:PORT of the provide endpoint (required when it provides)
  std::string admin = "127.0.0.1:0";  // HOST:PORT of the admin listener; "" for none
};

struct InstitutionsLayout {
  std::filesystem::path dir;                        // DIR/<id>/<id>.db and DIR/<id>/connector.toml
  std::filesystem::path pki_dir;                    // <id>.crt, <id>.key and ca.crt
  std::string hub_url;                              // https://HOST:PORT of the hub's API
  std::map<std::string, InstitutionListen> listen;  // per institution id
  // How quickly changes travel: the feed's long poll, the outbox and
  // integration polls. Short by default: a demo is watched.
  int feed_wait_seconds = 20;
  int outbox_poll_ms = 200;
  int integrations_poll_ms = 500;
};

// For every institution of `definition`, writes DIR/<id>/<id>.db (replacing
// an existing one; built under a temporary name in one transaction and
// renamed, so a failure never leaves a half-written database) and
// DIR/<id>/connector.toml with:
//   [provide]       a query per data type the availability assigns to its
//                   type, period-aware (:from, :to), columns named as the
//                   data type's fields;
//   [feed]          an apply statement per data type it is subscribed to;
//   [outbox]        its carrefour_outbox table (the changes it publishes);
//   [integrations]  its file_declaration table, filled with every file it
//                   holds (DirectoryEntries), so that its connector declares
//                   them to the hub itself.
// The national register holds identity, address, household, death and
// number replacements for every person who is not BIS.
// Errors: invalid-request for an institution type the demo has no schema
// for, a data type its schema cannot answer or apply, or a missing provide
// address; internal for a database or file that cannot be written.
Status WriteInstitutions(const Population& population, const network::Definition& definition,
                         const InstitutionsLayout& layout);

// How many directory entries `institution` declares through its connector:
// the count to wait for before the directory is complete.
size_t DirectoryEntryCount(const Population& population, std::string_view institution);

// The same for every institution with files, by id.
std::map<std::string, size_t> DirectoryEntryCounts(const Population& population);

// The database and configuration WriteInstitutions writes for `institution`.
std::filesystem::path DatabasePath(const InstitutionsLayout& layout, std::string_view institution);
std::filesystem::path ConnectorConfigPath(const InstitutionsLayout& layout,
                                          std::string_view institution);

}  // namespace carrefour::demo
