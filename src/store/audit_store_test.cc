// SPDX-License-Identifier: EUPL-1.2
// The audit section of both engines: what is appended is read back byte for
// byte (PostgreSQL sends records by COPY, whose text format escapes).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit/record.h"
#include "audit/storage.h"
#include "store/store.h"
#include "store/testing/store_test_fixture.h"

namespace carrefour::store {
namespace {

class AuditStoreTest : public testing::StoreTest {};

audit::Record RecordWith(int64_t seq, std::string text) {
  audit::Record record;
  record.node = "hub-a";
  record.seq = seq;
  record.prev_hash = std::string(64, '0');
  record.hash = std::string(64, 'f');
  record.time_us = 1'700'000'000'000'000 + seq;
  record.kind = audit::Kind::kMutation;
  record.request_id = "req-" + std::to_string(seq);
  record.requester = "nr";
  record.niss = "85073003328";
  record.data_type = "person.address";
  record.capacity = "";
  record.legal_basis = "ISC/24/001";
  record.outcome = StatusCode::kInvalidRequest;
  record.reason = text;
  record.providers = "mut-100:ISC/24/001";
  record.latency_us = -1;  // never negative in practice; any integer goes through
  record.answer_sha256 = "";
  record.detail = std::move(text);
  return record;
}

TEST_P(AuditStoreTest, RecordsComeBackExactlyWhateverTheirText) {
  std::unique_ptr<Store> store = OpenTestStore();
  ASSERT_NE(store, nullptr);
  // What COPY's text format gives meaning to (tabs, line ends, backslashes,
  // its null marker), quotes, other scripts, and nothing at all.
  const std::vector<std::string> texts = {
      "tab\there", "line\nend\r\n", "back\\slash \\N \\t", "\\N", "quote ' \" ,{}",
      "Liège, Sint-Niklaas, Ελλάδα", "", "a\x01control \x7f"};
  std::vector<audit::Record> records;
  for (size_t i = 0; i < texts.size(); ++i) {
    records.push_back(RecordWith(static_cast<int64_t>(i + 1), texts[i]));
  }
  ASSERT_TRUE(store->audit().AppendAudit(records, audit::Checkpoint{}).ok());
  Result<std::vector<audit::Record>> read = store->audit().ReadAudit("hub-a", 1, 100);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  ASSERT_EQ(read->size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ((*read)[i], records[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(Engines, AuditStoreTest, testing::AllEngines(),
                         testing::EngineTestName);

}  // namespace
}  // namespace carrefour::store
