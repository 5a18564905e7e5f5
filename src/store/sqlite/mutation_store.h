// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include "store/directory_store.h"
#include "store/mutation_store.h"
#include "store/sqlite/database.h"

namespace carrefour::store::sqlite {

// The mutations' storage on SQLite (tables mutation, mutation_feed,
// mutation_block, niss_replacement). One writer at a time (Database), so
// per-subscriber cursors are trivially in commit order.
class SqliteMutationStore final : public MutationStore {
 public:
  // `directory`: the same store's directory, told of identity replacements.
  SqliteMutationStore(Database& database, DirectoryStore& directory)
      : database_(database), directory_(directory) {}

  // MutationStore
  Result<std::vector<bool>> AcceptMutations(std::span<const NewMutation> mutations,
                                            int64_t now_us, const AuditTrail& trail,
                                            std::span<const FeedAck> acks) override;
  Result<std::vector<Delivery>> DeliveriesAfter(std::string_view subscriber, int64_t after,
                                                size_t limit) override;
  Result<bool> HasDeliveriesAfter(std::string_view subscriber, int64_t cursor) override;
  Result<PurgeCounts> Purge(int64_t cutoff_us) override;
  Result<std::vector<FeedBacklog>> Backlog() override;
  Result<std::vector<PendingDelivery>> PendingDeliveriesOf(std::string_view niss,
                                                           size_t limit) override;
  Result<std::optional<NissReplacement>> ReplacementOf(std::string_view niss) override;

 private:
  Database& database_;
  DirectoryStore& directory_;
};

}  // namespace carrefour::store::sqlite
