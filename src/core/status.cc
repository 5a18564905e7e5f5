// SPDX-License-Identifier: EUPL-1.2
#include "core/status.h"

namespace carrefour {

std::string_view SpecCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidJson: return "invalid-json";
    case StatusCode::kInvalidRequest: return "invalid-request";
    case StatusCode::kInvalidNiss: return "invalid-niss";
    case StatusCode::kInvalidPeriod: return "invalid-period";
    case StatusCode::kUnknownInstitution: return "unknown-institution";
    case StatusCode::kNotIntegrated: return "not-integrated";
    case StatusCode::kNotAuthorized: return "not-authorized";
    case StatusCode::kNotASource: return "not-a-source";
    case StatusCode::kCapacityNotAllowed: return "capacity-not-allowed";
    case StatusCode::kUnknownDataType: return "unknown-data-type";
    case StatusCode::kNotFound: return "not-found";
    case StatusCode::kPossibleDuplicate: return "possible-duplicate";
    case StatusCode::kAlreadyExists: return "already-exists";
    case StatusCode::kBodyTooLarge: return "body-too-large";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kTimeout: return "timeout";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kNoData: return "no-data";
  }
  return "internal";
}

int HttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidJson:
    case StatusCode::kInvalidRequest:
    case StatusCode::kInvalidNiss:
    case StatusCode::kInvalidPeriod: return 400;
    case StatusCode::kUnknownInstitution:
    case StatusCode::kNotIntegrated:
    case StatusCode::kNotAuthorized:
    case StatusCode::kNotASource:
    case StatusCode::kCapacityNotAllowed: return 403;
    case StatusCode::kUnknownDataType:
    case StatusCode::kNotFound:
    case StatusCode::kNoData: return 404;
    case StatusCode::kPossibleDuplicate:
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kBodyTooLarge: return 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kTimeout: return 504;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(SpecCode(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

#define CARREFOUR_STATUS_FACTORY(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }

CARREFOUR_STATUS_FACTORY(InvalidJson, kInvalidJson)
CARREFOUR_STATUS_FACTORY(InvalidRequest, kInvalidRequest)
CARREFOUR_STATUS_FACTORY(InvalidNiss, kInvalidNiss)
CARREFOUR_STATUS_FACTORY(InvalidPeriod, kInvalidPeriod)
CARREFOUR_STATUS_FACTORY(UnknownInstitution, kUnknownInstitution)
CARREFOUR_STATUS_FACTORY(NotIntegrated, kNotIntegrated)
CARREFOUR_STATUS_FACTORY(NotAuthorized, kNotAuthorized)
CARREFOUR_STATUS_FACTORY(NotASource, kNotASource)
CARREFOUR_STATUS_FACTORY(CapacityNotAllowed, kCapacityNotAllowed)
CARREFOUR_STATUS_FACTORY(UnknownDataType, kUnknownDataType)
CARREFOUR_STATUS_FACTORY(NotFound, kNotFound)
CARREFOUR_STATUS_FACTORY(PossibleDuplicate, kPossibleDuplicate)
CARREFOUR_STATUS_FACTORY(AlreadyExists, kAlreadyExists)
CARREFOUR_STATUS_FACTORY(BodyTooLarge, kBodyTooLarge)
CARREFOUR_STATUS_FACTORY(Unavailable, kUnavailable)
CARREFOUR_STATUS_FACTORY(Timeout, kTimeout)
CARREFOUR_STATUS_FACTORY(Internal, kInternal)
CARREFOUR_STATUS_FACTORY(NoData, kNoData)

#undef CARREFOUR_STATUS_FACTORY

}  // namespace carrefour
