// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The rule of every exchange: an answer leaves only once its audit record is
// durable. The record keeps the SHA-256 of the answer's bytes (so the bytes
// are fixed before the record is); when the record cannot be written, the
// caller is told what `unavailable()` makes (503 unavailable) instead, and
// never the answer that was not traced.
//
//   audit::AuditThenAnswer(log, std::move(record), std::move(reply),
//       [] { return api::ErrorReply(Unavailable("the audit log could not be written")); },
//       std::move(done));
//
// Any reply type with a `body` string fits (api::Reply, net::Response); a
// typed answer whose bytes are written apart (the consultation pipeline's
// Result<ConsultationAnswer>) passes them as `body`. `unavailable` takes no
// argument, or the Status of the failed write (to log it). `done` is called
// once, on the audit writer's thread (keep it short), or on the caller's
// thread for the AndWait form.

#include <string_view>
#include <type_traits>
#include <utility>

#include "audit/audit_log.h"
#include "audit/record.h"
#include "core/status.h"

namespace carrefour::audit {
namespace internal {

template <typename Unavailable>
auto CallUnavailable(Unavailable& unavailable, const Status& written) {
  if constexpr (std::is_invocable_v<Unavailable&, const Status&>) {
    return unavailable(written);
  } else {
    return unavailable();
  }
}

// `record` already holds the answer's hash.
template <typename Reply, typename Unavailable, typename Done>
void AppendThenAnswer(AuditLog& log, Record record, Reply reply, Unavailable unavailable,
                      Done done) {
  log.Append(std::move(record), [reply = std::move(reply), unavailable = std::move(unavailable),
                                 done = std::move(done)](const Status& written) mutable {
    if (!written.ok()) {
      done(internal::CallUnavailable(unavailable, written));
      return;
    }
    done(std::move(reply));
  });
}

}  // namespace internal

// `body`: the bytes the caller receives, hashed into the record before
// `reply` (which may own them) is moved.
template <typename Reply, typename Unavailable, typename Done>
void AuditThenAnswer(AuditLog& log, Record record, std::string_view body, Reply&& reply,
                     Unavailable unavailable, Done done) {
  record.answer_sha256 = Sha256Hex(body);
  internal::AppendThenAnswer(log, std::move(record), std::forward<Reply>(reply),
                             std::move(unavailable), std::move(done));
}

// The bytes are `reply.body`.
template <typename Reply, typename Unavailable, typename Done>
void AuditThenAnswer(AuditLog& log, Record record, Reply reply, Unavailable unavailable,
                     Done done) {
  record.answer_sha256 = Sha256Hex(reply.body);
  internal::AppendThenAnswer(log, std::move(record), std::move(reply), std::move(unavailable),
                             std::move(done));
}

// The same for a handler that answers on its own thread: waits for the
// record, then returns `reply` or `unavailable()`.
template <typename Reply, typename Unavailable>
Reply AuditThenAnswerAndWait(AuditLog& log, Record record, Reply reply, Unavailable unavailable) {
  record.answer_sha256 = Sha256Hex(reply.body);
  if (Status written = log.AppendAndWait(std::move(record)); !written.ok()) {
    return internal::CallUnavailable(unavailable, written);
  }
  return reply;
}

}  // namespace carrefour::audit
