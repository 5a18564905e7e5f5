// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include "store/directory_store.h"
#include "store/mutation_store.h"
#include "store/postgres/pool.h"

namespace carrefour::store::postgres {

// The mutations' storage on PostgreSQL (tables mutation, mutation_feed,
// mutation_block, niss_replacement). Several hub processes may accept and
// read at once: cursors come from each subscriber's counter row, updated in
// the accepting transaction, whose row lock orders the commits
// (docs/mutations.md).
class PostgresMutationStore final : public MutationStore {
 public:
  // `directory`: the same store's directory, told of identity replacements.
  PostgresMutationStore(Pool& pool, DirectoryStore& directory)
      : pool_(pool), directory_(directory) {}

  // What the pool prepares on each connection for this section.
  static std::vector<PreparedStatement> Statements();

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
  Pool& pool_;
  DirectoryStore& directory_;
};

}  // namespace carrefour::store::postgres
