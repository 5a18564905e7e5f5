// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The BIS register (DESIGN.md element 5, docs/api.md sections 1 and 4.4): the
// one identity register the hub owns. People the National Register does not
// know get a BIS number that the hub assigns and keeps. Start here; the
// reasoning and the figures are in docs/bis.md.
//
// The parts, bottom to top:
//
//   bis/identity.h  Identity and BirthDate (unknown parts), their JSON form
//   bis/names.h     folding, particles, a phonetic key for Dutch, French and
//                   German names, Jaro-Winkler
//   bis/matcher.h   how alike two identities are (score and reasons), and
//                   the blocking keys that find candidates in a large register
//   bis/register.h  Register: duplicate detection and number assignment in
//                   one serialized transaction, look-up, search, update
//   bis/person_json.h  a person and a candidate as the admin endpoint and
//                   `carrefour bis search --json` write them
//
// That is the register (library carrefour::bis): low, beside niss and the
// store, with no HTTP, audit or consultation pipeline. Its API is a separate
// library on top of exchange and mutations (carrefour::bis_service):
//
//   bis/service.h   Service: the API (POST /v1/bis, PUT /v1/bis/{niss},
//                   POST /v1/bis/{niss}/replacement, GET /v1/admin/bis), the
//                   audit records, the mutations it publishes, and the local
//                   provider of person.identity for BIS numbers
//
//   store::BisStore (store/bis_store.h) keeps persons, keys and the number
//   blocks' counters, on SQLite or PostgreSQL.
//
// Who may write is in the network definition ([bis_register] and
// [[bis_authorization]], docs/network-definition.md).

#include "bis/identity.h"
#include "bis/matcher.h"
#include "bis/names.h"
#include "bis/person_json.h"
#include "bis/register.h"
