// SPDX-License-Identifier: EUPL-1.2
#pragma once

// An endpoint's answer before it is an HTTP response: its status and JSON
// body. The services above api (bis, mutations, transparency, the research
// jobs) answer with it; the hub turns it into a net::Response. Kept apart
// from json.h so that the services' headers need no JSON library.

#include <string>

#include "core/status.h"

namespace carrefour::api {

struct Reply {
  int status = 200;
  std::string body;  // JSON
};

// HttpStatus(status.code()) and the error body of docs/api.md
// (api::ErrorBody(status)).
Reply ErrorReply(const Status& status);

}  // namespace carrefour::api
