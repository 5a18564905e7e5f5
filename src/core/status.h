// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace carrefour {

// What went wrong, in the vocabulary of docs/api.md section 4. Every error that
// can reach a caller has a code here; SpecCode() gives its wire name and
// HttpStatus() its HTTP status (the one place where that mapping lives).
//
// Do not renumber: codes are stored in the audit log (persistent format).
enum class StatusCode : int {
  kOk = 0,
  // 400
  kInvalidJson = 1,
  kInvalidRequest = 2,
  kInvalidNiss = 3,
  kInvalidPeriod = 4,
  // 403
  kUnknownInstitution = 5,
  kNotIntegrated = 6,
  kNotAuthorized = 7,
  kNotASource = 8,
  kCapacityNotAllowed = 9,
  // 404
  kUnknownDataType = 10,
  kNotFound = 11,
  // 409
  kPossibleDuplicate = 12,
  kAlreadyExists = 13,
  // 413
  kBodyTooLarge = 14,
  // 503 / 504
  kUnavailable = 15,
  kTimeout = 16,
  // 500: a failure of the system itself (storage, I/O, a broken invariant).
  kInternal = 17,
  // 404 no-data: a provider holds nothing for the request (docs/api.md section 5).
  kNoData = 18,
};

// A code and a message a person understands. Cheap to move; an ok Status
// holds no message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid-niss: wrong check digits"
  std::string ToString() const;

  // Prepends context to the message: "line 12: " + message.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

// The wire name of docs/api.md ("not-authorized"); "ok" for kOk.
std::string_view SpecCode(StatusCode code);
// The HTTP status that carries an error of this code (200 for kOk).
int HttpStatus(StatusCode code);

Status InvalidJson(std::string message);
Status InvalidRequest(std::string message);
Status InvalidNiss(std::string message);
Status InvalidPeriod(std::string message);
Status UnknownInstitution(std::string message);
Status NotIntegrated(std::string message);
Status NotAuthorized(std::string message);
Status NotASource(std::string message);
Status CapacityNotAllowed(std::string message);
Status UnknownDataType(std::string message);
Status NotFound(std::string message);
Status PossibleDuplicate(std::string message);
Status AlreadyExists(std::string message);
Status BodyTooLarge(std::string message);
Status Unavailable(std::string message);
Status Timeout(std::string message);
Status Internal(std::string message);
Status NoData(std::string message);

}  // namespace carrefour
