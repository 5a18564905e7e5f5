// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/merkle.h"
#include "core/status.h"

namespace carrefour::audit {

// What an audit record is about.
// Do not renumber: persistent format (stored in every audit record).
enum class Kind : int {
  kIntegration = 0,   // a directory integration batch (docs/api.md 4.1)
  kConsultation = 1,  // a consultation, answered or refused (docs/api.md 4.2)
  kMutation = 2,      // a mutation accepted or rejected (docs/api.md 4.3)
  kFeedRead = 3,      // a feed read by a subscriber (docs/api.md 4.3)
  kBis = 4,           // an operation on the BIS register (docs/api.md 4.4); a creation
                      // forced despite possible duplicates has reason "assigned despite
                      // possible duplicates (forced)", detail "forced=true candidates=..."
  kResearch = 5,      // a research extract
  kAdmin = 6,         // an administrative act (reload, ...)
  kTransparency = 7,  // a citizen's transparency view read by a portal (docs/api.md 4.6)
};

// "consultation", "integration", ...; "unknown" for a value this binary does
// not know (a newer writer).
const char* KindName(Kind kind);

// One entry of the audit log. Never holds substantive personal data: the
// person's number, the data type and the decision, but of an answer only its
// SHA-256.
struct Record {
  // Set by the log when the record is appended:
  std::string node;       // the hub node whose chain this record is in
  int64_t seq = 0;        // 1, 2, 3... within the node's chain
  std::string prev_hash;  // hex SHA-256 of the previous record (64 zeros first)
  std::string hash;       // hex SHA-256 over prev_hash and the fields below

  // Set by the caller:
  int64_t time_us = 0;  // microseconds since the Unix epoch
  Kind kind = Kind::kConsultation;
  std::string request_id;
  std::string requester;  // institution id (the certificate's CN)
  std::string niss;       // the person, when there is one
  std::string data_type;
  std::string capacity;
  std::string legal_basis;
  StatusCode outcome = StatusCode::kOk;  // kOk = granted/answered; else why not
  std::string reason;                    // refusal message, or a short summary
  std::string providers;                 // "inst:ok,inst2:error" — who was asked, how it went
  int64_t latency_us = 0;
  std::string answer_sha256;  // hex, of the answer body; empty when none
  std::string detail;         // kind-specific summary ("entries=120 rejected=2")

  friend bool operator==(const Record&, const Record&) = default;
};

// The record's bytes: every field but `hash` itself, in an unambiguous
// length-prefixed encoding ("<length>:<bytes>;" per field, numbers in
// decimal), tagged "carrefour-audit-v1" (docs/transparency.md spells it out).
std::string RecordBytes(const Record& record);

// The hex SHA-256 of RecordBytes: links `record` to `prev_hash`.
std::string ChainHash(const Record& record);

// The record's leaf in its node's Merkle tree (docs/api.md 6.1): SHA-256(0x00 ||
// RecordBytes). Its index in the tree is seq - 1.
Hash LeafHash(const Record& record);

// Both, from one encoding of the record (for whoever needs the two).
struct RecordHashes {
  std::string chain;  // ChainHash
  Hash leaf;          // LeafHash
};
RecordHashes HashesOf(const Record& record);

// 64 zeros: the prev_hash of the first record of a chain.
const std::string& GenesisHash();

// Hex SHA-256 of arbitrary bytes (answers are recorded by this digest only).
std::string Sha256Hex(std::string_view bytes);

// A fresh request id for a record: 32 hex digits from the system's CSPRNG.
std::string NewRequestId();

}  // namespace carrefour::audit
