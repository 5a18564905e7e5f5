// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The JSON of consultations at the edge (docs/api.md sections 4.2 and 4.5):
// reading a caller's body into a typed request, writing typed answers. The
// hub calls these around the typed ConsultationService; nothing else in the
// pipeline reads or writes the caller's JSON.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "directory/decision.h"
#include "exchange/consultation.h"

namespace carrefour::exchange {

// Reads a §4.2 body into `request` (requester left as is; the number
// normalized with `today`). On an error, `request` keeps what was read
// before it, for the audit record of the refusal.
Status ReadConsultationRequest(std::string_view body, Date today,
                               directory::ConsultationRequest* request);

// Reads a §4.5 body: {"consultations": [<a §4.2 body>, ...]}. The whole
// batch is refused (invalid-json, invalid-request: not a list, more than
// kMaxConsultationsPerBatch items); an item that cannot be read is an item
// whose `read` is the error.
Result<std::vector<BatchItem>> ReadBatch(std::string_view body, Date today);

// The §4.2 answer (status 200 or 503).
std::string WriteAnswer(const ConsultationAnswer& answer);

// The provide request (docs/api.md section 5) for `answer`'s consultation: its
// request id, data type, number, served period and legal basis, the fields
// to ask for, and the requester.
std::string WriteProvideRequest(const ConsultationAnswer& answer, std::span<const std::string> fields,
                                std::string_view requester);

// HTTP status and body of one consultation's outcome.
int HttpStatusOf(const Result<ConsultationAnswer>& outcome);
// Takes the answer's body (or writes the refusal's).
std::string BodyOf(Result<ConsultationAnswer>&& outcome);

// {"results": [{"index": i, "http_status": s, ...the single answer's fields}]}
std::string WriteBatchAnswer(const std::vector<Result<ConsultationAnswer>>& outcomes);

}  // namespace carrefour::exchange
