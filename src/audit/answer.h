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
// Any reply type with a `body` string fits (api::Reply, net::Response).
// `done` is called once, on the audit writer's thread (keep it short), or
// on the caller's thread for the AndWait form.

#include <utility>

#include "audit/audit_log.h"
#include "audit/record.h"
#include "core/status.h"

namespace carrefour::audit {

template <typename Reply, typename Unavailable, typename Done>
void AuditThenAnswer(AuditLog& log, Record record, Reply reply, Unavailable unavailable,
                     Done done) {
  record.answer_sha256 = Sha256Hex(reply.body);
  log.Append(std::move(record), [reply = std::move(reply), unavailable = std::move(unavailable),
                                 done = std::move(done)](const Status& written) mutable {
    if (!written.ok()) {
      done(unavailable());
      return;
    }
    done(std::move(reply));
  });
}

// The same for a handler that answers on its own thread: waits for the
// record, then returns `reply` or `unavailable()`.
template <typename Reply, typename Unavailable>
Reply AuditThenAnswerAndWait(AuditLog& log, Record record, Reply reply, Unavailable unavailable) {
  record.answer_sha256 = Sha256Hex(reply.body);
  if (!log.AppendAndWait(std::move(record)).ok()) return unavailable();
  return reply;
}

}  // namespace carrefour::audit
