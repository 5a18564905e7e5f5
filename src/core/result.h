// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <utility>

#include <tl/expected.hpp>

#include "core/status.h"

namespace carrefour {

// A value or the Status that explains why there is none. Only the subset of
// tl::expected that std::expected also has is used, so that moving to C++23
// is a one-line change here.
template <typename T>
using Result = tl::expected<T, Status>;

// `return Error(InvalidNiss("..."));` from a function returning Result<T>.
inline tl::unexpected<Status> Error(Status status) {
  return tl::unexpected<Status>(std::move(status));
}

namespace internal {

// Converts to whatever the enclosing function returns (Status or Result<T>),
// so that the macros below work in both.
struct ErrorReturn {
  Status status;
  operator Status() && { return std::move(status); }  // NOLINT: implicit by design
  template <typename T>
  operator Result<T>() && {  // NOLINT: implicit by design
    return tl::unexpected<Status>(std::move(status));
  }
};

}  // namespace internal
}  // namespace carrefour

#define CARREFOUR_CONCAT_INNER_(a, b) a##b
#define CARREFOUR_CONCAT_(a, b) CARREFOUR_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status); returns it from the enclosing function (which
// returns Status or Result<T>) if it is an error.
#define CARREFOUR_RETURN_IF_ERROR(expr)                                \
  do {                                                                 \
    ::carrefour::Status carrefour_status_ = (expr);                    \
    if (!carrefour_status_.ok())                                       \
      return ::carrefour::internal::ErrorReturn{std::move(carrefour_status_)}; \
  } while (0)

// `CARREFOUR_ASSIGN_OR_RETURN(Date d, ParseDate(text));` evaluates `expr` (a
// Result<T>), returns its error, or moves its value into `lhs`.
#define CARREFOUR_ASSIGN_OR_RETURN(lhs, expr) \
  CARREFOUR_ASSIGN_OR_RETURN_IMPL_(CARREFOUR_CONCAT_(carrefour_result_, __LINE__), lhs, expr)
#define CARREFOUR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                                      \
  if (!tmp) return ::carrefour::internal::ErrorReturn{std::move(tmp).error()}; \
  lhs = std::move(*tmp)
