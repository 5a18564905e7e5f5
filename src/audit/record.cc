// SPDX-License-Identifier: EUPL-1.2
#include "audit/record.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "audit/merkle.h"
#include "core/crypto.h"

namespace carrefour::audit {

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kIntegration: return "integration";
    case Kind::kConsultation: return "consultation";
    case Kind::kMutation: return "mutation";
    case Kind::kFeedRead: return "feed-read";
    case Kind::kBis: return "bis";
    case Kind::kResearch: return "research";
    case Kind::kAdmin: return "admin";
    case Kind::kTransparency: return "transparency";
  }
  return "unknown";
}

const std::string& GenesisHash() {
  static const std::string* zeros = new std::string(64, '0');
  return *zeros;
}

std::string Sha256Hex(std::string_view bytes) {
  // On the thread's own digest state: no allocation per answer hashed.
  return ToHex(crypto::Sha256Of(bytes));
}

std::string NewRequestId() {
  unsigned char bytes[16];
  // Without entropy nothing in the hub is safe (keys, ids): stop loudly.
  if (!crypto::RandomBytes(bytes)) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (unsigned char byte : bytes) {
    id.push_back(kHex[byte >> 4]);
    id.push_back(kHex[byte & 0xf]);
  }
  return id;
}

std::string RecordBytes(const Record& record) {
  // Version tag first: a future change of the encoding bumps it, and records
  // written before keep verifying. Do not change: persistent format.
  std::string out;
  out.reserve(512);
  auto field = [&out](std::string_view bytes) {
    // Length-prefixed, so that ("ab","c") and ("a","bc") encode differently.
    char length[24];
    const std::to_chars_result end = std::to_chars(length, length + sizeof length, bytes.size());
    out.append(length, static_cast<size_t>(end.ptr - length));
    out += ':';
    out += bytes;
    out += ';';
  };
  // The same digits as std::to_string, without a string per number.
  auto number = [&field](int64_t value) {
    char digits[24];
    const std::to_chars_result end = std::to_chars(digits, digits + sizeof digits, value);
    field(std::string_view(digits, static_cast<size_t>(end.ptr - digits)));
  };
  field("carrefour-audit-v1");
  field(record.prev_hash);
  field(record.node);
  number(record.seq);
  number(record.time_us);
  number(static_cast<int64_t>(record.kind));
  field(record.request_id);
  field(record.requester);
  field(record.niss);
  field(record.data_type);
  field(record.capacity);
  field(record.legal_basis);
  number(static_cast<int64_t>(record.outcome));
  field(record.reason);
  field(record.providers);
  number(record.latency_us);
  field(record.answer_sha256);
  field(record.detail);
  return out;
}

std::string ChainHash(const Record& record) { return Sha256Hex(RecordBytes(record)); }

Hash LeafHash(const Record& record) { return HashLeaf(RecordBytes(record)); }

RecordHashes HashesOf(const Record& record) {
  const std::string bytes = RecordBytes(record);
  return {Sha256Hex(bytes), HashLeaf(bytes)};
}

}  // namespace carrefour::audit
